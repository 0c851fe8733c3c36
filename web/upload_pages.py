"""Upload page (录音上传): several recordings or a manifest, sent file by file from the browser.

The page posts each file with XMLHttpRequest (progress bar per file) to ``upload_file``,
which calls the same service as ``POST /api/v1/calls`` (``web.upload_files.ingest_upload``:
``ingest_file`` + hand-off) and answers JSON with the result and, for a rejection, its
reason code and label in the reader's language. ``QA_MAX_UPLOAD_BYTES`` bounds the body
(``web.security.UPLOAD_ENDPOINTS``), the audio checks are the ingest's own.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request

from qa_platform.domain.calls import METADATA_FIELDS, MetadataError
from qa_platform.domain.errors import QaError
from qa_platform.services.ingest import IngestRejected, IngestResult
from qa_platform.services.ingest_manifest import parse_manifest
from qa_platform.services.ingest_reasons import rejection_reason
from web.i18n import gettext
from web.policy import policy, user
from web.upload_files import ingest_upload, metadata_of
from web.views import platform

bp = Blueprint("upload", __name__)
SUP = ("supervisor", "admin")
STATUS_CODES = {"created": 201, "duplicate": 200}
MANIFEST_MAX_CHARS = 2_000_000
REASONS = (
    "empty too_large format too_long too_short layout corrupt external_id unknown_people "
    "missing metadata other"
).split()


@bp.get("/upload")
@policy(roles=SUP)
def page() -> Any:
    labels = {f"reason_{code}": gettext(f"upl_reason_{code}") for code in REASONS}
    labels |= {k: gettext(f"upl_{k}") for k in ("created", "duplicate", "rejected", "sending")}
    labels |= {
        k: gettext(f"upl_{k}")
        for k in ("processing", "not_chosen", "not_listed", "http_error", "done", "no_files")
    }
    limits = {"max_bytes": platform().settings.max_upload_bytes}
    return render_template("supervisor/upload.html", labels=labels, limits=limits)


@bp.post("/upload/file")
@policy(roles=SUP)
def upload_file() -> Any:
    """One recording (multipart ``file``) with its metadata: JSON result, 201/200/400."""
    f = request.files.get("file")
    if f is None or not f.filename:
        return _result(IngestResult("", None, "rejected", gettext("upl_no_file")), "missing")
    fields = {k: v for k, v in request.form.items() if k != "csrf_token" and v.strip()}
    try:
        meta = metadata_of(fields)
    except MetadataError as exc:
        return _result(IngestResult(f.filename, None, "rejected", str(exc)), "metadata")
    result = ingest_upload(platform(), f, meta, actor=user().actor)
    return _result(result, rejection_reason(result.error) if result.error else None)


def _result(result: IngestResult, reason: str | None) -> Any:
    body: dict[str, Any] = result.to_dict()
    if result.status == "rejected":
        body |= {"reason": reason, "reason_label": gettext(f"upl_reason_{reason or 'other'}")}
    return jsonify(body), STATUS_CODES.get(result.status, 400)


@bp.post("/upload/manifest")
@policy(roles=SUP)
def manifest() -> Any:
    """A manifest CSV (the columns of ``qa ingest --manifest``) parsed into rows the page
    pairs with the chosen files by base name."""
    f = request.files.get("manifest")
    if f is None or not f.filename:
        return jsonify({"error": gettext("upl_no_manifest")}), 400
    try:
        text = f.read(MANIFEST_MAX_CHARS + 1).decode("utf-8")
        if len(text) > MANIFEST_MAX_CHARS:
            raise IngestRejected(f"manifest {f.filename}: larger than {MANIFEST_MAX_CHARS} bytes")
        rows = parse_manifest(text, f.filename)
    except UnicodeDecodeError:
        return jsonify({"error": gettext("upl_manifest_encoding")}), 400
    except QaError as exc:
        return jsonify({"error": f"{gettext('upl_manifest_bad')}（{exc}）"}), 400
    return jsonify({"rows": [r.__dict__ for r in rows], "fields": list(METADATA_FIELDS)})
