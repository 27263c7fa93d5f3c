"""Writing notifications in the caller's transaction, so a change and its notice commit together."""

from __future__ import annotations

import sqlalchemy as sa

from ..core.actor import Actor
from ..core.db import affected_rows, utcnow
from ..errors import NotFound
from ..extensions import db
from .models import Notification


def notify(
    *,
    kind: str,
    message: str,
    user_id: int | None = None,
    organization_id: int | None = None,
    region_code: str | None = None,
    link: str | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Add a notification (flushed). With ``dedupe_key`` an identical earlier notice makes this a no-op,
    so periodic reminders can run any number of times. Messages must not contain personal numbers."""
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(Notification).where(Notification.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    note = Notification(
        kind=kind,
        message=message,
        user_id=user_id,
        organization_id=organization_id,
        region_code=region_code,
        link=link,
        dedupe_key=dedupe_key,
    )
    db.session.add(note)
    db.session.flush()
    return note


# --- reading ------------------------------------------------------------------------------------------


def addressed_to(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL condition: notices for the user, for the user's organisation, or — for coordinators — for a
    region in their subtree (a coordinator without a region sees every region's notices)."""
    from ..core.actor import Role
    from ..regions.service import subtree_condition

    addressed = [Notification.user_id == actor.user_id] if actor.user_id is not None else []
    if actor.organization_id is not None:
        addressed.append(Notification.organization_id == actor.organization_id)
    if actor.role == Role.coordinator:
        addressed.append(
            subtree_condition(Notification.region_code, actor.region_code)
            if actor.region_code
            else Notification.region_code.is_not(None)
        )
    return sa.or_(*addressed) if addressed else sa.false()


def notifications_for(actor: Actor, *, unread_only: bool = False) -> sa.Select[tuple[Notification]]:
    """The actor's notifications, newest first. Read state is shared by everyone a notice is addressed to:
    once one member of an organisation has read (handled) it, it is read for the organisation."""
    stmt = sa.select(Notification).where(addressed_to(actor))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def unread_count(actor: Actor) -> int:
    """How many of the actor's notifications are unread (for the layout's 通知 (N))."""
    unread = (
        sa.select(sa.func.count()).select_from(Notification).where(addressed_to(actor), Notification.read_at.is_(None))
    )
    return db.session.scalar(unread) or 0  # a count always has its row


def get_notification(actor: Actor, notification_id: int) -> Notification:
    """A notification addressed to the actor, else NotFound (never another person's notice)."""
    note = db.session.scalar(notifications_for(actor).where(Notification.id == notification_id))
    if note is None:
        raise NotFound("notification")
    return note


def mark_read(actor: Actor, notification_id: int) -> Notification:
    """Mark a notification read (flushed). Marking a read notice again keeps its first read time."""
    note = get_notification(actor, notification_id)
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.flush()
    return note


def mark_all_read(actor: Actor) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    ids = sa.select(Notification.id).where(addressed_to(actor), Notification.read_at.is_(None))
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.id.in_(ids.scalar_subquery()))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    for loaded in [o for o in db.session.identity_map.values() if isinstance(o, Notification)]:
        db.session.expire(loaded, ["read_at"])
    return affected_rows(result)
