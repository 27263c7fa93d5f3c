"""Case reminders: the judicial-confirmation window, the follow-up visit and overdue cases, once each."""

import re
from datetime import UTC, date, datetime

import sqlalchemy as sa

from mediation_hub.cases import service
from mediation_hub.cases.models import CaseStatus, ConfirmationStatus, Outcome
from mediation_hub.cases.tasks import send_case_reminders
from mediation_hub.core.actor import SYSTEM
from mediation_hub.extensions import db
from mediation_hub.notifications.models import Notification

FULL_ID = r"\d{17}[\dXx]"


def _notes(org_id):
    return db.session.scalars(
        sa.select(Notification).where(Notification.organization_id == org_id).order_by(Notification.kind)
    ).all()


def test_confirmation_window_reminder_before_it_closes_once(make_org, make_case):
    org = make_org()
    # Concluded 2026-01-05 -> window closes 2026-02-04 (hand-worked in test_cases_transitions).
    case = make_case(org, CaseStatus.concluded, received_on=date(2026, 1, 2), concluded_on=date(2026, 1, 5))
    # 2026-01-29 08:00 in Shanghai is 00:00 UTC; the horizon (5 days) reaches 02-03: not yet.
    assert [n.kind for n in _notes(org.id) if n.kind == "case_confirmation_window"] == []
    send_case_reminders(datetime(2026, 1, 29, 0, 0, tzinfo=UTC))
    assert [n.kind for n in _notes(org.id) if n.kind == "case_confirmation_window"] == []
    # On 01-30 the horizon reaches 02-04.
    assert send_case_reminders(datetime(2026, 1, 30, 0, 0, tzinfo=UTC)) >= 1
    [note] = [n for n in _notes(org.id) if n.kind == "case_confirmation_window"]
    assert case.number in note.message and "2026-02-04" in note.message and note.link == f"/cases/{case.id}"
    send_case_reminders(datetime(2026, 1, 31, 0, 0, tzinfo=UTC))
    assert len([n for n in _notes(org.id) if n.kind == "case_confirmation_window"]) == 1


def test_no_confirmation_reminder_once_applied_or_without_agreement(make_org, make_case):
    org = make_org()
    make_case(
        org,
        CaseStatus.concluded,
        confirmation=ConfirmationStatus.applied,
        received_on=date(2026, 1, 2),
        concluded_on=date(2026, 1, 5),
    )
    make_case(
        org,
        CaseStatus.concluded,
        outcome=Outcome.no_agreement,
        received_on=date(2026, 1, 2),
        concluded_on=date(2026, 1, 5),
    )
    send_case_reminders(datetime(2026, 2, 1, 0, 0, tzinfo=UTC))
    assert [n for n in _notes(org.id) if n.kind == "case_confirmation_window"] == []


def test_follow_up_reminder_until_a_visit_is_recorded(make_org, make_case):
    org = make_org()
    visited = make_case(org, CaseStatus.concluded, received_on=date(2026, 1, 2), concluded_on=date(2026, 1, 5))
    pending = make_case(org, CaseStatus.concluded, received_on=date(2026, 1, 2), concluded_on=date(2026, 1, 5))
    service.record_follow_up(SYSTEM, visited.id, visited_on=date(2026, 1, 20), summary="已履行")
    assert pending.follow_up_due_on == date(2026, 2, 4)
    send_case_reminders(datetime(2026, 2, 10, 0, 0, tzinfo=UTC))
    follow = [n for n in _notes(org.id) if n.kind == "case_follow_up_due"]
    assert [pending.number in n.message for n in follow] == [True]


def test_overdue_reminder_once_per_due_date(make_org, make_case):
    org = make_org()
    case = make_case(org, CaseStatus.accepted)  # due 2026-04-01
    assert send_case_reminders(datetime(2026, 4, 1, 0, 0, tzinfo=UTC)) == 0
    assert send_case_reminders(datetime(2026, 4, 2, 0, 0, tzinfo=UTC)) == 1
    assert send_case_reminders(datetime(2026, 4, 3, 0, 0, tzinfo=UTC)) == 0
    service.extend_time_limit(SYSTEM, case.id, days=10, consent_note="双方同意", extended_on=date(2026, 4, 2))
    # New due date 2026-04-11 (Sat) -> Mon 04-13; overdue again from 04-14, reminded once more.
    assert case.due_on == date(2026, 4, 13)
    assert send_case_reminders(datetime(2026, 4, 14, 0, 0, tzinfo=UTC)) == 1
    assert not any(re.search(FULL_ID, n.message) for n in _notes(org.id))
