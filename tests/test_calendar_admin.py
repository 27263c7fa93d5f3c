"""The working-day calendar page: administrators only; loading a year changes the deadlines counted."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.audit.models import AuditEntry
from mediation_hub.core.actor import Role
from mediation_hub.core.calendar import CalendarNotCovered, CalendarYear, add_working_days
from mediation_hub.extensions import db


@pytest.mark.parametrize("role", [Role.mediator, Role.coordinator, Role.registry_admin, Role.legal_aid_officer])
def test_calendar_page_is_for_administrators_only(signed_in, role):
    client = signed_in(role=role)
    db.session.commit()  # an error page rolls the session back; keep the user
    assert client.get("/calendar").status_code == 403
    response = client.post("/calendar", data={"year": "2030", "holidays": "2030-01-02"})
    assert response.status_code == 403
    assert db.session.get(CalendarYear, 2030) is None


def test_admin_sees_loaded_years_with_their_source(signed_in):
    client = signed_in(role=Role.admin)
    page = client.get("/calendar").get_data(as_text=True)
    assert "2025" in page and "chinesecalendar" in page


def test_admin_sees_a_years_holidays_and_make_up_days(signed_in):
    client = signed_in(role=Role.admin)
    page = client.get("/calendar?year=2025").get_data(as_text=True)
    # 2025 National Day: 10-01..10-08 off, Saturday 10-11 worked (make-up for the holiday)
    assert "2025-10-08" in page
    assert "2025-10-11" in page


def test_loading_a_year_makes_deadlines_countable_and_is_audited(signed_in):
    admin_client = signed_in(role=Role.admin)
    with pytest.raises(CalendarNotCovered):
        add_working_days(date(2030, 1, 1), 3)
    response = admin_client.post("/calendar", data={
        "year": "2030", "holidays": "2030-01-02\n\n", "workdays": "2030-01-05", "source": "国务院办公厅通知"})
    assert response.status_code == 302
    # 2030-01-01 is a Tuesday. After it: Wed 01-02 holiday (skipped), Thu 01-03 (1), Fri 01-04 (2),
    # Sat 01-05 make-up workday (3).
    assert add_working_days(date(2030, 1, 1), 3) == date(2030, 1, 5)
    assert db.session.get(CalendarYear, 2030).source == "国务院办公厅通知"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "calendar_loaded"))
    assert entry.target_id == "2030" and entry.detail["holidays"] == 1


def test_correcting_a_loaded_year_replaces_it(signed_in):
    client = signed_in(role=Role.admin)
    # With the official 2025 calendar: 5 working days from 2025-09-29 is 2025-10-13 (issue's worked example).
    assert add_working_days(date(2025, 9, 29), 5) == date(2025, 10, 13)
    response = client.post("/calendar", data={"year": "2025", "holidays": "", "workdays": ""})
    assert response.status_code == 302
    # A plain year: Tue 09-30 (1), Wed 10-01 (2), Thu 10-02 (3), Fri 10-03 (4), Mon 10-06 (5).
    assert add_working_days(date(2025, 9, 29), 5) == date(2025, 10, 6)


def test_bad_dates_are_shown_next_to_the_field_and_nothing_is_loaded(signed_in):
    client = signed_in(role=Role.admin)
    db.session.commit()  # the failed load rolls the session back; keep the user
    response = client.post("/calendar", data={
        "year": "2031", "holidays": "2031-01-01\n2031-13-01", "workdays": "2030-12-30"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "第2行不是有效日期" in page
    assert db.session.get(CalendarYear, 2031) is None
    # the entered text is kept for correction
    assert "2031-13-01" in page

    response = client.post("/calendar", data={"year": "2031", "holidays": "", "workdays": "2030-12-30"})
    assert response.status_code == 422
    assert "dates outside 2031" in response.get_data(as_text=True)
    assert db.session.get(CalendarYear, 2031) is None
