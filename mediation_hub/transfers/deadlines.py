"""A pending transfer's answer-by date counted again after a calendar year changed (``calendars.service``):
the agreement's working days from the request, never earlier than the date the receiver was given. A move is
an event on the case and a notification to the receiving organisation, which has to answer by it."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..cases.events import record_event
from ..core.actor import Actor
from ..core.calendar import DeadlineMove, working_deadline
from ..core.shanghai import today_shanghai
from ..extensions import db
from ..notifications.service import notify
from .models import Transfer, TransferStatus


def recount_transfer_deadlines(actor: Actor, year: int) -> list[DeadlineMove]:
    """Count again the answer-by date of every pending transfer whose period touches ``year``."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    pending = db.session.scalars(
        sa.select(Transfer)
        .where(Transfer.status == TransferStatus.pending, Transfer.respond_by >= first, Transfer.requested_on < last)
        .order_by(Transfer.id)
    ).all()
    moves = []
    for transfer in pending:
        fresh = working_deadline(transfer.requested_on, transfer.agreement.response_working_days)
        move = DeadlineMove(
            "transfer",
            transfer.id,
            transfer.case.number,
            "respond_by",
            "答复期限",
            transfer.respond_by,
            fresh.day,
            fresh.provisional,
            year,
        )
        transfer.respond_by_provisional = fresh.provisional
        if move.moved:
            transfer.respond_by = move.day
            record_event(
                transfer.case,
                "deadline_moved",
                actor,
                today_shanghai(),
                {**move.event_data(), "transfer_id": transfer.id},
            )
            notify(
                kind="deadline_moved",
                organization_id=transfer.to_organization_id,
                link=f"/transfers/{transfer.id}",
                message=f"{transfer.mode_label}请求（案件 {move.message()}）",
            )
        moves.append(move)
    db.session.flush()
    return moves
