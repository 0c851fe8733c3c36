"""REST API ``/api/v1`` (token or session auth); the OpenAPI document lives next to the routes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from qa_platform.domain.calls import METADATA_FIELDS, CallMetadata
from qa_platform.queries import calls as call_service
from qa_platform.queries.calls import call_page
from qa_platform.queries.work_queues import ALL_STATES, evaluations_in
from qa_platform.services.access import record_disclosure
from scoring import services as scoring
from web.policy import ALL_ROLES, json_error, policy, user
from web.upload_files import ingest_upload
from web.views import platform

bp = Blueprint("api", __name__, url_prefix="/api/v1")
CALL = ("call", "call_id")
EVAL = ("evaluation", "evaluation_id")
META_FIELDS = METADATA_FIELDS


@bp.get("/openapi.json")
@policy(public=True)
def openapi() -> Any:
    return jsonify(OPENAPI)


@bp.post("/calls")
@policy(roles=("admin", "supervisor"))
def upload() -> Any:
    """Upload one recording (multipart ``file``) with its metadata fields."""
    f = request.files.get("file")
    if f is None or not f.filename:
        return json_error(400, "multipart field 'file' (the recording) is required")
    unknown = sorted(set(request.form) - set(META_FIELDS))
    if unknown:
        return json_error(400, f"unknown metadata fields {unknown}; allowed: {list(META_FIELDS)}")
    meta = CallMetadata.parse({k: request.form.get(k) for k in META_FIELDS})
    result = ingest_upload(platform(), f, meta, actor=user().actor)
    body = result.to_dict()
    status = {"created": 201, "duplicate": 200}.get(result.status, 400)
    return jsonify(body if status != 400 else {**body, "status": 400}), status


@bp.get("/calls/<int:call_id>")
@policy(roles=ALL_ROLES, obj=CALL)
def call_status(call_id: int) -> Any:
    detail = call_service.show_call(platform(), call_id)
    keep = (
        "id",
        "external_id",
        "agent",
        "team",
        "direction",
        "business_type",
        "started_at",
        "status",
        "error",
        "duration_s",
        "channels",
        "sample_rate",
        "audio_format",
    )
    return jsonify({k: detail.get(k) for k in keep})


@bp.get("/calls/<int:call_id>/transcript")
@policy(roles=ALL_ROLES, obj=CALL)
def transcript(call_id: int) -> Any:
    page = call_page(platform(), call_id, user())
    record_disclosure(platform(), user(), "transcript.view", "call", call_id, {"via": "api"})
    return jsonify({"call_id": call_id, "segments": page["segments"]})


@bp.get("/calls/<int:call_id>/flags")
@policy(roles=ALL_ROLES, obj=CALL)
def flags(call_id: int) -> Any:
    """The call's flags: their evidence quotes the transcript, so showing them is audited."""
    page = call_page(platform(), call_id, user())
    record_disclosure(platform(), user(), "transcript.view", "call", call_id, {"via": "api flags"})
    return jsonify({"call_id": call_id, "flags": page["flags"]})


@bp.get("/calls/<int:call_id>/evaluations")
@policy(roles=ALL_ROLES, obj=CALL)
def call_evaluations(call_id: int) -> Any:
    rows = [e for e in evaluations_in(platform(), user(), ALL_STATES) if e["call_id"] == call_id]
    return jsonify({"call_id": call_id, "evaluations": rows})


@bp.get("/evaluations/<int:evaluation_id>")
@policy(roles=ALL_ROLES, obj=EVAL)
def evaluation(evaluation_id: int) -> Any:
    return jsonify(scoring.show_evaluation(platform().uow(), evaluation_id, viewer=user().id))


@bp.get("/appeals")
@policy(roles=ALL_ROLES)
def appeals() -> Any:
    rows = evaluations_in(platform(), user(), ("appealed", "published", "final"))
    out = []
    for row in rows:
        detail = scoring.show_evaluation(platform().uow(), row["id"], viewer=user().id)
        out += [
            {"evaluation_id": row["id"], "call_id": row["call_id"], **a} for a in detail["appeals"]
        ]
    return jsonify({"appeals": out})


def _op(
    summary: str, roles: str, params: list[str] | None = None, ok: str = "200"
) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": f"roles: {roles}",
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "integer"}}
            for p in params or []
        ],
        "responses": {
            ok: {"description": "OK", "content": {"application/json": {}}},
            "401": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
        },
    }


_UPLOAD = _op("Upload a recording with metadata", "admin, supervisor", ok="201") | {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        **{k: {"type": "string"} for k in META_FIELDS},
                    },
                }
            }
        },
    }
}
_UPLOAD["responses"] |= {
    "400": {"$ref": "#/components/responses/Error"},
    "413": {"$ref": "#/components/responses/Error"},
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "QA platform API",
        "version": "1.0.0",
        "description": 'Call quality inspection (质检). Errors: {"error": message, "status": code}.',
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}, {"session": []}],
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "qa_session"},
        },
        "responses": {
            "Error": {
                "description": "Error",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "error": {"type": "string"},
                                "status": {"type": "integer"},
                            },
                        }
                    }
                },
            }
        },
    },
    "paths": {
        "/openapi.json": {"get": _op("This document", "public")},
        "/calls": {"post": _UPLOAD},
        "/calls/{call_id}": {"get": _op("Call status", "any role with access", ["call_id"])},
        "/calls/{call_id}/transcript": {
            "get": _op("Masked transcript", "any role with access", ["call_id"])
        },
        "/calls/{call_id}/flags": {
            "get": _op("Flags with evidence", "any role with access", ["call_id"])
        },
        "/calls/{call_id}/evaluations": {
            "get": _op("Evaluations of a call", "any role with access", ["call_id"])
        },
        "/evaluations/{evaluation_id}": {
            "get": _op(
                "Evaluation with versions and appeals", "any role with access", ["evaluation_id"]
            )
        },
        "/appeals": {"get": _op("Appeals visible to the caller", "any role")},
    },
}


from web import api_surveys  # noqa: E402, F401  (registers POST /surveys on this blueprint)
