"""REST API ``/api/v1`` (token or session auth): uploads and one call or evaluation by id; the
lists are in ``web.api_lists``, the OpenAPI document in ``web.api_spec``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from qa_platform.domain.calls import METADATA_FIELDS, CallMetadata
from qa_platform.queries import calls as call_service
from qa_platform.queries.calls import call_page
from qa_platform.queries.work_queues import ALL_STATES, evaluations_in
from qa_platform.services.access import record_disclosure
from scoring import services as scoring
from web.api_params import plain
from web.api_spec import OPENAPI
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
    """Upload one recording or chat transcript (``.jsonl``) as multipart ``file``, with its
    metadata fields."""
    f = request.files.get("file")
    if f is None or not f.filename:
        return json_error(400, "multipart field 'file' (the recording) is required")
    unknown = sorted(str(k) for k in set(request.form) - set(META_FIELDS))  # a nameless one: None
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
    rows = [
        plain(e) for e in evaluations_in(platform(), user(), ALL_STATES) if e["call_id"] == call_id
    ]
    return jsonify({"call_id": call_id, "evaluations": rows})


@bp.get("/evaluations/<int:evaluation_id>")
@policy(roles=ALL_ROLES, obj=EVAL)
def evaluation(evaluation_id: int) -> Any:
    return jsonify(scoring.show_evaluation(platform().uow(), evaluation_id, viewer=user().id))


from web import api_lists, api_surveys  # noqa: E402, F401  (register their routes on this blueprint)
