"""A case's open deadlines counted again after a calendar year changed (``calendars.service``).

Each is counted from what it was counted from when it was set: the due date from the acceptance (the
organisation kind's time limit, as the ``accepted`` event recorded it) or from the due date an extension
started from; the 司法确认 window and the follow-up date from the conclusion. A deadline only ever moves later,
and each move is an event on the case and a notification to the handling organisation."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ...core.actor import Actor
from ...core.calendar import Deadline, DeadlineMove, calendar_deadline
from ...core.shanghai import today_shanghai
from ...extensions import db
from ...notifications.service import notify
from ..events import record_event
from ..models import Case, CaseEvent, CaseStatus, ConfirmationStatus, FollowUp, Outcome
from ..rules import RUNNING_STATES, confirmation_window_days, follow_up_days, time_limit_days

DEADLINE_LABELS = {"due_on": "办理期限", "confirmation_deadline": "司法确认申请期限", "follow_up_due_on": "回访期限"}


def recount_case_deadlines(actor: Actor, year: int) -> list[DeadlineMove]:
    """Count again every open case deadline whose period touches ``year``; move the later ones."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    moves = []
    running = db.session.scalars(
        sa.select(Case)
        .where(Case.status.in_(RUNNING_STATES), Case.due_on >= first, Case.accepted_on <= last)
        .order_by(Case.id)
    ).all()
    bases = _due_bases([case.id for case in running])
    for case in running:
        # A running case was accepted (CHECK accepted_has_dates; the query also asked for its acceptance date).
        assert case.accepted_on is not None, f"running case {case.id} has no acceptance date"
        start, days = bases.get(case.id) or (case.accepted_on, time_limit_days(case.organization.kind))
        moves.append(_settle(actor, case, "due_on", calendar_deadline(start, days), year))
    agreements = db.session.scalars(
        sa.select(Case)
        .where(
            Case.status == CaseStatus.concluded,
            Case.outcome == Outcome.agreement,
            Case.concluded_on <= last,
            sa.or_(
                sa.and_(Case.confirmation_status == ConfirmationStatus.none, Case.confirmation_deadline >= first),
                sa.and_(Case.follow_up_due_on >= first, ~sa.exists().where(FollowUp.case_id == Case.id)),
            ),
        )
        .order_by(Case.id)
    ).all()
    for case in agreements:
        concluded_on = case.concluded_on
        assert concluded_on is not None, f"concluded case {case.id} has no date"  # CHECK concluded_has_outcome
        window = case.confirmation_deadline
        if case.confirmation_status == ConfirmationStatus.none and window is not None and window >= first:
            fresh = calendar_deadline(concluded_on, confirmation_window_days())
            moves.append(_settle(actor, case, "confirmation_deadline", fresh, year))
        if case.follow_up_due_on is not None and case.follow_up_due_on >= first and not case.follow_ups:
            fresh = calendar_deadline(concluded_on, follow_up_days())
            moves.append(_settle(actor, case, "follow_up_due_on", fresh, year))
    return moves


def _due_bases(case_ids: list[int]) -> dict[int, tuple[date, int]]:
    """Per case, what its due date is counted from now: the last acceptance or extension event."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        sa.select(CaseEvent.case_id, CaseEvent.code, CaseEvent.on_date, CaseEvent.data)
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.code.in_(("accepted", "time_limit_extended")))
        .order_by(CaseEvent.case_id, CaseEvent.id)
    ).all()
    bases: dict[int, tuple[date, int]] = {}
    for case_id, code, on_date, data in rows:
        if code == "accepted" and data.get("time_limit_days"):
            bases[case_id] = (on_date, int(data["time_limit_days"]))
        elif code == "time_limit_extended" and data.get("previous_due_on"):
            bases[case_id] = (date.fromisoformat(data["previous_due_on"]), int(data["days"]))
    return bases


def _settle(actor: Actor, case: Case, field: str, fresh: Deadline, year: int) -> DeadlineMove:
    move = DeadlineMove(
        "case",
        case.id,
        case.number,
        field,
        DEADLINE_LABELS[field],
        getattr(case, field),
        fresh.day,
        fresh.provisional,
        year,
    )
    setattr(case, f"{field}_provisional", fresh.provisional)
    if move.moved:
        setattr(case, field, move.day)
        record_event(case, "deadline_moved", actor, today_shanghai(), move.event_data())
        notify(
            kind="deadline_moved",
            organization_id=case.organization_id,
            link=f"/cases/{case.id}",
            message=f"案件 {move.message()}",
        )
    db.session.flush()
    return move
