"""Calls: search, call page, audio streaming with HTTP Range, waveform peaks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from qa_platform.queries.calls import call_page, search_calls
from qa_platform.services import media
from qa_platform.services.access import record_disclosure
from qa_platform.services.context import Platform
from qa_platform.services.recordings import read_range
from web.forms import finite_number
from web.policy import ALL_ROLES, policy, user
from web.ranges import mime_for, parse_range
from web.views import FieldError, platform

bp = Blueprint("calls", __name__)
CALL = ("call", "call_id")
STREAM_BLOCK = 1024 * 1024


def search_args() -> dict[str, Any]:
    """Search filters from the query string; bad values are a clear 400."""
    a = request.args
    q: dict[str, Any] = {
        k: (a.get(k) or "").strip() or None for k in ("agent", "team", "flag_type", "text")
    }
    for key in ("date_from", "date_to"):
        if a.get(key):
            try:
                q[key] = datetime.fromisoformat(a[key])
            except ValueError:
                raise FieldError(f"{key}={a[key]!r} is not a date (YYYY-MM-DD)") from None
    for key in ("score_min", "score_max"):
        if a.get(key):
            q[key] = finite_number(a[key], key)
    return q


@bp.get("/calls")
@policy(roles=ALL_ROLES)
def search() -> Any:
    q = search_args()
    searched = any(v is not None for v in q.values())
    rows = search_calls(platform(), user(), q) if searched or request.args else []
    return render_template(
        "calls/search.html", rows=rows, args=request.args, searched=bool(request.args)
    )


@bp.get("/calls/<int:call_id>")
@policy(roles=("admin", "supervisor", "inspector"), obj=CALL)
def show(call_id: int) -> Any:
    page = call_page(platform(), call_id, user())
    record_disclosure(platform(), user(), "transcript.view", "call", call_id, {"via": "call page"})
    return render_template("calls/show.html", page=page)


@bp.get("/calls/<int:call_id>/audio")
@policy(roles=ALL_ROLES, obj=CALL)
def audio(call_id: int) -> Any:
    """The decrypted audio; Range → 206 (only the chunks needed are decrypted); no Range →
    the whole file, streamed block by block."""
    p, rng = platform(), request.headers.get("Range")
    if request.args.get("download") == "1":
        return _download(call_id)
    info = media.audio_info(p, call_id)
    span = parse_range(rng, info.size)
    start, end = span if span else (0, info.size)
    media.audit_playback(p, user().actor, call_id, "play")  # deduplicated in the database
    resp = Response(
        _stream(p, call_id, start, end),
        status=206 if span else 200,
        mimetype=mime_for(info.audio_format),
    )
    resp.headers["Content-Length"] = str(end - start)
    if span:
        resp.headers["Content-Range"] = f"bytes {start}-{end - 1}/{info.size}"
    resp.headers["Accept-Ranges"] = "bytes"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _stream(p: Platform, call_id: int, start: int, end: int) -> Iterator[bytes]:
    """Plaintext ``[start, end)`` in blocks: memory per response stays one block."""
    for at in range(start, end, STREAM_BLOCK):
        yield read_range(p, call_id, at, min(end, at + STREAM_BLOCK))


def _download(call_id: int) -> Response:
    p = platform()
    info = media.audio_info(p, call_id)
    total, fmt = info.size, info.audio_format
    media.audit_playback(p, user().actor, call_id, "download")

    resp = Response(_stream(p, call_id, 0, total), mimetype=mime_for(fmt))
    resp.headers["Content-Length"] = str(total)
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="call-{call_id}.{fmt.split("/")[0]}"'
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/calls/<int:call_id>/waveform.json")
@policy(roles=ALL_ROLES, obj=CALL)
def waveform(call_id: int) -> Any:
    return jsonify({"call_id": call_id, "peaks": media.waveform(platform(), call_id)})
