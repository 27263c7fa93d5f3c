"""Passwords (argon2), users, and API bearer tokens (random, stored hashed, expiring, revocable)."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from argon2 import DEFAULT_MEMORY_COST, DEFAULT_TIME_COST, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy.orm import joinedload

from ..audit import service as audit
from ..core.actor import ORGANIZATION_SCOPED_ROLES, Actor, Role
from ..core.db import affected_rows, utcnow
from ..core.messages import coded
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from . import sessions
from .models import ApiToken, User
from .policy import POLICY


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    return hasher, hasher.hash("not-a-password")


def _hasher() -> PasswordHasher:
    """argon2 with the configured cost (argon2-cffi's defaults unless the settings say otherwise)."""
    return _hasher_for(*_hash_cost())[0]


def _hash_cost() -> tuple[int, int]:
    config = current_app.config if has_app_context() else {}
    return (
        config.get("PASSWORD_HASH_TIME_COST", DEFAULT_TIME_COST),
        config.get("PASSWORD_HASH_MEMORY_COST", DEFAULT_MEMORY_COST),
    )


MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def authenticate(username: str, password: str, *, remote_addr: str | None = None) -> User | None:
    """The active user with this name and password, or None. Both outcomes are audited. A name locked by the
    sign-in throttle raises throttle.SignInThrottled before the password is looked at (even the right one)."""
    from . import throttle

    throttle.check(username, remote_addr=remote_addr)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    try:
        ok = user is not None and _hasher().verify(user.password_hash, password) and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if user is None:
        with contextlib.suppress(VerificationError):  # same time as a real check: names cannot be probed
            _hasher().verify(_hasher_for(*_hash_cost())[1], password)
    if user is None or not ok:
        audit.record(None, "sign_in_failed", username=username[:60], remote_addr=remote_addr)
        throttle.failed(username, remote_addr=remote_addr)
        return None
    throttle.succeeded(username)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    audit.record(user.to_actor(), "sign_in", target_type="user", target_id=user.id, remote_addr=remote_addr)
    return user


def create_user(
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role | str,
    organization_id: int | None = None,
    region_code: str | None = None,
    display_name: str | None = None,
    mediator_id: int | None = None,
) -> User:
    """Create an account; organisation-scoped roles need an organisation."""
    POLICY.require(actor, "manage_accounts")
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 60:
        errors["username"] = [coded("username_length", "用户名须为 1 至 60 个字符")]
    elif db.session.scalar(sa.select(User.id).where(User.username == username)):
        errors["username"] = [coded("username_taken", "该用户名已被使用")]
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = [coded("password_too_short", "至少 %(min)s 个字符", min=MIN_PASSWORD_LENGTH)]
    checked_role = _check_role_and_scope(role, organization_id, region_code, errors)
    if errors or checked_role is None:
        raise ValidationFailed(errors)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=checked_role,
        organization_id=organization_id,
        region_code=region_code,
        display_name=display_name,
        mediator_id=mediator_id,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user_created", target_type="user", target_id=user.id, detail={"role": checked_role.value})
    return user


def _check_role_and_scope(
    role: Role | str, organization_id: int | None, region_code: str | None, errors: dict[str, list[str]]
) -> Role | None:
    """The role as a ``Role`` (None when unknown); what is wrong with the role, organisation and region is added
    to ``errors``."""
    checked: Role | None
    try:
        checked = Role(role)
    except ValueError:
        checked = None
        errors["role"] = [coded("unknown_role", "未知的角色，可选：%(roles)s", roles=", ".join(r.value for r in Role))]
    if checked in ORGANIZATION_SCOPED_ROLES and organization_id is None and "role" not in errors:
        errors["organization"] = [coded("organization_required", "该角色须隶属一个组织")]
    if organization_id is not None:
        from ..registry.models import Organization

        org = db.session.get(Organization, organization_id)
        if org is None:
            errors["organization"] = [coded("unknown_organization", "未知的组织")]
        elif org.is_remote:  # another hub's organisation: its people sign in on their own hub
            errors["organization"] = [
                coded("remote_organization_account", "该组织属于 %(hub)s 平台，其人员在该平台登录", hub=org.hub_id)
            ]
    if region_code is not None:
        from ..regions.models import Region

        if db.session.get(Region, region_code) is None:
            errors["region"] = [coded("unknown_region", "未知的行政区划代码")]
    return checked


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


@lru_cache(maxsize=1)
def _token_with_user() -> sa.Select[tuple[ApiToken]]:
    """The token with its user, by the token's hash (``token_hash``). Built once (on first use: the mappers are
    configured by then), so every API request finds its compiled SQL by a cache key computed once (memoised on the
    statement) instead of building both again."""
    return (
        sa.select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == sa.bindparam("token_hash", type_=sa.String))
    )


def user_for_token(clear: str, *, now: datetime | None = None) -> User | None:
    """The user a live token belongs to, or None for an unknown, expired or revoked token."""
    token = db.session.scalar(_token_with_user(), {"token_hash": _digest(clear)})
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


def list_users(actor: Actor, *, q: str | None = None, role: Role | None = None) -> sa.Select[tuple[User]]:
    """Accounts, for an administrator, filtered by a name fragment and a role."""
    POLICY.require(actor, "manage_accounts")
    stmt = sa.select(User)
    if q:
        stmt = stmt.where(sa.or_(User.username.contains(q), User.display_name.contains(q)))
    if role:
        stmt = stmt.where(User.role == role)
    return stmt.order_by(User.username)


def get_user(actor: Actor, user_id: int) -> User:
    """One account, for an administrator."""
    POLICY.require(actor, "manage_accounts")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    return user


def set_user_active(actor: Actor, user_id: int, active: bool) -> User:
    """Switch an account on or off; switching off revokes its tokens and signed-in sessions, and switching it
    on again revives none of them (the person signs in afresh). Each change is audited."""
    user = get_user(actor, user_id)
    if user.id == actor.user_id and not active:
        raise ValidationFailed({"active": [coded("cannot_deactivate_self", "不能停用自己的账户")]})
    was_active = user.active
    user.active = active
    db.session.flush()
    revoked = {} if active else revoke_credentials(user.id)
    if was_active != active:
        audit.record(
            actor,
            "user_reactivated" if active else "user_deactivated",
            target_type="user",
            target_id=user.id,
            detail={"before": {"active": was_active}, "after": {"active": active}, **revoked},
        )
    return user


def revoke_credentials(user_id: int) -> dict[str, int]:
    """Revoke every API token and every signed-in session of an account; how many of each (for the audit)."""
    now = utcnow()
    result = db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return {
        "tokens_revoked": affected_rows(result),
        "sessions_revoked": sessions.revoke_user_sessions(user_id, now=now),
    }


# --- passwords ---------------------------------------------------------------------------------------------


def _new_password_errors(user: User, new_password: str, *, compare_current: bool = True) -> list[str]:
    """What is wrong with ``new_password`` for this account (the rule every change and reset follows).
    ``compare_current`` is off when the caller has not proved they know the current password: the answer
    "same as the current one" would let them test guesses of it."""
    errors: list[str] = []
    if len(new_password or "") < MIN_PASSWORD_LENGTH:
        errors.append(coded("password_too_short", "至少 %(min)s 个字符", min=MIN_PASSWORD_LENGTH))
    if new_password and new_password.strip().casefold() == user.username.casefold():
        errors.append(coded("password_is_username", "新密码不能与用户名相同"))
    elif new_password and compare_current and _password_matches(user, new_password):
        errors.append(coded("password_unchanged", "新密码不能与当前密码相同"))
    return errors


def _password_matches(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _set_password(user: User, new_password: str) -> dict[str, int]:
    user.password_hash = hash_password(new_password)
    db.session.flush()
    return revoke_credentials(user.id)


def change_password(actor: Actor, current_password: str, new_password: str, *, remote_addr: str | None = None) -> User:
    """The signed-in person changes their own password. Every API token (the one used for the call too) and
    every signed-in session of the account is revoked; the page that asked opens a fresh session itself.

    A wrong current password is a failed sign-in: audited and counted by the sign-in throttle, which refuses
    (``throttle.SignInThrottled``) while the account is locked. On either error the audit row is the only
    thing written, so the caller commits it before answering."""
    from . import throttle

    user = db.session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not user.active:
        raise PermissionDenied(coded("sign_in_required", "请先登录再修改密码"))
    throttle.check(user.username, remote_addr=remote_addr)
    errors: dict[str, list[str]] = {}
    knows_current = _password_matches(user, current_password or "")
    if knows_current:
        throttle.succeeded(user.username)
    else:
        errors["current_password"] = [coded("wrong_current_password", "当前密码不正确")]
        audit.record(
            None, "sign_in_failed", username=user.username, remote_addr=remote_addr, detail={"via": "password_change"}
        )
        throttle.failed(user.username, remote_addr=remote_addr)
    if messages := _new_password_errors(user, new_password, compare_current=knows_current):
        errors["new_password"] = messages
    if errors:
        raise ValidationFailed(errors)
    revoked = _set_password(user, new_password)
    audit.record(
        actor, "password_changed", target_type="user", target_id=user.id, remote_addr=remote_addr, detail=revoked
    )
    return user


def reset_password(actor: Actor, user_id: int, new_password: str) -> User:
    """An administrator sets a new password for an account (``mediation-hub users set-password``); every API
    token and signed-in session of the account is revoked. Audited."""
    user = get_user(actor, user_id)
    if messages := _new_password_errors(user, new_password):
        raise ValidationFailed({"password": messages})
    revoked = _set_password(user, new_password)
    audit.record(actor, "password_reset", target_type="user", target_id=user.id, detail=revoked)
    return user


def user_by_username(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


# --- role and scope ----------------------------------------------------------------------------------------

AUDITED_ACCOUNT_FIELDS = ("role", "organization_id", "region_code")
EDITABLE_ACCOUNT_FIELDS = (*AUDITED_ACCOUNT_FIELDS, "display_name")


def update_user(actor: Actor, user_id: int, data: dict[str, Any]) -> User:
    """Change an account's role, organisation, region or display name (the keys of ``data`` that are given).
    A change of role or scope is audited with the values before and after; an administrator cannot change
    their own role (the hub would be left without one)."""
    user = get_user(actor, user_id)
    wanted = {name: data[name] for name in EDITABLE_ACCOUNT_FIELDS if name in data}
    merged = {name: wanted.get(name, getattr(user, name)) for name in AUDITED_ACCOUNT_FIELDS}
    errors: dict[str, list[str]] = {}
    wanted["role"] = _check_role_and_scope(merged["role"], merged["organization_id"], merged["region_code"], errors)
    if user.id == actor.user_id and wanted["role"] != user.role:
        errors.setdefault("role", []).append(coded("cannot_change_own_role", "不能更改自己的角色"))
    if errors:
        raise ValidationFailed(errors)
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    before = {name: _plain(getattr(user, name)) for name in changed if name in AUDITED_ACCOUNT_FIELDS}
    for name in changed:
        setattr(user, name, wanted[name])
    db.session.flush()
    if changed:
        # the display name may be a person's name: the entry says it changed, never what it says
        audit.record(
            actor,
            "user_updated",
            target_type="user",
            target_id=user.id,
            detail={
                "changed": changed,
                "before": before,
                "after": {name: _plain(getattr(user, name)) for name in before},
            },
        )
    return user


def _plain(value: object) -> object:
    return value.value if isinstance(value, Role) else value
