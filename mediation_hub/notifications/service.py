"""Writing notifications in the caller's transaction, so a change and its notice commit together."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from .models import Notification


def notify(*, kind: str, message: str, user_id: int | None = None, organization_id: int | None = None,
           region_code: str | None = None, link: str | None = None,
           dedupe_key: str | None = None) -> Notification | None:
    """Add a notification (flushed). With ``dedupe_key`` an identical earlier notice makes this a no-op,
    so periodic reminders can run any number of times. Messages must not contain personal numbers."""
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(Notification).where(Notification.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    note = Notification(kind=kind, message=message, user_id=user_id, organization_id=organization_id,
                        region_code=region_code, link=link, dedupe_key=dedupe_key)
    db.session.add(note)
    db.session.flush()
    return note
