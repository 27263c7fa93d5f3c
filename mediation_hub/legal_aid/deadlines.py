"""A legal-aid application's open clocks counted again after a calendar year changed (``calendars.service``):
the 7-day decision from receipt and the 3-day assignment from the grant (Legal Aid Law art. 43), never
earlier than the date already given. A move is an event on the application and a notification to the centre
holding it."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..core.actor import Actor
from ..core.calendar import Deadline, DeadlineMove, calendar_deadline
from ..core.shanghai import today_shanghai
from ..extensions import db
from ..notifications.service import notify
from .events import record_event
from .models import ApplicationStatus as S
from .models import LegalAidApplication as A
from .reference import ASSIGN_WITHIN_DAYS, DECIDE_WITHIN_DAYS
from .service import OPEN_FOR_DECISION

DEADLINE_LABELS = {"decide_by": "审查决定期限", "assign_by": "指派律师期限"}


def recount_application_deadlines(actor: Actor, year: int) -> list[DeadlineMove]:
    """Count again every open decision or assignment clock whose period touches ``year``."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    moves = []
    deciding = db.session.scalars(sa.select(A).where(
        A.status.in_(OPEN_FOR_DECISION), A.decide_by >= first, A.received_on <= last).order_by(A.id)).all()
    for application in deciding:
        fresh = calendar_deadline(application.received_on, DECIDE_WITHIN_DAYS)
        moves.append(_settle(actor, application, "decide_by", fresh, year))
    assigning = db.session.scalars(sa.select(A).where(
        A.status == S.granted, A.assign_by >= first, A.decided_on <= last).order_by(A.id)).all()
    for application in assigning:
        fresh = calendar_deadline(application.decided_on, ASSIGN_WITHIN_DAYS)
        moves.append(_settle(actor, application, "assign_by", fresh, year))
    return moves


def _settle(actor: Actor, application: A, field: str, fresh: Deadline, year: int) -> DeadlineMove:
    move = DeadlineMove("legal_aid", application.id, application.number, field, DEADLINE_LABELS[field],
                        getattr(application, field), fresh.day, fresh.provisional, year)
    setattr(application, f"{field}_provisional", fresh.provisional)
    if move.moved:
        setattr(application, field, move.day)
        record_event(application, "deadline_moved", actor, today_shanghai(), move.event_data())
        notify(kind="deadline_moved", organization_id=application.centre_id,
               link=f"/legal-aid/applications/{application.id}", message=f"法律援助申请 {move.message()}")
    db.session.flush()
    return move
