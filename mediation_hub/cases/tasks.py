"""Periodic case reminders (job ``cases.reminders`` in scheduler.py).

Written as notifications to the handling organisation, each with a dedupe key, so the job may run any
number of times a day and still remind once per deadline:

- the judicial-confirmation window (People's Mediation Law art. 33) of an agreement closes within
  ``CASE_REMINDER_DAYS`` days and no application has been recorded;
- a follow-up visit is due within ``CASE_REMINDER_DAYS`` days (or already past) and none has been recorded;
- an accepted or in-mediation case has passed its time limit.
Messages carry the case number only, never a party's personal numbers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..core.shanghai import SHANGHAI
from ..extensions import db
from ..notifications.service import notify
from .models import Case, CaseStatus, ConfirmationStatus, FollowUp, Outcome
from .rules import RUNNING_STATES


def _link(case: Case) -> str:
    return f"/cases/{case.id}"


def _confirmation_reminders(today: date, horizon: date) -> int:
    stmt = sa.select(Case).where(
        Case.status == CaseStatus.concluded,
        Case.outcome == Outcome.agreement,
        Case.confirmation_status == ConfirmationStatus.none,
        Case.confirmation_deadline >= today,
        Case.confirmation_deadline <= horizon,
    )
    written = 0
    for case in db.session.scalars(stmt):
        deadline = case.confirmation_deadline
        assert deadline is not None  # the query asked for one
        note = notify(
            kind="case_confirmation_window",
            organization_id=case.organization_id,
            link=_link(case),
            dedupe_key=f"case-confirmation:{case.id}:{deadline.isoformat()}",
            message=f"案件 {case.number} 的调解协议申请司法确认期限将于 "
            f"{deadline.isoformat()} 届满，如当事人需要请及时共同申请",
        )
        written += note is not None
    return written


def _follow_up_reminders(horizon: date) -> int:
    visited = sa.select(FollowUp.case_id)
    stmt = sa.select(Case).where(
        Case.status == CaseStatus.concluded, Case.follow_up_due_on <= horizon, Case.id.not_in(visited)
    )
    written = 0
    for case in db.session.scalars(stmt):
        due_on = case.follow_up_due_on
        assert due_on is not None  # the query asked for one
        note = notify(
            kind="case_follow_up_due",
            organization_id=case.organization_id,
            link=_link(case),
            dedupe_key=f"case-follow-up:{case.id}:{due_on.isoformat()}",
            message=f"案件 {case.number} 应于 {due_on.isoformat()} 前回访，了解协议履行情况",
        )
        written += note is not None
    return written


def _overdue_reminders(today: date) -> int:
    stmt = sa.select(Case).where(Case.status.in_(RUNNING_STATES), Case.due_on < today)
    written = 0
    for case in db.session.scalars(stmt):
        due_on = case.due_on
        assert due_on is not None  # the query asked for one
        note = notify(
            kind="case_overdue",
            organization_id=case.organization_id,
            link=_link(case),
            dedupe_key=f"case-overdue:{case.id}:{due_on.isoformat()}",
            message=f"案件 {case.number} 已超过办理期限 {due_on.isoformat()}，请尽快办结或经当事人同意延长期限",
        )
        written += note is not None
    return written


def send_case_reminders(now: datetime) -> int:
    """Write the due case reminders (idempotent); returns how many new notifications were written."""
    today = now.astimezone(SHANGHAI).date()
    horizon = today + timedelta(days=int(current_app.config.get("CASE_REMINDER_DAYS", 5)))
    return _confirmation_reminders(today, horizon) + _follow_up_reminders(horizon) + _overdue_reminders(today)
