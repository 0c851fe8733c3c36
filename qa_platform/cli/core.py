"""Foundation commands: init, ingest, calls, call, keys, retention, audit, users, demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qa_platform.cli import ID, SECONDS, emit, platform


@click.command()
@click.option("--json", "as_json", is_flag=True)
def init(as_json: bool) -> None:
    """Create QA_HOME, the database schema and the keyring (idempotent)."""
    from qa_platform.services.bootstrap import initialise

    info = initialise(platform())
    emit(info, as_json, "\n".join(f"{k}: {v}" for k, v in info.items()))


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--manifest", type=click.Path(path_type=Path), help="CSV with a 'file' column.")
@click.option("--agent", help="Agent code (工号).")
@click.option("--team")
@click.option("--direction", type=click.Choice(["in", "out"]))
@click.option("--business-type")
@click.option("--started-at", help="ISO date-time the call started.")
@click.option("--external-id")
@click.option("--customer-phone", help="Stored masked (138****5678).")
@click.option("--agent-channel", help="Stereo: which channel is the agent (0/left, 1/right).")
@click.option(
    "--complaint", is_flag=True, help="The call is linked to a complaint (5-year retention)."
)
@click.option("--strict", is_flag=True, default=None, help="Reject unknown agents and teams.")
@click.option(
    "--chat", is_flag=True, help="FILES are chat transcripts (JSON lines; .jsonl is detected)."
)
@click.option("--json", "as_json", is_flag=True)
def ingest(
    files: tuple[Path, ...],
    manifest: Path | None,
    as_json: bool,
    strict: bool | None,
    complaint: bool,
    chat: bool,
    **meta: str | None,
) -> None:
    """Ingest recordings (validate, encrypt, store) or chat transcripts (validate, mask, store).
    Exit 1 if any file was rejected."""
    from dataclasses import replace

    from qa_platform.domain.calls import CallMetadata
    from qa_platform.services.ingest import IngestItem, read_manifest

    if not files and manifest is None:
        raise click.UsageError("give audio FILES or --manifest CSV")
    plat = platform()
    if strict is not None:
        plat.settings = replace(plat.settings, ingest_strict=strict)
    raw = {k: v for k, v in meta.items()} | {
        "agent": meta.get("agent"),
        "complaint": "yes" if complaint else None,
    }
    items = list(read_manifest(manifest)) if manifest else []
    if files:
        shared = CallMetadata.parse(raw)
        channel = "chat" if chat else None
        items += [IngestItem(path, shared, channel=channel) for path in files]
    results = _run_with_progress(plat, items, show=not as_json)
    emit([r.to_dict() for r in results], as_json, "\n".join(ingest_line(r) for r in results))
    if any(r.status == "rejected" for r in results):
        sys.exit(1)


def _run_with_progress(plat, items, show: bool):
    from tqdm import tqdm

    from qa_platform.services.ingest import ingest_many

    with tqdm(
        total=len(items),
        unit="file",
        desc="ingest",
        disable=not show or len(items) < 2,
        file=sys.stderr,
    ) as bar:
        return ingest_many(plat, items, on_done=lambda _r: bar.update(1))


def ingest_line(r) -> str:
    if r.status == "rejected":
        return f"rejected  {r.error}"
    return f"{r.status:<9} call {r.call_id}  {r.file}"


@click.group()
def calls() -> None:
    """List calls."""


@calls.command("list")
@click.option("--status")
@click.option("--limit", type=click.IntRange(1, 10_000_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def calls_list(status: str | None, limit: int, as_json: bool) -> None:
    from qa_platform.queries.calls import list_calls

    rows = list_calls(platform(), status=status, limit=limit)
    emit(
        rows,
        as_json,
        "\n".join(
            f"{r['id']:>6}  {r['status']:<10} {r['duration_s']:>7.1f}s  {r['agent'] or '-':<8} "
            f"{r['started_at']}"
            for r in rows
        ),
    )


@click.group()
def call() -> None:
    """One call: show, export audio, legal hold, complaint link."""


@call.command("show")
@click.argument("call_id", type=ID)
@click.option("--json", "as_json", is_flag=True)
def call_show(call_id: int, as_json: bool) -> None:
    from qa_platform.queries.calls import show_call

    detail = show_call(platform(), call_id)
    emit(
        detail,
        as_json,
        "\n".join(f"{k}: {v}" for k, v in detail.items() if not isinstance(v, list | dict)),
    )


@call.command("audio")
@click.argument("call_id", type=ID)
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--actor", default="cli", help="Who asks (recorded in the audit log).")
def call_audio(call_id: int, out: Path, actor: str) -> None:
    """Decrypt a recording to a file (audited)."""
    from qa_platform.services.recordings import export_audio

    size = export_audio(platform(), call_id, out, actor=actor)
    click.echo(f"wrote {size} bytes to {out}")


@call.command("hold")
@click.argument("call_id", type=ID)
@click.option("--release", is_flag=True, help="Lift the legal hold.")
@click.option("--reason", default="")
@click.option("--actor", default="cli")
def call_hold(call_id: int, release: bool, reason: str, actor: str) -> None:
    """Place (or lift) a legal hold: a held call is never purged."""
    from qa_platform.services.retention import set_legal_hold

    set_legal_hold(platform(), call_id, not release, actor=actor, reason=reason)
    click.echo(f"call {call_id}: legal hold {'lifted' if release else 'placed'}")


@call.command("retention")
@click.argument("call_id", type=ID)
@click.option(
    "--add-class", "klass", required=True, help="complaint, dispute, or a configured class."
)
@click.option("--actor", default="cli")
def call_retention(call_id: int, klass: str, actor: str) -> None:
    """Link a call to a complaint or dispute (extends retention to the longest rule)."""
    from qa_platform.services.retention import add_retention_class

    until = add_retention_class(platform(), call_id, klass, actor=actor)
    click.echo(f"call {call_id}: retained until at least {until.date()}")


@click.group()
def keys() -> None:
    """Key-encryption keys: status, rotate, retire."""


@keys.command("rotate")
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(as_json: bool) -> None:
    """Add a new active KEK and re-wrap every data key with it."""
    from dataclasses import asdict

    from qa_platform.services.keys import rotate

    report = rotate(platform())
    emit(
        asdict(report),
        as_json,
        f"active key {report.new_kek_id}; re-wrapped {report.rewrapped} data keys",
    )


@keys.command("status")
@click.option("--json", "as_json", is_flag=True)
def keys_status(as_json: bool) -> None:
    from qa_platform.services.keys import key_status

    status = key_status(platform())
    emit(
        status.to_dict(),
        as_json,
        "\n".join(
            f"{'*' if k.active else ' '} {k.id}  {k.recordings} recordings  {k.created_at}"
            for k in status.keys
        ),
    )


@keys.command("retire")
@click.argument("kek_id")
def keys_retire(kek_id: str) -> None:
    """Remove an old KEK that no longer wraps any data key."""
    from qa_platform.services.keys import retire

    retire(platform(), kek_id)
    click.echo(f"retired {kek_id}")


@keys.command("master-key")
def keys_master_key() -> None:
    """Print a new random master key (base64) for QA_MASTER_KEY / QA_MASTER_KEY_FILE."""
    from qa_platform.services.keyring_seal import new_master_key

    click.echo(new_master_key())


@keys.command("seal")
@click.option(
    "--from",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The keyring file (default: QA_KEYRING_PATH or $QA_HOME/keyring.json).",
)
@click.option("--json", "as_json", is_flag=True)
def keys_seal(path: Path | None, as_json: bool) -> None:
    """Copy a keyring file into the database, sealed under the master key (QA_KEYRING_URL=db://)."""
    from qa_platform.services.keyring_seal import seal_file_keyring

    plat = platform()
    report = seal_file_keyring(plat, path or plat.settings.keyring)
    emit(report.to_dict(), as_json, f"sealed {len(report.keys)} keys; active {report.active}")


@click.group()
def retention() -> None:
    """Retention: purge expired recordings."""


@retention.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be purged; change nothing.")
@click.option("--json", "as_json", is_flag=True)
def retention_purge(dry_run: bool, as_json: bool) -> None:
    """Crypto-shred recordings past retention (never a held one)."""
    from qa_platform.services.retention import purge

    items = purge(platform(), dry_run=dry_run)
    emit(
        [i.to_dict() for i in items],
        as_json,
        f"{'would purge' if dry_run else 'purged'} {len(items)} recordings",
    )


@click.group()
def storage() -> None:
    """The encrypted blob store."""


@storage.command("check")
@click.option("--repair", is_flag=True, help="Delete orphan blobs older than --min-age.")
@click.option("--min-age", type=SECONDS, default=3600.0, show_default=True, help="Seconds.")
@click.option("--json", "as_json", is_flag=True)
def storage_check(repair: bool, min_age: float, as_json: bool) -> None:
    """Find blobs no recording points to (crash mid-ingest) and recordings whose blob is gone.

    Exit 1 while a live recording's blob is missing.
    """
    from qa_platform.services.storage_check import check_storage

    report = check_storage(platform(), repair=repair, min_age_s=min_age)
    emit(
        report.to_dict(),
        as_json,
        f"orphan blobs: {len(report.orphans)}; blobs of purged recordings: "
        f"{len(report.shredded)} (removed {len(report.removed)}); "
        f"unfinished writes: {len(report.abandoned)}; "
        f"recordings with a missing blob: {report.missing or 'none'}",
    )
    if report.missing:
        sys.exit(1)


@storage.command("migrate")
@click.option(
    "--to", "to_url", required=True, help="The new store: s3://bucket/prefix or file://DIR."
)
@click.option("--json", "as_json", is_flag=True)
def storage_migrate(to_url: str, as_json: bool) -> None:
    """Copy every recording's blob to another store and verify it (resumable, online).

    Reads from the configured store (QA_BLOB_URL, and QA_BLOB_FALLBACK_URL if set). Run it
    again after a kill: verified copies are skipped. Exit 1 while a blob is missing.
    """
    from tqdm import tqdm

    from qa_platform.services.blob_migration import migrate_blobs
    from qa_platform.services.stores import store_for_url

    plat = platform()
    target = store_for_url(plat.settings, "--to", to_url)
    with tqdm(unit="blob", desc="migrate", disable=as_json, file=sys.stderr) as bar:
        report = migrate_blobs(plat, target, on_blob=lambda _b: bar.update(1))
    emit(
        report.to_dict(),
        as_json,
        f"{report.target}: {report.recordings} recordings verified "
        f"({report.copied} copied now, {report.already} before); "
        f"missing: {report.missing or 'none'}",
    )
    if report.missing:
        sys.exit(1)


@click.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
def audit_verify(as_json: bool) -> None:
    """Check every link of the chain; exit 1 and name the first broken event."""
    from storage.audit import verify_chain

    with platform().uow() as uow:
        report = verify_chain(uow.session)
    emit(
        report.to_dict(),
        as_json,
        f"audit chain intact: {report.checked} events"
        if report.ok
        else f"audit chain BROKEN at event {report.first_broken_seq}: {report.reason}",
    )
    if not report.ok:
        sys.exit(1)


@click.group()
def users() -> None:
    """Users and teams."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "supervisor", "inspector", "agent"])
)
@click.option("--team")
@click.option("--agent-code", help="工号 (agents).")
@click.option("--name", "display_name", default="")
@click.option("--password", help="Generated and printed once when omitted.")
@click.option("--json", "as_json", is_flag=True)
def users_add(
    username: str,
    role: str,
    team: str | None,
    agent_code: str | None,
    display_name: str,
    password: str | None,
    as_json: bool,
) -> None:
    from dataclasses import asdict

    from qa_platform.services.users import add_user

    user = add_user(
        platform(),
        username,
        role,
        team=team,
        agent_code=agent_code,
        password=password,
        display_name=display_name,
    )
    emit(
        asdict(user),
        as_json,
        f"user {user.id} {user.username} ({user.role})"
        + (f"  password: {user.password}" if user.password else ""),
    )


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    from qa_platform.services.users import list_users

    rows = list_users(platform())
    emit(
        rows,
        as_json,
        "\n".join(
            f"{r['id']:>4} {r['username']:<16} {r['role']:<10} {r['team'] or '-'}" for r in rows
        ),
    )


@users.command("scope")
@click.argument("username")
@click.option("--teams", help="Agent teams the supervisor oversees: 一组,二组")
@click.option("--all", "all_teams", is_flag=True, help="The whole centre (every agent team).")
@click.option("--json", "as_json", is_flag=True)
def users_scope(username: str, teams: str | None, all_teams: bool, as_json: bool) -> None:
    """Show or set a supervisor's supervision scope (监管范围): agent teams, or --all."""
    from qa_platform.services.users import UserError, parse_team_list, set_scope, show_scope

    if teams is not None and all_teams:
        raise UserError.of("scope.teams_and_all")
    if teams is None and not all_teams:
        view = show_scope(platform(), username)
    else:
        chosen = None if all_teams else parse_team_list(teams or "")
        view = set_scope(platform(), username, chosen, actor="cli")
    emit(view.to_dict(), as_json, _scope_line(view))


def _scope_line(view) -> str:
    where = "all teams" if view.all_teams else (", ".join(view.teams) or "no team")
    rule = "" if view.explicit else "  (no scope set: own-team rule)"
    return f"{view.username} oversees: {where}{rule}"


COMMANDS = [init, ingest, calls, call, keys, retention, storage, audit, users]
