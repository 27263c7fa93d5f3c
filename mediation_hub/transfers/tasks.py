"""Periodic work for transfers: expire unanswered requests and escalate them (listed in scheduler.JOBS)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..core.actor import SYSTEM
from ..extensions import db
from .models import Transfer, TransferStatus
from .service import expire_transfer, shanghai_date


def expire_overdue_transfers(now: datetime) -> int:
    """Expire every pending transfer whose answer-by date has passed (``today > respond_by`` in Shanghai),
    escalating each to the coordinators of both regions. Idempotent; returns how many expired now."""
    today = shanghai_date(now)
    overdue = db.session.scalars(
        sa.select(Transfer)
        .where(Transfer.status == TransferStatus.pending, Transfer.respond_by < today)
        .order_by(Transfer.respond_by, Transfer.id)
    ).all()
    return sum(1 for transfer in overdue if expire_transfer(SYSTEM, transfer, now))
