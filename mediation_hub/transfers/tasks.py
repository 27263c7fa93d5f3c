"""Periodic work for transfers: expire unanswered requests and escalate them (listed in scheduler.JOBS)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..core.actor import SYSTEM
from ..extensions import db
from ..registry.models import Organization
from .models import Transfer, TransferStatus
from .service import expire_transfer, shanghai_date


def expire_overdue_transfers(now: datetime) -> int:
    """Expire every pending transfer whose answer-by date has passed (``today > respond_by`` in Shanghai),
    escalating each to the coordinators of both regions. Idempotent; returns how many expired now.

    A request to an organisation of another hub expires there (that hub owns the answer); its expiry comes back
    as a ``transfer.answered`` message and is mirrored here."""
    today = shanghai_date(now)
    remote = sa.select(Organization.id).where(Organization.hub_id.is_not(None))
    overdue = db.session.scalars(
        sa.select(Transfer)
        .where(
            Transfer.status == TransferStatus.pending,
            Transfer.respond_by < today,
            Transfer.to_organization_id.not_in(remote),
        )
        .order_by(Transfer.respond_by, Transfer.id)
    ).all()
    return sum(1 for transfer in overdue if expire_transfer(SYSTEM, transfer, now))
