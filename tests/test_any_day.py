"""Nothing depends on the day the code was written: the demo and the main flows on three days with the clock
frozen, two of them in years whose holiday notice is not out (their deadlines are counted provisionally)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from mediation_hub.auth.models import User
from mediation_hub.cases.models import Case, CaseStatus
from mediation_hub.core.calendar import CalendarYear, YearStatus
from mediation_hub.extensions import db
from mediation_hub.legal_aid.models import ApplicationStatus, LegalAidApplication
from mediation_hub.seed import seed_demo
from mediation_hub.transfers.models import Transfer, TransferStatus
from tests.factories_cases import person
from tests.test_calendar_provisional import frozen

# Slow (the demo history and the main flows on three far-apart days): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

DAYS = [date(2026, 12, 20), date(2027, 6, 1), date(2030, 12, 15)]


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _provisional(day: date) -> bool:
    return db.session.get(CalendarYear, day.year).status == YearStatus.provisional


@pytest.mark.parametrize("today", DAYS, ids=[d.isoformat() for d in DAYS])
def test_the_demo_and_the_main_flows_on_any_day(api_as, today):
    with frozen(today):
        counts = seed_demo()
        assert counts["cases"] > 0 and counts["transfers"] == 1 and counts["legal_aid_applications"] == 1
        _the_demo_has_live_clocks(today)
        _a_mediator_registers_and_accepts(api_as, today)
        _the_partner_accepts_the_pending_transfer(api_as, today)
        _the_competent_centre_decides_in_time(api_as, today)
        _the_coordinator_reads_this_years_rates(api_as, today)


def _the_demo_has_live_clocks(today: date) -> None:
    transfer = db.session.scalar(sa.select(Transfer).where(Transfer.status == TransferStatus.pending))
    assert transfer.requested_on == today and transfer.respond_by > today
    application = db.session.scalar(sa.select(LegalAidApplication))
    assert application.status == ApplicationStatus.transferred and application.decide_by > today
    running = sa.select(Case.due_on).where(Case.status.in_((CaseStatus.accepted, CaseStatus.in_mediation)))
    due_dates = db.session.scalars(running).all()
    assert any(today <= due <= today + timedelta(days=7) for due in due_dates), "a case due this week"
    assert sum(due < today for due in due_dates) >= 2, "overdue cases"


def _a_mediator_registers_and_accepts(api_as, today: date) -> None:
    mediator = api_as(_user("mediator"))
    body = {
        "organization_id": mediator.user.organization_id,
        "category": "neighbour",
        "source": "party_application",
        "summary": "邻居装修噪音扰民",
        "received_on": today.isoformat(),
        "occurred_region_code": "130602",
        "amount_yuan": None,
        "major": False,
        "parties": [person("applicant", region_code="130602"), person("respondent", region_code="130602")],
    }
    registered = mediator.post("/api/v1/cases", json=body)
    assert registered.status_code == 201, registered.get_json()
    accepted = mediator.post(f"/api/v1/cases/{registered.get_json()['id']}/accept", json={})
    assert accepted.status_code == 200, accepted.get_json()
    case = accepted.get_json()
    due = date.fromisoformat(case["due_on"])
    assert case["accepted_on"] == today.isoformat() and today + timedelta(days=30) <= due <= today + timedelta(40)
    assert case["due_on_provisional"] is _provisional(due)


def _the_partner_accepts_the_pending_transfer(api_as, today: date) -> None:
    transfer = db.session.scalar(sa.select(Transfer).where(Transfer.status == TransferStatus.pending))
    answer = api_as(_user("mediator_bj")).post(f"/api/v1/transfers/{transfer.id}/accept", json={})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "accepted"


def _the_competent_centre_decides_in_time(api_as, today: date) -> None:
    officer = api_as(_user("legal_aid_hb"))
    application = db.session.scalar(sa.select(LegalAidApplication))
    accepted = officer.post(f"/api/v1/legal-aid/applications/{application.id}/accept", json={})
    assert accepted.status_code == 200, accepted.get_json()
    decide_by = date.fromisoformat(accepted.get_json()["decide_by"])
    assert decide_by >= today + timedelta(days=7)
    assert accepted.get_json()["decide_by_provisional"] is _provisional(decide_by)
    granted = officer.post(f"/api/v1/legal-aid/applications/{application.id}/decide", json={"granted": True})
    assert granted.status_code == 200, granted.get_json()
    assert date.fromisoformat(granted.get_json()["assign_by"]) >= today + timedelta(days=3)


def _the_coordinator_reads_this_years_rates(api_as, today: date) -> None:
    coordinator = api_as(_user("coordinator"))
    report = coordinator.get(f"/api/v1/reports/rates?region_code=130000&from={today.year}-01-01&to={today}")
    assert report.status_code == 200, report.get_json()
    assert report.get_json()["totals"]["received"] > 0
