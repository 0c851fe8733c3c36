"""Chat ingest (网络对话入库): a JSON-lines transcript becomes a call of channel ``chat``.

There is no audio: the masked messages are written as the call's transcript at once, and the
audio stages (features, transcribe) of its jobs are done from the start
(:func:`qa_platform.services.pipeline.ensure_jobs`), so the pipeline runs flags → autoqa →
finish. Personal data is masked before anything is stored; the raw digits are never persisted.
A file is checked completely before the one transaction that stores it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from qa_platform.domain.calls import CallMetadata
from qa_platform.domain.chat import (
    CHANNEL_CHAT,
    MAX_CHAT_BYTES,
    ChatRejected,
    ChatTranscript,
    parse_chat,
)
from qa_platform.domain.transcript import Role, Segment, Transcript
from qa_platform.masking import mask_pii
from qa_platform.services.context import Platform
from qa_platform.services.ingest_people import check_external_id, new_call_row, resolve_people
from qa_platform.services.pipeline import ensure_jobs, pipeline_version, save_transcript
from storage.audit import append_audit
from storage.models import Call
from storage.rollups import refresh_calls

CHAT_MODEL = "chat"
CHAT_MODEL_VERSION = "chat-1"
CHAT_FORMAT = "chat/jsonl"


def read_chat(path: Path, name: str) -> tuple[bytes, ChatTranscript]:
    """The file's bytes and its parsed messages (``ChatRejected`` says what is wrong)."""
    if not path.is_file():
        raise ChatRejected(f"{name}: no such file, or not a regular file")
    size = path.stat().st_size
    if size > MAX_CHAT_BYTES:
        raise ChatRejected(f"{name}: {size} bytes is over the {MAX_CHAT_BYTES} byte limit")
    data = path.read_bytes()
    return data, parse_chat(data, name)


def chat_segments(chat: ChatTranscript) -> list[Segment]:
    """Transcript segments of the messages, text masked; bot messages are the agent side."""
    segments = []
    for message in chat.messages:
        role = Role.CUSTOMER if message.role == "customer" else Role.AGENT
        speaker = "bot" if message.role == "bot" else message.role
        text = mask_pii(message.text).text
        segments.append(Segment(speaker, role, message.offset_s, message.offset_s, text))
    return segments


def existing_chat(platform: Platform, digest: str) -> int | None:
    with platform.uow() as uow:
        return uow.session.scalar(select(Call.id).where(Call.chat_sha256 == digest))


def store_chat(
    platform: Platform, name: str, data: bytes, chat: ChatTranscript, meta: CallMetadata, actor: str
) -> tuple[int, bool]:
    """Insert the call, its masked transcript and its jobs in one transaction.

    Returns ``(call_id, created)``; the same file already stored (or stored concurrently)
    answers with that call and ``created`` false.
    """
    digest = hashlib.sha256(data).hexdigest()
    existing = existing_chat(platform, digest)
    if existing is not None:
        return existing, False
    try:
        return _insert(platform, name, digest, chat, meta, actor), True
    except IntegrityError:
        existing = existing_chat(platform, digest)
        if existing is None:
            raise
        return existing, False


def _insert(
    platform: Platform, name: str, digest: str, chat: ChatTranscript, meta: CallMetadata, actor: str
) -> int:
    check_external_id(platform, meta, name)
    now = platform.clock.now()
    started = meta.started_at or chat.started_at or now
    version = pipeline_version(platform.settings)
    with platform.uow() as uow:
        agent, team = resolve_people(uow.session, meta, platform.settings.ingest_strict, name)
        call = new_call_row(
            platform,
            meta,
            (agent, team),
            started,
            name,
            agent_channel=None,
            duration_s=chat.duration_s,
            channels=0,
            sample_rate=0,
            audio_format=CHAT_FORMAT,
            channel=CHANNEL_CHAT,
            chat_sha256=digest,
        )
        uow.session.add(call)
        uow.flush()
        save_transcript(
            uow.session,
            call.id,
            transcript=Transcript(chat_segments(chat), "zh", CHAT_MODEL),
            model=CHAT_MODEL,
            model_version=CHAT_MODEL_VERSION,
            version=version,
            speakers=_speakers(chat),
        )
        ensure_jobs(uow.session, call.id, version, now)
        refresh_calls(uow.session, [call.id])
        append_audit(
            uow.session,
            actor=actor,
            action="call.ingest",
            object_type="call",
            object_id=call.id,
            details={
                "file": Path(name).name,
                "sha256": digest,
                "channel": CHANNEL_CHAT,
                "messages": len(chat.messages),
            },
        )
        uow.commit()
        return call.id


def _speakers(chat: ChatTranscript) -> list[dict[str, object]]:
    present = {m.role for m in chat.messages}
    roles = {"agent": "agent", "bot": "agent", "customer": "customer"}
    return [
        {"speaker": r, "role": roles[r], "confidence": 1.0, "evidence": ["chat"]}
        for r in ("agent", "bot", "customer")
        if r in present
    ]
