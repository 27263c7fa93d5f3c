"""Server-side sessions of signed-in browsers: a random key in the (signed) Flask session cookie, its SHA-256
in ``user_sessions``. A page request is signed in only while the row is live, so signing out ends exactly that
browser's session at once, and a password change, reset or deactivation ends every session of the account.

Plain service functions (no request, no Flask session): ``auth.browser`` is the glue that reads the cookie."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..audit import service as audit
from ..core.db import affected_rows, utcnow
from ..extensions import db
from .models import User, UserSession

# last_seen_at is written at most this often: one UPDATE a minute per browser, not one per page.
TOUCH_INTERVAL = timedelta(minutes=1)

_BROWSERS = (
    ("Edg/", "Edge"),
    ("MicroMessenger", "WeChat"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def key_digest(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


def summarise_client(user_agent: str | None) -> str | None:
    """ "Chrome / Windows": the kind of browser and system only, never the full header (versions, device
    models and extensions in it can single a person out)."""
    if not user_agent:
        return None
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser is None and system is None:
        return "other"
    return " / ".join(part for part in (browser, system) if part)


def _address(remote_addr: str | None) -> str | None:
    """The address as the connection gave it, or nothing when it does not look like one."""
    if remote_addr and len(remote_addr) <= 64 and re.fullmatch(r"[0-9A-Fa-f:.]+", remote_addr):
        return remote_addr
    return None


def start_session(
    user: User, lifetime: timedelta, *, remote_addr: str | None = None, user_agent: str | None = None
) -> tuple[str, UserSession]:
    """A new live session for ``user``; the clear key is returned once (for the cookie) and never stored."""
    clear = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        user_id=user.id,
        key_hash=key_digest(clear),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        remote_addr=_address(remote_addr),
        client=summarise_client(user_agent),
    )
    db.session.add(row)
    db.session.flush()
    return clear, row


def live_session(clear: str | None, user_id: str | None, *, now: datetime | None = None) -> UserSession | None:
    """The session this key opens for this user id, or None when it is unknown, revoked, expired, another
    user's, or its account is switched off."""
    if not clear or not user_id:
        return None
    row = db.session.scalar(
        sa.select(UserSession).options(joinedload(UserSession.user)).where(UserSession.key_hash == key_digest(clear))
    )
    now = now or utcnow()
    if row is None or str(row.user_id) != str(user_id) or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row if row.user.active else None


def touch_due(row: UserSession, *, now: datetime | None = None) -> bool:
    """Whether the browser's "still in use" stamp is older than ``TOUCH_INTERVAL`` (no write needed otherwise)."""
    return (now or utcnow()) - row.last_seen_at >= TOUCH_INTERVAL


def touch_session(row: UserSession, *, now: datetime | None = None) -> bool:
    """Note that the browser is still in use, at most once per ``TOUCH_INTERVAL``; True when written."""
    now = now or utcnow()
    if not touch_due(row, now=now):
        return False
    # Conditional: of two requests of one browser arriving together only one writes.
    result = db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == row.id, UserSession.last_seen_at < now - TOUCH_INTERVAL)
        .values(last_seen_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return affected_rows(result) == 1


def revoke_session(clear: str | None) -> UserSession | None:
    """Revoke the live session this key opens, if any (a browser signing in again drops its previous one)."""
    if not clear:
        return None
    row = db.session.scalar(sa.select(UserSession).where(UserSession.key_hash == key_digest(clear)))
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at = utcnow()
    db.session.flush()
    return row


def end_session(clear: str | None, *, remote_addr: str | None = None) -> UserSession | None:
    """Sign out: revoke the session this key opens (the captured cookie stops working at once); audited."""
    row = revoke_session(clear)
    if row is not None:
        audit.record(
            row.user.to_actor(), "sign_out", target_type="user", target_id=row.user_id, remote_addr=remote_addr
        )
    return row


def revoke_user_sessions(user_id: int, *, now: datetime | None = None) -> int:
    """Revoke every live session of an account (password change or reset, deactivation); how many."""
    result = db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return affected_rows(result)
