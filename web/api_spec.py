"""The OpenAPI 3.0 document of ``/api/v1``: every operation, parameter and response schema,
errors included. Served at ``/api/v1/openapi.json``; ``tests/web/test_api_schemathesis.py``
checks the running app against it, ``test_access_matrix`` that its paths are the URL map's.
"""

from __future__ import annotations

from typing import Any

from qa_platform.domain.calls import METADATA_FIELDS, CallStatus
from qa_platform.queries.work_queues import ALL_STATES
from scoring.reports import KIND_NAMES
from web.api_params import DEFAULT_LIMIT, MAX_LIMIT


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _err(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": "#/components/responses/Error"} for c in codes}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    }


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
N_STR = {"type": "string", "nullable": True}
N_INT = {"type": "integer", "nullable": True}
N_NUM = {"type": "number", "nullable": True}
N_BOOL = {"type": "boolean", "nullable": True}
N_TIME = {"type": "string", "format": "date-time", "nullable": True}
OBJ = {"type": "object"}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _list_of(key: str, item: str) -> dict[str, Any]:
    return _obj(
        [key, "next_cursor"],
        **{key: {"type": "array", "items": _ref(item)}},
        next_cursor={
            "type": "string",
            "nullable": True,
            "description": "pass as `cursor` for the next page; null on the last page",
        },
    )


SCHEMAS: dict[str, Any] = {
    "Error": _obj(["error", "status"], error=STR, status=INT),
    "CallRow": _obj(
        ["id", "started_at", "status", "score"],
        id=INT,
        external_id=N_STR,
        started_at={"type": "string", "format": "date-time"},
        agent_code=N_STR,
        team=N_STR,
        direction=N_STR,
        business_type=N_STR,
        duration_s=N_NUM,
        status={"type": "string", "enum": [str(s) for s in CallStatus]},
        score={**N_NUM, "description": "highest total the caller may see, or null"},
    ),
    "CallStatus": _obj(
        ["id", "status"],
        id=INT,
        external_id=N_STR,
        agent=N_STR,
        team=N_STR,
        direction=N_STR,
        business_type=N_STR,
        started_at=N_STR,
        status=STR,
        error=N_STR,
        duration_s=N_NUM,
        channels=N_INT,
        sample_rate=N_INT,
        audio_format=N_STR,
    ),
    "Segment": _obj(
        ["speaker", "role", "start", "end", "text"],
        speaker=STR,
        role=STR,
        start=NUM,
        end=NUM,
        text={**STR, "description": "personal data masked"},
        confidence=N_NUM,
        unreliable={**N_STR, "description": "why the span is unreliable (ASR), or null"},
    ),
    "Flag": _obj(
        ["type", "severity"],
        type=STR,
        severity=STR,
        role=N_STR,
        start=N_NUM,
        end=N_NUM,
        evidence=N_STR,
        rule_set_version=N_STR,
        evidence_key=N_STR,
        evidence_params=OBJ,
    ),
    "EvaluationRow": _obj(
        ["id", "call_id", "state"],
        id=INT,
        call_id=INT,
        state={"type": "string", "enum": list(ALL_STATES)},
        stream=N_STR,
        total=N_NUM,
        passed=N_BOOL,
        row_version=INT,
        agent=STR,
        inspector=STR,
        started_at=N_TIME,
        duration_s=N_NUM,
        business_type=N_STR,
        appeal_deadline=N_TIME,
    ),
    "Evaluation": _obj(
        ["evaluation_id", "call_id", "state", "versions", "appeals"],
        evaluation_id=INT,
        call_id=INT,
        agent_id=N_INT,
        inspector_id=N_INT,
        state=STR,
        row_version=INT,
        stream=N_STR,
        scorecard=OBJ,
        published_at=N_TIME,
        appeal_deadline=N_TIME,
        total=N_NUM,
        passed=N_BOOL,
        current_version=N_INT,
        draft={"type": "object", "nullable": True},
        versions={"type": "array", "items": OBJ},
        appeals={"type": "array", "items": OBJ},
    ),
    "Appeal": _obj(
        ["id", "evaluation_id", "call_id", "number", "filed_at", "decision"],
        id=INT,
        evaluation_id=INT,
        call_id=INT,
        number=INT,
        filed_by=N_INT,
        filed_at=N_TIME,
        reason=STR,
        disputed_items={"type": "array", "items": STR},
        reviewer_id=N_INT,
        decision={"type": "string", "nullable": True, "enum": ["upheld", "revised", None]},
        decided_by=N_INT,
        decided_at=N_TIME,
        note=N_STR,
        resulting_version=N_INT,
    ),
    "Report": _obj(
        ["id", "kind", "period_label", "period_start", "period_end", "version", "published"],
        id=INT,
        kind=STR,
        period_label=STR,
        period_start={"type": "string", "format": "date"},
        period_end={"type": "string", "format": "date"},
        version=INT,
        status=N_STR,
        published={"type": "boolean"},
        published_by=N_INT,
        published_at=N_TIME,
        created_at=N_TIME,
        created_by=N_STR,
        inputs={"nullable": True},
        changes={"nullable": True},
    ),
    "IngestResult": _obj(
        ["file", "call_id", "status"], file=STR, call_id=N_INT, status=STR, error=N_STR
    ),
    "SurveyImport": _obj(["counts", "rows"], counts=OBJ, rows={"type": "array", "items": OBJ}),
}

LIMIT = _q(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    f"rows per page, 1..{MAX_LIMIT}",
)
CURSOR = _q(
    "cursor", {"type": "string", "maxLength": 200}, "next_cursor of the page before (opaque)"
)
PERIOD = [
    _q(
        "from",
        {"type": "string", "format": "date"},
        "from this day (YYYY-MM-DD or an ISO date-time; centre time zone)",
    ),
    _q(
        "to",
        {"type": "string", "format": "date"},
        "through this day (a date-time: up to it, exclusive)",
    ),
]
AGENT = _q("agent", {"type": "string", "maxLength": 64}, "agent code (工号)")


def _op(
    summary: str,
    roles: str,
    ok: dict[str, Any],
    params: list[dict[str, Any]] | None = None,
    errors: tuple[int, ...] = (401, 404),
    code: str = "200",
) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": f"roles: {roles}",
        "parameters": params or [],
        "responses": {code: ok, **_err(*errors)},
    }


_ANY = "admin, supervisor, inspector, agent (scoped like the pages)"
_LIST_ERRORS = (400, 401, 403)
_UPLOAD = _op(
    "Upload a recording, or a chat transcript (.jsonl: one JSON message per line), with metadata",
    "admin, supervisor; token scope write",
    _json(_ref("IngestResult"), "Created"),
    errors=(400, 401, 403, 413),
    code="201",
) | {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "audio, or a chat (网络对话) as JSON lines (.jsonl)",
                        },
                        **{k: {"type": "string"} for k in METADATA_FIELDS},
                    },
                }
            }
        },
    }
}
_UPLOAD["responses"]["200"] = _json(_ref("IngestResult"), "Already stored (duplicate)")

_CALLS = _op(
    "List calls (通话检索), newest first",
    _ANY,
    _json(_list_of("calls", "CallRow")),
    [
        *PERIOD,
        AGENT,
        _q("team", {"type": "string", "maxLength": 100}, "agent team name"),
        _q("flag", {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"}, "has a flag of this type"),
        _q("status", {"type": "string", "enum": [str(s) for s in CallStatus]}, "call status"),
        _q("score_min", {"type": "number", "minimum": 0, "maximum": 100}, "lowest total"),
        _q("score_max", {"type": "number", "minimum": 0, "maximum": 100}, "highest total"),
        _q("text", {"type": "string", "maxLength": 100}, "words in the transcript"),
        LIMIT,
        CURSOR,
    ],
    _LIST_ERRORS,
)
_EVALUATIONS = _op(
    "List evaluations, newest first",
    _ANY,
    _json(_list_of("evaluations", "EvaluationRow")),
    [
        {
            "name": "status",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": True,
            "schema": {"type": "array", "items": {"type": "string", "enum": list(ALL_STATES)}},
            "description": "evaluation states (repeat the parameter for several)",
        },
        *PERIOD,
        AGENT,
        LIMIT,
        CURSOR,
    ],
    _LIST_ERRORS,
)
_REPORTS = _op(
    "List stored report snapshots, newest first",
    "admin, supervisor (every version); inspector, agent (published)",
    _json(_list_of("reports", "Report")),
    [
        _q("kind", {"type": "string", "enum": [str(k) for k in KIND_NAMES]}, "report kind"),
        LIMIT,
        CURSOR,
    ],
    _LIST_ERRORS,
)
_DOWNLOAD = _op(
    "Download a report as CSV, XLSX or PDF",
    "admin, supervisor; inspector, agent (published; agents: centre and own line)",
    {
        "description": "The report file",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    [
        _path("snapshot_id"),
        _q(
            "format",
            {"type": "string", "enum": ["csv", "xlsx", "pdf"], "default": "csv"},
            "file format",
        ),
    ],
    (400, 401, 403, 404),
)


def _one(summary: str, schema: dict[str, Any], arg: str) -> dict[str, Any]:
    return _op(summary, _ANY, _json(schema), [_path(arg)], (401, 403, 404))


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "QA platform API",
        "version": "1.1.0",
        "description": 'Call quality inspection (质检). Errors: {"error": message, "status": code}. '
        "Lists page with an opaque cursor: pass `next_cursor` back as `cursor`.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}, {"session": []}],
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "qa_session"},
        },
        "schemas": SCHEMAS,
        "responses": {"Error": _json(_ref("Error"), "Error")},
    },
    "paths": {
        "/openapi.json": {
            "get": _op("This document", "public", _json(OBJ), errors=()) | {"security": []}
        },
        "/calls": {"get": _CALLS, "post": _UPLOAD},
        "/calls/{call_id}": {"get": _one("Call status", _ref("CallStatus"), "call_id")},
        "/calls/{call_id}/transcript": {
            "get": _one(
                "Masked transcript",
                _obj(
                    ["call_id", "segments"],
                    call_id=INT,
                    segments={"type": "array", "items": _ref("Segment")},
                ),
                "call_id",
            )
        },
        "/calls/{call_id}/flags": {
            "get": _one(
                "Flags with evidence",
                _obj(
                    ["call_id", "flags"],
                    call_id=INT,
                    flags={"type": "array", "items": _ref("Flag")},
                ),
                "call_id",
            )
        },
        "/calls/{call_id}/evaluations": {
            "get": _one(
                "Evaluations of a call",
                _obj(
                    ["call_id", "evaluations"],
                    call_id=INT,
                    evaluations={"type": "array", "items": _ref("EvaluationRow")},
                ),
                "call_id",
            )
        },
        "/evaluations": {"get": _EVALUATIONS},
        "/evaluations/{evaluation_id}": {
            "get": _one("Evaluation with versions and appeals", _ref("Evaluation"), "evaluation_id")
        },
        "/appeals": {
            "get": _op(
                "Appeals visible to the caller, newest first",
                _ANY,
                _json(_list_of("appeals", "Appeal")),
                [LIMIT, CURSOR],
                _LIST_ERRORS,
            )
        },
        "/reports": {"get": _REPORTS},
        "/reports/{snapshot_id}/download": {"get": _DOWNLOAD},
    },
}
