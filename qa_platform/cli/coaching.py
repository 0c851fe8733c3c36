"""``qa coaching``: the coaching loop (辅导) from the command line, and the people settings it
reads (``qa users hire-date``, ``qa users team-lead``).

Every subcommand calls one function of :mod:`scoring.services.coaching` or
:mod:`qa_platform.services.people`; ``--json`` prints the task (or list) as docs/cli.md says.
"""

from __future__ import annotations

from typing import Any

import click

from qa_platform.cli import ID, emit, platform

STATES = click.Choice(["open", "coached", "closed", "withdrawn"])
as_option = click.option(
    "--as", "actor", envvar="QA_ACTOR", required=True, help="Who acts (username); env QA_ACTOR."
)


def _viewer(p: Any, who: str) -> Any:
    from sqlalchemy import select

    from qa_platform.domain.errors import NotFound
    from qa_platform.services.auth import SessionUser
    from storage.models import User

    with p.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == who, User.active))
        if user is None:
            raise NotFound(f"no active user {who!r}")
        return SessionUser.of(user)


def _line(t: dict[str, Any]) -> str:
    done = f" 辅导于 {t['coached_at']}" if t["coached_at"] else ""
    return (
        f"#{t['id']} {t['state']} agent={t['agent']} eval={t['evaluation_id']} {t['reasons']}{done}"
    )


@click.group()
def coaching() -> None:
    """Coaching tasks (辅导): list, acknowledge (agent), coach (team lead / supervisor)."""


@coaching.command("list")
@click.option("--state", type=STATES, default=None)
@as_option
@click.option("--json", "as_json", is_flag=True)
def coaching_list(state: str | None, actor: str, as_json: bool) -> None:
    """The tasks ``--as`` may see, newest first."""
    from scoring.services.coaching import list_tasks

    p = platform()
    tasks = [t.to_dict() for t in list_tasks(p, _viewer(p, actor), state)]
    emit(tasks, as_json, "\n".join(_line(t) for t in tasks) or "no coaching tasks")


@coaching.command("ack")
@click.argument("task_id", type=ID)
@as_option
@click.option("--json", "as_json", is_flag=True)
def coaching_ack(task_id: int, actor: str, as_json: bool) -> None:
    """The agent confirms having read the result (确认)."""
    from scoring.services.coaching import acknowledge

    p = platform()
    task = acknowledge(p, _viewer(p, actor), task_id).to_dict()
    emit(task, as_json, _line(task))


@coaching.command("coach")
@click.argument("task_id", type=ID)
@click.option("--note", required=True, help="What was done (辅导内容).")
@as_option
@click.option("--json", "as_json", is_flag=True)
def coaching_coach(task_id: int, note: str, actor: str, as_json: bool) -> None:
    """Record the coaching; the agent's next published sampled call is the follow-up check."""
    from scoring.services.coaching import record_coaching

    p = platform()
    task = record_coaching(p, _viewer(p, actor), task_id, note).to_dict()
    emit(task, as_json, _line(task))


@click.command("hire-date")
@click.argument("username")
@click.argument("hire_date")
@click.option("--actor", default="cli")
@click.option("--json", "as_json", is_flag=True)
def hire_date(username: str, hire_date: str, actor: str, as_json: bool) -> None:
    """Set an agent's hire date (上岗日期, YYYY-MM-DD; 'none' clears it)."""
    from qa_platform.services.people import set_hire_date

    out = set_hire_date(platform(), username, hire_date, actor)
    emit(out, as_json, f"{out['user']}: hire date {out['hire_date'] or '-'}")


@click.command("team-lead")
@click.argument("team")
@click.argument("username", required=False)
@click.option("--actor", default="cli")
@click.option("--json", "as_json", is_flag=True)
def team_lead(team: str, username: str | None, actor: str, as_json: bool) -> None:
    """Name the lead (班组长, a supervisor) of an agent team; without USERNAME, clear it."""
    from qa_platform.services.people import set_team_lead

    out = set_team_lead(platform(), team, username, actor)
    emit(out, as_json, f"{out['team']}: lead {out['lead'] or '-'}")
