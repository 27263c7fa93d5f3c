"""Notifications: rows on a person's worklist, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..extensions import Model


class Notification(Model):
    """Addressed to a user, to everyone of an organisation, or to the coordinators of a region.

    ``dedupe_key`` makes a reminder written by a periodic job idempotent."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    message: Mapped[str] = mapped_column(sa.Text, nullable=False)
    link: Mapped[str | None] = mapped_column(sa.String(200))
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint(
            "user_id IS NOT NULL OR organization_id IS NOT NULL OR region_code IS NOT NULL", name="has_addressee"
        ),
    )
