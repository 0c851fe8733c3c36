"""Sign-in for the web application: password check with throttling, API tokens.

Throttling (登录限流): at most ``MAX_FAILURES`` failed attempts per (username, address) within
``WINDOW``; the attempts are rows in the database, so every web process sees the same count.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from qa_platform.domain.errors import QaError, Throttled
from qa_platform.services.context import Platform
from qa_platform.services.users import verify_password
from storage.audit import append_audit
from storage.models import User
from storage.models_web import ApiToken, LoginAttempt

MAX_FAILURES = 5
WINDOW = timedelta(minutes=5)
TOKEN_PREFIX = "qat_"


class LoginFailed(QaError):
    """Unknown user, wrong password or deactivated account (never says which)."""


class LoginThrottled(Throttled):
    """Too many failed attempts for this username from this address."""


class TokenInvalid(QaError):
    """An API token that is unknown, revoked, or belongs to a deactivated user."""


@dataclass(frozen=True)
class SessionUser:
    """The signed-in person as the web layer sees them."""

    id: int
    username: str
    display_name: str
    role: str
    team_id: int | None
    agent_code: str | None

    @classmethod
    def of(cls, user: User) -> SessionUser:
        return cls(
            user.id,
            user.username,
            user.display_name or user.username,
            user.role,
            user.team_id,
            user.agent_code,
        )

    @property
    def actor(self) -> str:
        """Audit actor string."""
        return f"user:{self.id}"


def _attempt_key(username: str, address: str) -> str:
    return f"{username.strip().lower()[:64]}|{address[:64]}"


def recent_failures(
    platform: Platform, username: str, address: str, now: datetime | None = None
) -> int:
    """Failed attempts for (username, address) inside the throttle window."""
    now = now or datetime.now(UTC)
    with platform.uow() as uow:
        return (
            uow.session.scalar(
                select(func.count(LoginAttempt.id)).where(
                    LoginAttempt.key == _attempt_key(username, address),
                    LoginAttempt.success.is_(False),
                    LoginAttempt.at > now - WINDOW,
                )
            )
            or 0
        )


def authenticate(
    platform: Platform, username: str, password: str, address: str, now: datetime | None = None
) -> SessionUser:
    """Check a password; raise ``LoginThrottled`` or ``LoginFailed``; audit both outcomes."""
    now = now or datetime.now(UTC)
    if recent_failures(platform, username, address, now) >= MAX_FAILURES:
        raise LoginThrottled(
            f"too many failed sign-ins for {username!r}; wait "
            f"{int(WINDOW.total_seconds() // 60)} minutes"
        )
    with platform.uow() as uow:
        s = uow.session
        user = s.scalar(select(User).where(User.username == username.strip()))
        ok = bool(user and user.active and verify_password(user.password_hash, password))
        s.add(LoginAttempt(key=_attempt_key(username, address), at=now, success=ok))
        append_audit(
            s,
            actor=f"user:{user.id}" if ok and user else "anonymous",
            action="auth.login" if ok else "auth.login_failed",
            object_type="user",
            object_id=user.id if user else username[:64],
            details={"address": address},
        )
        if ok:  # a success clears the failures of this key
            s.execute(
                delete(LoginAttempt).where(
                    LoginAttempt.key == _attempt_key(username, address),
                    LoginAttempt.success.is_(False),
                )
            )
        uow.commit()
        if not ok or user is None:
            raise LoginFailed("wrong username or password")
        return SessionUser.of(user)


def load_user(platform: Platform, user_id: int) -> SessionUser | None:
    """The active user with this id, or None (deactivated users lose their sessions)."""
    with platform.uow() as uow:
        user = uow.session.get(User, user_id)
        return SessionUser.of(user) if user is not None and user.active else None


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(platform: Platform, username: str, name: str = "", actor: str = "cli") -> str:
    """Create an API token for a user; the plaintext is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with platform.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise TokenInvalid(f"no active user {username!r}")
        row = ApiToken(
            user_id=user.id,
            name=name[:100],
            token_hash=_hash_token(token),
            created_at=datetime.now(UTC),
            revoked=False,
        )
        uow.session.add(row)
        uow.session.flush()
        append_audit(
            uow.session,
            actor=actor,
            action="api_token.create",
            object_type="user",
            object_id=user.id,
            details={"token_id": row.id, "name": name},
        )
        uow.commit()
    return token


def user_for_token(platform: Platform, token: str) -> SessionUser:
    """The active user a bearer token belongs to; ``TokenInvalid`` otherwise."""
    with platform.uow() as uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
        user = uow.session.get(User, row.user_id) if row is not None else None
        if row is None or row.revoked or user is None or not user.active:
            raise TokenInvalid("the API token is unknown, revoked, or its user is deactivated")
        return SessionUser.of(user)
