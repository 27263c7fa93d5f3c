"""A legal-aid application's clocks: the one function giving the decision deadline, and the open clocks counted
again after a calendar year changed (``calendars.service``): the 7-day decision from receipt and the 3-day
assignment from the grant (Legal Aid Law art. 43), never earlier than the date already given. A move is an event
on the application and a notification to the centre holding it.

The pause for further materials. Art. 43 para. 2 lets the centre tell the applicant once which materials to
supplement or what to explain; 司法部《办理法律援助案件程序规定》 adds that the time the applicant needs to supplement
or explain is not counted in the review period. Counted as the law counts periods (Civil Code art. 201: a period
in days starts the day after the event), the applicant's time runs from the day after the request up to and
including the day the materials arrive, so ``received - requested`` days are left out (a reply on the day of the
request pauses nothing). Only days after the centre received the application count, since the review period
itself starts then. The days left out are added to the 7 before the end is moved past rest days (art. 203), so a
decision deadline that was moved over a holiday is never moved twice."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..core.actor import Actor
from ..core.calendar import Deadline, DeadlineMove, calendar_deadline
from ..core.shanghai import today_shanghai
from ..extensions import db
from ..notifications.service import notify
from .events import record_event
from .models import OPEN_FOR_DECISION
from .models import ApplicationStatus as S
from .models import LegalAidApplication as A
from .reference import ASSIGN_WITHIN_DAYS, DECIDE_WITHIN_DAYS

DEADLINE_LABELS = {"decide_by": "审查决定期限", "assign_by": "指派律师期限"}


def supplement_pause_days(application: A, received_on: date | None = None) -> int:
    """Days of the review period the applicant spent supplementing materials (0 until they are received).

    ``received_on`` is the day the centre received the application (default: the one recorded)."""
    start = received_on or application.received_on
    requested, supplemented = application.supplement_requested_on, application.supplement_received_on
    if requested is None or supplemented is None or start is None:
        return 0
    return max(0, (supplemented - max(requested, start)).days)


def decision_deadline(application: A, received_on: date | None = None, *, field: str = "received_on") -> Deadline:
    """The art. 43 decision deadline: 7 days after the centre received the application (``received_on``, default
    the day recorded), plus the days paused for further materials, moved past rest days at its end."""
    start = received_on or application.received_on
    assert start is not None, "an application is received before its decision is due"
    return calendar_deadline(start, DECIDE_WITHIN_DAYS + supplement_pause_days(application, start), field=field)


def recount_application_deadlines(actor: Actor, year: int) -> list[DeadlineMove]:
    """Count again every open decision or assignment clock whose period touches ``year``."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    moves = []
    deciding = db.session.scalars(
        sa.select(A).where(A.status.in_(OPEN_FOR_DECISION), A.decide_by >= first, A.received_on <= last).order_by(A.id)
    ).all()
    for application in deciding:
        fresh = decision_deadline(application)
        moves.append(_settle(actor, application, "decide_by", fresh, year))
    assigning = db.session.scalars(
        sa.select(A).where(A.status == S.granted, A.assign_by >= first, A.decided_on <= last).order_by(A.id)
    ).all()
    for application in assigning:
        assert application.decided_on is not None  # granted: decided
        fresh = calendar_deadline(application.decided_on, ASSIGN_WITHIN_DAYS)
        moves.append(_settle(actor, application, "assign_by", fresh, year))
    return moves


def _settle(actor: Actor, application: A, field: str, fresh: Deadline, year: int) -> DeadlineMove:
    move = DeadlineMove(
        "legal_aid",
        application.id,
        application.number,
        field,
        DEADLINE_LABELS[field],
        getattr(application, field),
        fresh.day,
        fresh.provisional,
        year,
    )
    setattr(application, f"{field}_provisional", fresh.provisional)
    if move.moved:
        setattr(application, field, move.day)
        record_event(application, "deadline_moved", actor, today_shanghai(), move.event_data())
        notify(
            kind="deadline_moved",
            organization_id=application.centre_id,
            link=f"/legal-aid/applications/{application.id}",
            message=f"法律援助申请 {move.message()}",
        )
    db.session.flush()
    return move
