"""Tables of the web application: API tokens and login attempts (for rate limiting)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class ApiToken(Base):
    """A machine client's bearer token; only its SHA-256 is stored.

    ``scopes`` is a space-separated subset of ``read write``; a token without ``expires_at``
    or past it is refused; ``last_used_at`` is refreshed at most once a minute.
    """

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    scopes: Mapped[str] = mapped_column(String(64), default="read", server_default="read")
    expires_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """One sign-in attempt, kept to throttle password guessing per username and address."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    success: Mapped[bool] = mapped_column(Boolean, default=False)
