"""A manifest (清单) sent from the browser: the CSV ``qa ingest --manifest`` reads, parsed from
its text so that the page can pair each row with a file the user chose.

Same columns and same checks as :func:`qa_platform.services.ingest.read_manifest`; the
``file`` column is matched by its base name, because a browser never sends folders.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import PurePath

from qa_platform.domain.calls import METADATA_FIELDS, CallMetadata, MetadataError
from qa_platform.services.ingest import IngestRejected, check_manifest_header

MAX_ROWS = 5000  # a page upload batch; bigger batches belong to `qa ingest`


@dataclass(frozen=True)
class ManifestRow:
    """One row: the file's base name, its metadata fields as text, or why it is unusable."""

    line: int
    file: str
    fields: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def parse_manifest(text: str, name: str) -> list[ManifestRow]:
    """The rows of a manifest's text; a bad header raises, a bad row carries its error."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    check_manifest_header(reader.fieldnames, name)
    rows: list[ManifestRow] = []
    for line, row in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise IngestRejected(f"manifest {name}: more than {MAX_ROWS} rows; use `qa ingest`")
        rows.append(_row(name, line, row))
    return rows


def _row(name: str, line: int, row: dict[str | None, str | list[str] | None]) -> ManifestRow:
    where = f"{name}:{line}"
    file = str(row.get("file") or "").strip()
    base = PurePath(file.replace("\\", "/")).name
    if None in row:
        return ManifestRow(line, base, error=f"{where}: row has more cells than the header")
    if not base:
        return ManifestRow(line, "", error=f"{where}: row has no file")
    fields = {k: str(v).strip() for k in METADATA_FIELDS if (v := row.get(k)) and str(v).strip()}
    try:
        CallMetadata.parse(dict[str, str | None](fields))
    except MetadataError as exc:
        return ManifestRow(line, base, error=f"{where}: {exc}")
    return ManifestRow(line, base, fields)
