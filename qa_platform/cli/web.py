"""``qa web`` (serve the UI) and ``qa users token`` (create or revoke API tokens)."""

from __future__ import annotations

import logging
import os
import sys

import click

from qa_platform.cli import emit, platform

log = logging.getLogger("qa.web")


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Web processes (gunicorn; default: one per CPU core). Implies --server gunicorn.",
)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 1024))
@click.option(
    "--server",
    type=click.Choice(["auto", "gunicorn", "waitress"]),
    default="auto",
    show_default=True,
    help="auto: gunicorn in production or with --workers (not on Windows), else waitress.",
)
@click.option(
    "--timeout",
    type=click.IntRange(5, 3600),
    default=120,
    show_default=True,
    help="gunicorn: a request still running after this many seconds restarts its process.",
)
def web_command(
    host: str, port: int, workers: int | None, threads: int, server: str, timeout: int
) -> None:
    """Serve the web application (质检工作台) on HOST:PORT (gunicorn or waitress)."""
    from storage.broker import durable_broker

    settings = platform().settings  # validated before anything listens
    durable_broker(settings)  # a Redis broker without persistence: refused in production
    if _chosen_server(server, workers, settings.is_production) == "waitress":
        _serve_waitress(host, port, threads, settings.max_upload_bytes)
        return
    from qa_platform.cli.web_server import serve_gunicorn
    from web.security import secret_key

    secret_key(settings)  # made once here, before the processes that all sign with it fork
    count = workers or os.cpu_count() or 1
    log.info("serving on http://%s:%s/ (gunicorn, %s × %s threads)", host, port, count, threads)
    serve_gunicorn(settings, host=host, port=port, workers=count, threads=threads, timeout=timeout)


def _chosen_server(server: str, workers: int | None, production: bool) -> str:
    if server == "gunicorn" and sys.platform == "win32":
        raise click.BadParameter("gunicorn does not run on Windows", param_hint="--server")
    if server != "auto":
        return server
    wants_processes = production or workers is not None
    return "gunicorn" if wants_processes and sys.platform != "win32" else "waitress"


def _serve_waitress(host: str, port: int, threads: int, max_upload_bytes: int) -> None:
    from waitress import serve

    from web import create_app

    log.info("serving on http://%s:%s/ (waitress, %s threads)", host, port, threads)
    serve(
        create_app(),
        host=host,
        port=port,
        threads=threads,
        ident="qa",
        # waitress buffers a whole body (to disk) before the app sees it: cap it at the upload
        # limit; smaller limits per route are checked by the app on Content-Length
        max_request_body_size=max_upload_bytes,
    )


@click.command("token")
@click.argument("username")
@click.option("--name", default="", help="what the token is for")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "write"]),
    help="read (default) and/or write; repeat for both",
)
@click.option(
    "--days", default=90, show_default=True, type=click.IntRange(1, 36500), help="lifetime in days"
)
@click.option("--revoke", metavar="NAME", default=None, help="revoke the token called NAME")
@click.option("--revoke-all", is_flag=True, help="revoke every token of USERNAME")
@click.option("--json", "as_json", is_flag=True)
def token_command(
    username: str,
    name: str,
    scopes: tuple[str, ...],
    days: int,
    revoke: str | None,
    revoke_all: bool,
    as_json: bool,
) -> None:
    """Create an API token for USERNAME (shown once), or revoke tokens."""
    from qa_platform.services.auth import create_token, revoke_tokens

    if revoke is not None or revoke_all:
        count = revoke_tokens(platform(), username, None if revoke_all else revoke)
        emit({"username": username, "revoked": count}, as_json, f"revoked {count} token(s)")
        return
    token = create_token(platform(), username, name, scopes=scopes or ("read",), days=days)
    emit({"username": username, "token": token}, as_json, token)


COMMANDS = [web_command]  # `token_command` belongs under the `users` group: `qa users token`
