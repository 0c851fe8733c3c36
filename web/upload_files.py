"""A recording sent over HTTP, handed to the one ingest service (``ingest_file`` + hand-off).

The API (``POST /api/v1/calls``) and the upload page (``POST /upload/file``) both call
:func:`ingest_upload`: the body is written to a private temp file (the path is never shown),
ingested under the user's own file name, and removed.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from werkzeug.datastructures import FileStorage

from qa_platform.domain.calls import METADATA_FIELDS, CallMetadata, MetadataError
from qa_platform.services.context import Platform
from qa_platform.services.ingest import IngestResult, ingest_file


class UnknownFields(MetadataError):
    """The form carries fields that are not call metadata."""


def metadata_of(form: dict[str, str]) -> CallMetadata:
    """Call metadata from form fields; unknown fields and bad values raise ``MetadataError``."""
    unknown = sorted(set(form) - set(METADATA_FIELDS))
    if unknown:
        raise UnknownFields(f"unknown metadata fields {unknown}; allowed: {list(METADATA_FIELDS)}")
    return CallMetadata.parse({k: form.get(k) for k in METADATA_FIELDS})


def ingest_upload(
    platform: Platform, f: FileStorage, meta: CallMetadata, actor: str
) -> IngestResult:
    """Store the uploaded file through ``ingest_file`` (which also sends the first stage)."""
    name = f.filename or "upload"
    suffix = Path(name).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".audio"
    fd, temp = tempfile.mkstemp(prefix="qa-upload-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            f.save(out)
        return ingest_file(platform, Path(temp), meta, actor=actor, display_name=name)
    finally:
        Path(temp).unlink(missing_ok=True)
