"""``POST /api/v1/surveys``: satisfaction survey answers (满意度回访) from a survey system.

The body is JSON ``{"rows": [{call_external_id, survey_id, rating, answered_at, channel}]}``
or the same CSV as ``qa surveys import`` (``Content-Type: text/csv``). Each row is checked on
its own (``qa_platform.services.surveys``); the answer lists every row's outcome.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from qa_platform.domain.errors import QaError
from qa_platform.services.surveys import COLUMNS, MAX_BYTES, import_surveys, read_survey_csv
from web.api import bp
from web.api_spec import OPENAPI
from web.i18n import current_lang
from web.policy import json_error, policy, user
from web.views import platform

MAX_JSON_ROWS = 10_000


@bp.post("/surveys")
@policy(roles=("admin", "supervisor"))
def surveys_import() -> Any:
    """Import survey answers; 200 with per-row results (rejected rows say why)."""
    if (request.content_length or 0) > MAX_BYTES:
        return json_error(413, f"the body is over {MAX_BYTES // (1024 * 1024)} MiB")
    lang = current_lang()
    if request.mimetype == "text/csv":
        try:
            rows: list[Any] = read_survey_csv(request.get_data(cache=False))
        except QaError as exc:
            return json_error(400, exc.localized(lang))
    else:
        body = request.get_json(silent=True)
        given = body.get("rows") if isinstance(body, dict) else None
        if not isinstance(given, list) or not given:
            return json_error(400, 'JSON body {"rows": [...]} (a non-empty list) is required')
        rows = given
        if len(rows) > MAX_JSON_ROWS:
            return json_error(400, f"at most {MAX_JSON_ROWS} rows per request")
        if not all(isinstance(r, dict) for r in rows):
            return json_error(400, "every row must be an object")
        unknown = sorted({k for r in rows for k in r} - set(COLUMNS))
        if unknown:
            return json_error(400, f"unknown fields {unknown[:5]}; allowed: {list(COLUMNS)}")
    done = import_surveys(platform(), rows, actor=user().actor)
    return jsonify(done.to_dict(lang))


_ROW = {
    "type": "object",
    "required": ["call_external_id", "survey_id", "rating", "answered_at"],
    "properties": {
        "call_external_id": {"type": "string", "maxLength": 128},
        "survey_id": {"type": "string", "maxLength": 128},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "answered_at": {"type": "string", "format": "date-time"},
        "channel": {
            "type": "string",
            "enum": ["sms", "ivr", "wechat", "app", "email", "phone", "other"],
        },
    },
    "additionalProperties": False,
}
OPENAPI["paths"]["/surveys"] = {
    "post": {
        "summary": "Import satisfaction survey answers (per-row results)",
        "description": "roles: admin, supervisor; token scope write",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["rows"],
                        "properties": {
                            "rows": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": MAX_JSON_ROWS,
                                "items": _ROW,
                            }
                        },
                    }
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"},
        },
    }
}
