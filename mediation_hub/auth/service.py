"""Passwords (argon2), users, and API bearer tokens (random, stored hashed, expiring, revocable)."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from argon2 import DEFAULT_MEMORY_COST, DEFAULT_TIME_COST, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy.orm import joinedload

from ..audit import service as audit
from ..core.actor import ORGANIZATION_SCOPED_ROLES, Actor, Role
from ..core.db import utcnow
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from .models import ApiToken, User


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    return hasher, hasher.hash("not-a-password")


def _hasher() -> PasswordHasher:
    """argon2 with the configured cost (argon2-cffi's defaults unless the settings say otherwise)."""
    return _hasher_for(*_hash_cost())[0]


def _hash_cost() -> tuple[int, int]:
    config = current_app.config if has_app_context() else {}
    return (config.get("PASSWORD_HASH_TIME_COST", DEFAULT_TIME_COST),
            config.get("PASSWORD_HASH_MEMORY_COST", DEFAULT_MEMORY_COST))


MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def authenticate(username: str, password: str, *, remote_addr: str | None = None) -> User | None:
    """The active user with this name and password, or None. Both outcomes are audited."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    try:
        ok = user is not None and _hasher().verify(user.password_hash, password) and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if user is None:
        with contextlib.suppress(VerificationError):  # same time as a real check: names cannot be probed
            _hasher().verify(_hasher_for(*_hash_cost())[1], password)
    if not ok:
        audit.record(None, "sign_in_failed", username=username[:60], remote_addr=remote_addr)
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    audit.record(user.to_actor(), "sign_in", target_type="user", target_id=user.id, remote_addr=remote_addr)
    return user


def create_user(actor: Actor, *, username: str, password: str, role: Role | str,
                organization_id: int | None = None, region_code: str | None = None,
                display_name: str | None = None, mediator_id: int | None = None) -> User:
    """Create an account; organisation-scoped roles need an organisation."""
    if not actor.has_role(Role.admin):
        raise PermissionDenied("only an administrator creates accounts")
    errors: dict[str, list[str]] = {}
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = [f"unknown role; one of {', '.join(r.value for r in Role)}"]
    if not username or len(username) > 60:
        errors["username"] = ["1 to 60 characters"]
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = ["already taken"]
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"at least {MIN_PASSWORD_LENGTH} characters"]
    if role in ORGANIZATION_SCOPED_ROLES and organization_id is None and "role" not in errors:
        errors["organization"] = ["this role works for an organisation; give --organization"]
    if organization_id is not None:
        from ..registry.models import Organization

        if db.session.get(Organization, organization_id) is None:
            errors["organization"] = ["unknown organisation"]
    if region_code is not None:
        from ..regions.models import Region

        if db.session.get(Region, region_code) is None:
            errors["region"] = ["unknown region code"]
    if errors:
        raise ValidationFailed(errors)
    user = User(username=username, password_hash=hash_password(password), role=role,
                organization_id=organization_id, region_code=region_code, display_name=display_name,
                mediator_id=mediator_id)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user_created", target_type="user", target_id=user.id, detail={"role": role.value})
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, ttl: timedelta, *, name: str | None = None) -> tuple[str, ApiToken]:
    """A new random bearer token; the clear value is returned once and never stored."""
    clear = secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=_digest(clear), name=name, expires_at=utcnow() + ttl)
    db.session.add(token)
    db.session.flush()
    audit.record(user.to_actor(), "token_issued", target_type="api_token", target_id=token.id)
    return clear, token


def user_for_token(clear: str, *, now: datetime | None = None) -> User | None:
    """The user a live token belongs to, or None for an unknown, expired or revoked token."""
    token = db.session.scalar(sa.select(ApiToken).options(joinedload(ApiToken.user))
                              .where(ApiToken.token_hash == _digest(clear)))
    now = now or utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now or not token.user.active:
        return None
    return token.user


def revoke_token(actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens (an administrator may revoke anyone's)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not actor.is_admin):
        raise NotFound("token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "token_revoked", target_type="api_token", target_id=token.id)
    db.session.flush()
    return token


def revoke_presented_token(clear: str) -> None:
    """Revoke the token the caller presented (sign-out of an integration)."""
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _digest(clear)))
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(token.user.to_actor(), "token_revoked", target_type="api_token", target_id=token.id)
        db.session.flush()


def list_users(actor: Actor, *, q: str | None = None, role: Role | None = None) -> sa.Select:
    """Accounts, for an administrator, filtered by a name fragment and a role."""
    if not actor.has_role(Role.admin):
        raise PermissionDenied("only an administrator manages accounts")
    stmt = sa.select(User)
    if q:
        stmt = stmt.where(sa.or_(User.username.contains(q), User.display_name.contains(q)))
    if role:
        stmt = stmt.where(User.role == role)
    return stmt.order_by(User.username)


def set_user_active(actor: Actor, user_id: int, active: bool) -> User:
    """Switch an account on or off; a switched-off account cannot sign in and its tokens stop working."""
    if not actor.has_role(Role.admin):
        raise PermissionDenied("only an administrator manages accounts")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    if user.id == actor.user_id and not active:
        raise ValidationFailed({"active": ["you cannot switch off your own account"]})
    user.active = active
    db.session.flush()
    return user
