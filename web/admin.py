"""Administration: users, teams, supervision scopes, key status, retention and legal hold."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, make_response, render_template, request, url_for

from qa_platform.services import keys, retention, users
from web.policy import policy, user
from web.views import act, form_int, form_text, platform

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@policy(roles="admin")
def users_page() -> Any:
    return render_template(
        "admin/users.html",
        users=users.list_users(platform()),
        teams=users.list_teams(platform()),
    )


@bp.post("/users")
@policy(roles="admin")
def users_add() -> Any:
    """Add a user; a generated password is shown once, on the page answering this POST."""
    generated: list[str] = []

    def run() -> None:
        created = users.add_user(
            platform(),
            form_text("username"),
            form_text("role"),
            team=request.form.get("team") or None,
            agent_code=request.form.get("agent_code") or None,
            password=request.form.get("password") or None,
            display_name=request.form.get("display_name", ""),
            actor=user().actor,
        )
        if created.password:
            generated.append(f"{created.username}: {created.password}")

    done = act(run, url_for("admin.users_page"))
    return _show_once(generated[0]) if generated else done


def _show_once(secret: str) -> Response:
    """Render the users page with ``secret`` straight from the POST (no redirect): it is held
    by no process and no cookie, so any worker can answer, and a reload never shows it again."""
    page = make_response(
        render_template(
            "admin/users.html",
            users=users.list_users(platform()),
            teams=users.list_teams(platform()),
            created=secret,
        )
    )
    page.headers["Cache-Control"] = "no-store"
    return page


@bp.post("/users/<int:user_id>")
@policy(roles="admin")
def users_update(user_id: int) -> Any:
    active = {"1": True, "0": False}.get(request.form.get("active", ""))
    return act(
        lambda: users.update_user(
            platform(),
            user_id,
            user().actor,
            role=request.form.get("role") or None,
            team=request.form.get("team"),
            active=active,
        ),
        url_for("admin.users_page"),
    )


@bp.get("/teams")
@policy(roles="admin")
def teams() -> Any:
    return render_template("admin/teams.html", teams=users.list_teams(platform()))


@bp.get("/scopes")
@policy(roles="admin")
def scopes_page() -> Any:
    """Supervision scopes (监管范围): the agent teams each supervisor oversees."""
    return render_template(
        "admin/scopes.html",
        scopes=users.list_scopes(platform()),
        teams=users.list_agent_teams(platform()),
    )


@bp.post("/scopes/<int:user_id>")
@policy(roles="admin")
def scopes_update(user_id: int) -> Any:
    """Set a supervisor's scope: the ticked agent teams, or every team (``all=1``)."""

    def run() -> None:
        chosen = [t.strip() for t in request.form.getlist("teams") if t.strip()]
        every = request.form.get("all") == "1"
        if every and chosen:
            raise users.UserError.of("scope.teams_and_all")
        users.set_scope(platform(), user_id, None if every else chosen, actor=user().actor)

    return act(run, url_for("admin.scopes_page"))


@bp.get("/keys")
@policy(roles="admin")
def keys_page() -> Any:
    return render_template("admin/keys.html", status=keys.key_status(platform()))


@bp.post("/calls/hold")
@policy(roles="admin")
def legal_hold() -> Any:
    """Place or release a legal hold (法律保全) on a call."""
    hold = request.form.get("hold") == "1"
    return act(
        lambda: retention.set_legal_hold(
            platform(), form_int("call_id"), hold, user().actor, request.form.get("reason", "")
        ),
        url_for("admin.keys_page"),
    )


@bp.post("/calls/retention-class")
@policy(roles="admin")
def retention_class() -> Any:
    """Link a call to a complaint or dispute: retention is extended."""
    return act(
        lambda: retention.add_retention_class(
            platform(), form_int("call_id"), form_text("klass"), user().actor
        ),
        url_for("admin.keys_page"),
    )
