"""``qa web`` (serve the UI) and ``qa users token`` (create an API token)."""

from __future__ import annotations

import click

from qa_platform.cli import emit, platform


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def web_command(host: str, port: int, threads: int) -> None:
    """Serve the web application (质检工作台) on HOST:PORT with waitress."""
    from waitress import serve

    from web import create_app

    platform()  # settings validated before anything listens
    click.echo(f"serving on http://{host}:{port}/")
    serve(create_app(), host=host, port=port, threads=threads, ident="qa")


@click.command("token")
@click.argument("username")
@click.option("--name", default="", help="what the token is for")
@click.option("--json", "as_json", is_flag=True)
def token_command(username: str, name: str, as_json: bool) -> None:
    """Create an API token for USERNAME; it is shown once."""
    from qa_platform.services.auth import create_token

    token = create_token(platform(), username, name)
    emit({"username": username, "token": token}, as_json, token)


COMMANDS = [web_command]  # `token_command` belongs under the `users` group: `qa users token`
