"""Deny by default: every view declares who may call it with ``@policy``.

``before_request`` finds the view's policy; a view without one answers 404 (and a test fails).
Object-level checks (``obj=("call", "call_id")``) run the service check with the URL argument;
a user who may not see the object gets 404 and the denial is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, jsonify, redirect, request, session, url_for

from qa_platform import logs
from qa_platform.domain.errors import Forbidden
from qa_platform.services.access import check_object
from qa_platform.services.auth import SessionUser, TokenInvalid, load_user, token_identity
from web import security

F = TypeVar("F", bound=Callable[..., Any])
ALL_ROLES = ("admin", "supervisor", "inspector", "agent")


@dataclass(frozen=True)
class Policy:
    roles: tuple[str, ...] = ()
    obj: tuple[str, str] | None = None
    public: bool = False


def policy(
    roles: tuple[str, ...] | str = ALL_ROLES,
    obj: tuple[str, str] | None = None,
    public: bool = False,
) -> Callable[[F], F]:
    """Declare the access policy of a view: roles allowed, object check, or public."""
    roles = (roles,) if isinstance(roles, str) else tuple(roles)

    def mark(view: F) -> F:
        view.qa_policy = Policy(roles, obj, public)  # type: ignore[attr-defined]
        return view

    return mark


def policy_of(app: Flask, endpoint: str) -> Policy | None:
    view = app.view_functions.get(endpoint)
    return getattr(view, "qa_policy", None) if view else None


def current_user() -> SessionUser | None:
    return getattr(g, "user", None)


def user() -> SessionUser:
    """The signed-in user (views with a non-public policy always have one)."""
    u = current_user()
    assert u is not None
    return u


def is_api() -> bool:
    return request.path.startswith("/api/")


def _load_user() -> None:
    g.user, g.token_auth, g.token_scopes = None, False, frozenset()
    platform = current_app.extensions["qa_platform"]
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        if not request.path.startswith("/api/v1/"):  # never on pages and their forms
            abort(401, description="API tokens are accepted on /api/v1 only")
        try:
            identity = token_identity(platform, auth[7:].strip())
        except TokenInvalid as exc:
            abort(401, description=str(exc))
        g.user, g.token_auth, g.token_scopes = identity.user, True, identity.scopes
        logs.bind(user_id=g.user.id)
        return
    uid = security.session_user_id()
    if uid is not None:
        g.user = load_user(platform, uid, epoch=security.session_epoch())
        if g.user is None:  # signed out elsewhere, deactivated or password changed
            session.clear()
    logs.bind(user_id=g.user.id if g.user else None)


def _check_scope() -> None:
    """A token needs ``write`` for state-changing requests and ``read`` for the rest."""
    needed = "write" if request.method in security.UNSAFE else "read"
    if needed not in g.token_scopes:
        raise Forbidden(f"this API token lacks the {needed!r} scope")


def enforce() -> Any:
    """``before_request``: authenticate, apply the view's policy, then CSRF for sessions."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    logs.clear()
    security.limit_body()
    _load_user()
    pol = policy_of(current_app, request.endpoint)
    if pol is None:
        abort(404)
    if g.token_auth:
        _check_scope()
    else:
        security.check_csrf()
    if pol.public:
        return None
    if g.user is None:
        if is_api():
            abort(401, description="sign in or send an API token (Authorization: Bearer …)")
        return redirect(url_for("auth.login", next=request.full_path))
    if g.user.role not in pol.roles:
        abort(403)
    if pol.obj is not None:
        kind, arg = pol.obj
        object_id = int((request.view_args or {})[arg])
        if not check_object(current_app.extensions["qa_platform"], g.user, kind, object_id):
            abort(404)
    return None


def json_error(status: int, message: str) -> Any:
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    return response
