"""Sign-in for the web application: password check with throttling, sessions, API tokens.

Throttling (登录限流): failed attempts are rows in ``login_attempts`` (every web process sees
the same count), kept per account and per address. Each attempt first commits its own row and
then counts, so concurrent guesses cannot all slip under the limit; the limit backs off: 5
failures in 5 minutes, 10 in 10, 15 in 20, 20 in 40 (per address four times as many).

Sessions are cookies carrying the user's ``session_epoch``; sign-out, a password change and
deactivation bump the epoch, so a saved cookie stops working at once.

API tokens (``qat_…``) authenticate on ``/api/v1`` only, carry scopes (``read``, ``write``),
expire, can be revoked, and record their last use (at most once a minute).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from qa_platform.domain.errors import Invalid, NotFound, QaError, Throttled
from qa_platform.services.context import Platform
from qa_platform.services.users import bump_session_epoch, hash_password, verify_password
from storage.audit import append_audit
from storage.models import User
from storage.models_web import ApiToken, LoginAttempt

MAX_FAILURES = 5  # per account in the first window; per address ×4
WINDOW = timedelta(minutes=5)
BACKOFF_TIERS = 4  # window doubles, allowance grows by MAX_FAILURES per tier
ADDRESS_FACTOR = 4
TOKEN_PREFIX = "qat_"
TOKEN_SCOPES = ("read", "write")
TOKEN_DAYS = 90
TOKEN_TOUCH = timedelta(minutes=1)


class LoginFailed(QaError):
    """Unknown user, wrong password or deactivated account (never says which)."""


class LoginThrottled(Throttled):
    """Too many failed attempts for this account or from this address."""


class TokenInvalid(QaError):
    """An API token that is unknown, expired, revoked, or belongs to a deactivated user."""


class TokenError(Invalid):
    """A token cannot be created or revoked as asked."""


@dataclass(frozen=True)
class SessionUser:
    """The signed-in person as the web layer sees them."""

    id: int
    username: str
    display_name: str
    role: str
    team_id: int | None
    agent_code: str | None
    session_epoch: int = 0

    @classmethod
    def of(cls, user: User) -> SessionUser:
        return cls(
            user.id,
            user.username,
            user.display_name or user.username,
            user.role,
            user.team_id,
            user.agent_code,
            user.session_epoch or 0,
        )

    @property
    def actor(self) -> str:
        """Audit actor string."""
        return f"user:{self.id}"


@dataclass(frozen=True)
class TokenIdentity:
    """Who a bearer token speaks for, and what it may do."""

    user: SessionUser
    scopes: frozenset[str]


@cache
def _dummy_hash() -> str:
    """An argon2 hash of a random password, made once with the same parameters as real ones:
    unknown and deactivated users cost the same verification work as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def _storable(text: str) -> str:
    """``text`` with NUL characters replaced: PostgreSQL refuses them in a string, and no valid
    username holds one (``check_user_fields``), so such a name simply matches nobody."""
    return text.replace("\x00", "\ufffd")


def _account_key(username: str) -> str:
    return f"acct:{username.strip().lower()[:64]}"


def _address_key(address: str) -> str:
    return f"addr:{address[:64]}"


def recent_failures(
    platform: Platform, username: str, address: str, now: datetime | None = None
) -> int:
    """Failed (or in-flight) attempts on this account inside the first throttle window."""
    now = now or platform.clock.now()
    with platform.uow() as uow:
        return _count(uow.session, _account_key(username), now - WINDOW)


def _count(session: Session, key: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.key == key, LoginAttempt.success.is_(False), LoginAttempt.at > since
            )
        )
        or 0
    )


def _over_limit(platform: Platform, keys: dict[str, int], now: datetime) -> bool:
    """True when any key (with its first-window allowance) is over a backoff tier."""
    with platform.uow() as uow:
        for key, allowance in keys.items():
            for tier in range(BACKOFF_TIERS):
                if _count(uow.session, key, now - WINDOW * 2**tier) > allowance * (tier + 1):
                    return True
    return False


def _claim_attempt(platform: Platform, keys: list[str], now: datetime) -> list[int]:
    """Commit a pending (failed) attempt row per key before counting: the atomic step."""
    with platform.uow() as uow:
        rows = [LoginAttempt(key=key, at=now, success=False) for key in keys]
        uow.session.add_all(rows)
        uow.flush()
        ids = [row.id for row in rows]
        uow.commit()
    return ids


def _drop_attempts(platform: Platform, ids: list[int]) -> None:
    with platform.uow() as uow:
        uow.session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(ids)))
        uow.commit()


def authenticate(
    platform: Platform, username: str, password: str, address: str, now: datetime | None = None
) -> SessionUser:
    """Check a password; raise ``LoginThrottled`` or ``LoginFailed``; audit both outcomes.

    Throttled attempts are not checked and do not count; a success clears the account's
    failures (not the address's: one good account must not reset a guessing address).
    """
    now = now or platform.clock.now()
    username, address = _storable(username), _storable(address)
    keys = {
        _account_key(username): MAX_FAILURES,
        _address_key(address): MAX_FAILURES * ADDRESS_FACTOR,
    }
    claimed = _claim_attempt(platform, list(keys), now)
    if _over_limit(platform, keys, now):
        _drop_attempts(platform, claimed)
        raise LoginThrottled(
            f"too many failed sign-ins for {username!r}; wait "
            f"{int(WINDOW.total_seconds() // 60)} minutes"
        )
    with platform.uow() as uow:
        s = uow.session
        user = s.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
        stored = user.password_hash if user is not None and user.active else None
        # unknown and deactivated users cost one argon2 verification too (no timing oracle)
        checked = verify_password(stored or _dummy_hash(), password)
        ok = bool(stored and checked)
        append_audit(
            s,
            actor=f"user:{user.id}" if ok and user else "anonymous",
            action="auth.login" if ok else "auth.login_failed",
            object_type="user",
            object_id=user.id if user else username[:64],
            details={"address": address},
        )
        if ok:
            s.execute(
                delete(LoginAttempt).where(
                    LoginAttempt.key == _account_key(username), LoginAttempt.success.is_(False)
                )
            )
            s.execute(update(LoginAttempt).where(LoginAttempt.id.in_(claimed)).values(success=True))
        uow.commit()
        if not ok or user is None:
            raise LoginFailed("wrong username or password")
        return SessionUser.of(user)


def client_address(
    remote_addr: str | None, forwarded_for: str | None, trusted: tuple[str, ...]
) -> str:
    """The client's address: ``X-Forwarded-For`` is believed only from a trusted proxy.

    The chain is read from the right; the first hop that is not a trusted proxy is the client.
    """
    address = remote_addr or "?"
    if address not in trusted or not forwarded_for:
        return address
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return address


def load_user(platform: Platform, user_id: int, epoch: int | None = None) -> SessionUser | None:
    """The active user with this id, or None (deactivated users lose their sessions).

    With ``epoch`` (from a session cookie) the user is None unless it is the current one.
    """
    with platform.uow() as uow:
        user = uow.session.get(User, user_id)
        if user is None or not user.active:
            return None
        if epoch is not None and epoch != (user.session_epoch or 0):
            return None
        return SessionUser.of(user)


def sign_out(platform: Platform, user_id: int) -> None:
    """End every session of this user (cookie-only sessions: bump the epoch)."""
    with platform.uow() as uow:
        bump_session_epoch(uow.session, user_id)
        append_audit(
            uow.session,
            actor=f"user:{user_id}",
            action="auth.logout",
            object_type="user",
            object_id=user_id,
            details={},
        )
        uow.commit()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _parse_scopes(scopes: str | tuple[str, ...]) -> str:
    wanted = scopes.replace(",", " ").split() if isinstance(scopes, str) else list(scopes)
    unknown = sorted(set(wanted) - set(TOKEN_SCOPES))
    if unknown or not wanted:
        raise TokenError(f"token scopes {unknown or wanted} must be among {list(TOKEN_SCOPES)}")
    return " ".join(s for s in TOKEN_SCOPES if s in wanted)


def create_token(
    platform: Platform,
    username: str,
    name: str = "",
    actor: str = "cli",
    *,
    scopes: str | tuple[str, ...] = "read",
    days: int = TOKEN_DAYS,
) -> str:
    """Create an API token for a user; the plaintext is returned once and never stored."""
    if not 1 <= days <= 366:
        raise TokenError(f"token lifetime {days} days must be between 1 and 366")
    scope_text = _parse_scopes(scopes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = platform.clock.now()
    with platform.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise TokenInvalid(f"no active user {username!r}")
        row = ApiToken(
            user_id=user.id,
            name=name[:100],
            token_hash=_hash_token(token),
            created_at=now,
            revoked=False,
            scopes=scope_text,
            expires_at=now + timedelta(days=days),
        )
        uow.session.add(row)
        uow.session.flush()
        append_audit(
            uow.session,
            actor=actor,
            action="api_token.create",
            object_type="user",
            object_id=user.id,
            details={"token_id": row.id, "name": name, "scopes": scope_text, "days": days},
        )
        uow.commit()
    return token


def revoke_tokens(
    platform: Platform, username: str, name: str | None = None, actor: str = "cli"
) -> int:
    """Revoke the user's token called ``name`` (or all of them when None); how many."""
    with platform.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user {username!r}")
        live = select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
        if name is not None:
            live = live.where(ApiToken.name == name)
        ids = list(uow.session.scalars(live))
        uow.session.execute(update(ApiToken).where(ApiToken.id.in_(ids)).values(revoked=True))
        count = len(ids)
        if name is not None and count == 0:
            raise NotFound(f"user {username!r} has no live token named {name!r}")
        append_audit(
            uow.session,
            actor=actor,
            action="api_token.revoke",
            object_type="user",
            object_id=user.id,
            details={"name": name, "all": name is None, "count": count},
        )
        uow.commit()
    return count


def token_identity(platform: Platform, token: str, now: datetime | None = None) -> TokenIdentity:
    """The active user and scopes of a bearer token; ``TokenInvalid`` otherwise."""
    now = now or platform.clock.now()
    with platform.uow() as uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
        user = uow.session.get(User, row.user_id) if row is not None else None
        if (
            row is None
            or row.revoked
            or row.expires_at is None
            or row.expires_at <= now
            or user is None
            or not user.active
        ):
            raise TokenInvalid(
                "the API token is unknown, expired, revoked, or its user is deactivated"
            )
        if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH:
            uow.session.execute(
                update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
            )
            uow.commit()
        return TokenIdentity(SessionUser.of(user), frozenset(row.scopes.split()))


def user_for_token(platform: Platform, token: str) -> SessionUser:
    """The active user a bearer token belongs to; ``TokenInvalid`` otherwise."""
    return token_identity(platform, token).user
