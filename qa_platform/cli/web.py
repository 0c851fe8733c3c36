"""``qa web`` (serve the UI) and ``qa users token`` (create or revoke API tokens)."""

from __future__ import annotations

import click

from qa_platform.cli import emit, platform


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 1024))
def web_command(host: str, port: int, threads: int) -> None:
    """Serve the web application (质检工作台) on HOST:PORT with waitress."""
    from waitress import serve

    from web import create_app

    settings = platform().settings  # validated before anything listens
    click.echo(f"serving on http://{host}:{port}/")
    serve(
        create_app(),
        host=host,
        port=port,
        threads=threads,
        ident="qa",
        # waitress buffers a whole body (to disk) before the app sees it: cap it at the upload
        # limit; smaller limits per route are checked by the app on Content-Length
        max_request_body_size=settings.max_upload_bytes,
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
