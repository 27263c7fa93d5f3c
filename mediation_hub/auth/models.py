"""Accounts, their signed-in browser sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.actor import Actor, Role
from ..core.db import TimestampMixin, UTCDateTime, enum_column, utcnow
from ..extensions import Model


class User(UserMixin, TimestampMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(60), unique=True, nullable=False)
    display_name: Mapped[str | None] = mapped_column(sa.String(60))
    password_hash: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), nullable=False)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"))
    mediator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mediators.id"))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    locale: Mapped[str | None] = mapped_column(sa.String(10))

    organization = relationship("Organization")

    __table_args__ = (
        sa.CheckConstraint(
            "role NOT IN ('mediator', 'legal_aid_officer') OR organization_id IS NOT NULL",
            name="org_scoped_roles_have_org",
        ),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def to_actor(self) -> Actor:
        return Actor(
            user_id=self.id,
            username=self.username,
            role=self.role,
            organization_id=self.organization_id,
            region_code=self.region_code,
        )


class ApiToken(Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class UserSession(Model):
    """One signed-in browser: the Flask session cookie carries a random key, only its SHA-256 is stored here.

    A page request is signed in only while its row is live (not revoked, not expired, the account active), so
    signing out, a password change or a deactivation ends it on the server whatever cookie a browser keeps."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    client: Mapped[str | None] = mapped_column(sa.String(60))  # "Chrome / Windows": the browser kind only

    user: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint("expires_at > created_at", name="expires_after_created"),)
