"""What an administrator does in the browser when the State Council's notice for next year comes out: open
工作日历, see 2027 marked 暂定, paste the notice's holidays (a range among them) and a make-up workday, read the
preview (the days that change and the deadline that will move), confirm, and see 2027 official.

Browser tests commit for real, and the calendar tables are reference data nobody wipes: the fixture gives the
test a provisional 2027 and afterwards puts back exactly the rows 2027 had before."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from mediation_hub.auth.service import create_user
from mediation_hub.cases.models import Case, CaseStatus
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.calendar import (
    PROVISIONAL_BASIS,
    CalendarDay,
    CalendarYear,
    YearStatus,
    provisional_holidays,
    write_year,
)
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.extensions import db
from tests.browser_steps import PASSWORD, screenshot

pytestmark = pytest.mark.browser

YEAR = 2027
# A notice as an administrator pastes it: one date or range per line. Against the provisional 2027 it makes five
# working days rest days (01-06, 02-11, 05-05, 10-06, 10-07) and two Saturdays make-up workdays (02-20, 10-09).
NOTICE_HOLIDAYS = """2027-01-01
2027-01-06
2027-02-05..2027-02-11
2027-04-05
2027-05-01..2027-05-05
2027-06-09
2027-09-15
2027-10-01..2027-10-07"""
NOTICE_WORKDAYS = "2027-02-20\n2027-10-09"


def _days_of(year: int):
    return CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))


@pytest.fixture
def provisional_2027():
    """2027 provisional for the test, whatever the installed package knows; afterwards the rows it had."""
    record = db.session.get(CalendarYear, YEAR)
    saved_year = {c.key: getattr(record, c.key) for c in CalendarYear.__table__.columns} if record else None
    saved_days = [
        row._asdict()
        for row in db.session.execute(
            sa.select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.note).where(_days_of(YEAR))
        )
    ]
    write_year(
        YEAR,
        provisional_holidays(YEAR),
        [],
        status=YearStatus.provisional,
        source=PROVISIONAL_BASIS,
        source_version="holidays",
    )
    db.session.commit()
    yield
    db.session.rollback()
    db.session.execute(sa.delete(CalendarDay).where(_days_of(YEAR)))
    db.session.execute(sa.delete(CalendarYear).where(CalendarYear.year == YEAR))
    if saved_days:
        db.session.execute(sa.insert(CalendarDay), saved_days)
    if saved_year:
        db.session.execute(sa.insert(CalendarYear).values(**saved_year))
    db.session.commit()


def test_administrator_previews_and_loads_the_notice_for_next_year(
    provisional_2027, page, sign_in, make_case, make_org
):
    tag = uuid.uuid4().hex[:6]
    # Accepted 2026-12-07: 30 days after is Wednesday 2027-01-06, a working day of the provisional 2027.
    with time_machine.travel(datetime(2026, 12, 7, 10, tzinfo=SHANGHAI), tick=False):
        case = make_case(make_org(), CaseStatus.accepted, received_on=date(2026, 12, 7))
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 6), True)
    case_id, number = case.id, case.number
    admin = f"cal-{tag}"
    create_user(SYSTEM, username=admin, password=PASSWORD, role=Role.admin)
    db.session.commit()  # read nothing afterwards: an open read would hold SQLite's lock against the server

    sign_in(admin, PASSWORD)
    page.click("nav.mainnav >> text=工作日历")
    page.wait_for_selector("h1:has-text('工作日历')")
    assert page.inner_text(f"tr[data-year='{YEAR}'] .year-status") == "暂定"

    page.fill("#year", str(YEAR))
    page.fill("#source", "国务院办公厅关于2027年部分节假日安排的通知")
    page.fill("#holidays", NOTICE_HOLIDAYS)
    page.fill("#workdays", NOTICE_WORKDAYS)
    page.click("form.load-form button:has-text('预览')")

    preview = page.locator("section.calendar-preview")
    preview.wait_for()
    assert "尚未保存" in preview.inner_text()
    changed = {
        row.get_attribute("data-day"): row.inner_text() for row in preview.locator("table.days-changed tbody tr").all()
    }
    assert sorted(changed) == [
        "2027-01-06",
        "2027-02-11",
        "2027-02-20",
        "2027-05-05",
        "2027-10-06",
        "2027-10-07",
        "2027-10-09",
    ]
    assert re.sub(r"\s+", " ", changed["2027-01-06"]) == "2027-01-06（周三） 工作日 → 休息日"
    assert re.sub(r"\s+", " ", changed["2027-02-20"]) == "2027-02-20（周六） 休息日 → 工作日"
    assert preview.locator("dd.days-changed-count").inner_text() == "7 天"
    move = preview.locator(f"table.deadline-moves tr[data-subject='case'][data-subject-id='{case_id}']")
    assert move.locator("td").all_inner_texts() == [number, "办理期限", "2027-01-06", "2027-01-07"]
    screenshot(page, "calendar-preview")

    preview.locator("button:has-text('确认载入')").click()
    page.wait_for_selector(f"p.flash:has-text('{YEAR} 年工作日历已载入')")
    assert "7 天的工作日/休息日安排改变" in page.inner_text("p.flash")
    assert page.url.endswith(f"/calendar?year={YEAR}")
    row = page.locator(f"tr[data-year='{YEAR}']")
    assert row.locator(".year-status").inner_text() == "官方"
    assert admin in row.inner_text() and "2027年部分节假日安排" in row.inner_text()
    assert "2027-02-20" in page.inner_text("section.year-detail ul.workdays")
    assert page.locator("section.year-detail ul.holidays li").count() == 24  # every day the notice lists

    db.session.expire_all()
    moved = db.session.get(Case, case_id)
    assert (moved.due_on, moved.due_on_provisional) == (date(2027, 1, 7), False)
    assert db.session.get(CalendarYear, YEAR).status == YearStatus.official
