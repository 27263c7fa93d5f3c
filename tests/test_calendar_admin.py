"""The working-day calendar page: administrators only; each year's status and source; loading a notice is
previewed first (nothing saved), then confirmed (saved, audited, open deadlines moved); a banner from 1 October
while next year is provisional. The clock is frozen wherever "today" matters."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from html import unescape

import pytest
import sqlalchemy as sa
import time_machine

from mediation_hub.audit.models import AuditEntry
from mediation_hub.calendars.service import publish_year
from mediation_hub.calendars.tasks import provisional_year_message
from mediation_hub.cases.models import CaseEvent, CaseStatus
from mediation_hub.core.actor import Role
from mediation_hub.core.calendar import (
    PROVISIONAL_BASIS,
    CalendarYear,
    YearStatus,
    add_working_days,
    provisional_holidays,
    write_year,
)
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.extensions import db


def frozen(day: date, hour: int = 10):
    """Freeze the clock at ``hour`` o'clock Beijing time on ``day``."""
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def official_2027(*extra_holidays: date) -> str:
    """The 2027 rest days the law fixes (so nothing changes but ``extra_holidays``), as an administrator pastes
    them: ranges for the runs of days."""
    lines = [
        "2027-01-01",
        "2027-02-05..2027-02-10",
        "2027-04-05",
        "2027-05-01..2027-05-04",
        "2027-06-09",
        "2027-09-15",
        "2027-10-01..2027-10-05",
        *(d.isoformat() for d in extra_holidays),
    ]
    return "\n".join(lines)


def confirmation_of(page: str) -> dict[str, str]:
    """The hidden fields the preview's 确认载入 button posts."""
    form = re.search(r'<form[^>]*class="[^"]*confirm-form[^"]*".*?</form>', page, re.S)
    assert form, "the preview has no confirmation form"
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0))
    }


@pytest.fixture
def provisional_2027():
    """2027 as the hub holds it until the State Council's notice is out (whatever the installed package knows)."""
    write_year(
        2027,
        provisional_holidays(2027),
        [],
        status=YearStatus.provisional,
        source=PROVISIONAL_BASIS,
        source_version="holidays",
    )


@pytest.fixture
def admin_client(signed_in, make_user):
    return signed_in(make_user(role=Role.admin, username="calendar-admin"))


@pytest.fixture
def accepted_on_7_december(make_case, make_org, provisional_2027):
    """A case accepted on 2026-12-07: 30 days after is Wednesday 2027-01-06, a working day of the provisional
    2027, so the due date is 2027-01-06 (provisional)."""
    with frozen(date(2026, 12, 7)):
        case = make_case(make_org(), CaseStatus.accepted, received_on=date(2026, 12, 7))
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 6), True)
    db.session.commit()
    return case


# --- who sees what ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.mediator, Role.coordinator, Role.registry_admin, Role.legal_aid_officer])
def test_calendar_page_is_for_administrators_only(signed_in, role):
    client = signed_in(role=role)
    db.session.commit()  # an error page rolls the session back; keep the user
    assert client.get("/calendar").status_code == 403
    for confirm in ("", "1"):
        response = client.post("/calendar", data={"year": "2030", "holidays": "2030-01-02", "confirm": confirm})
        assert response.status_code == 403
    assert db.session.get(CalendarYear, 2030) is None


def test_admin_sees_each_years_status_source_and_who_loaded_it(admin_client, provisional_2027, make_user):
    with frozen(date(2026, 12, 7)):
        publish_year(
            make_user(role=Role.admin, username="li-admin").to_actor(),
            2028,
            [date(2028, 1, 3)],
            [],
            source="国务院办公厅关于2028年部分节假日安排的通知",
        )
    db.session.commit()
    page = admin_client.get("/calendar").get_data(as_text=True)
    row = _row(page, 2025)
    assert "官方" in row and "国务院办公厅通知（随软件包同步）" in row and "自动同步" in row
    row = _row(page, 2027)
    assert 'data-status="provisional"' in row and "暂定" in row and PROVISIONAL_BASIS in row
    row = _row(page, 2028)
    assert "官方" in row and "2028年部分节假日安排" in row and "li-admin" in row and "2026-12-07" in row


def _row(page: str, year: int) -> str:
    found = re.search(rf'<tr data-year="{year}".*?</tr>', page, re.S)
    assert found, f"no row for {year}"
    return found.group(0)


def test_admin_sees_an_official_years_holidays_and_make_up_days(admin_client):
    page = admin_client.get("/calendar?year=2025").get_data(as_text=True)
    # 2025 National Day: 10-01..10-08 off, Saturday 10-11 worked (make-up for the holiday)
    holidays = re.search(r'<ul class="holidays">.*?</ul>', page, re.S).group(0)
    workdays = re.search(r'<ul class="workdays">.*?</ul>', page, re.S).group(0)
    assert "2025-10-08" in holidays and "2025-10-11" in workdays
    # pre-filled for a correction, the runs of days as ranges
    assert "2025-10-01..2025-10-08" in page


def test_a_provisional_year_lists_its_rest_days_with_their_names(admin_client, provisional_2027):
    page = admin_client.get("/calendar?year=2027").get_data(as_text=True)
    holidays = re.search(r'<ul class="holidays">.*?</ul>', page, re.S).group(0)
    # 春节 2027: 除夕 Fri 02-05 to 初三 Mon 02-08; 初一 and 初二 fall on the weekend, so 补假 Tue 9 and Wed 10
    text = re.sub(r"<[^>]+>", "", holidays)
    assert "2027-02-05（周五） 农历除夕" in text
    assert "2027-02-09（周二） 春节（补假）" in text
    assert "暂定" in page and "不推测调休上班日" in page


# --- loading: preview first, then confirm ---------------------------------------------------------------


def test_a_load_is_previewed_first_and_nothing_is_saved(admin_client, accepted_on_7_december):
    case = accepted_on_7_december
    response = admin_client.post(
        "/calendar",
        data={
            "year": "2027",
            "source": "国务院办公厅通知",
            "holidays": official_2027(date(2027, 1, 6)),
            "workdays": "",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    changed = re.search(r'<table class="days-changed">.*?</table>', page, re.S).group(0)
    assert re.search(r"2027-01-06（周三）</span></td><td>工作日 → 休息日", changed)
    assert changed.count("<tr data-day=") == 1
    moves = re.search(r'<table class="deadline-moves">.*?</table>', page, re.S).group(0)
    assert case.number in moves and "办理期限" in moves
    assert "<td>2027-01-06</td><td>2027-01-07</td>" in moves
    assert "确认载入" in page
    db.session.expire_all()
    assert db.session.get(CalendarYear, 2027).status == YearStatus.provisional
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 6), True)
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "calendar_loaded")) is None
    assert (
        db.session.scalar(sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.code == "deadline_moved"))
        is None
    )


def test_confirming_the_preview_loads_the_year_moves_the_deadline_and_is_audited(admin_client, accepted_on_7_december):
    case = accepted_on_7_december
    preview = admin_client.post(
        "/calendar",
        data={
            "year": "2027",
            "source": "国务院办公厅通知",
            "holidays": official_2027(date(2027, 1, 6)),
            "workdays": "",
        },
    )
    confirmation = confirmation_of(preview.get_data(as_text=True))
    assert confirmation["confirm"] == "1" and confirmation["year"] == "2027"
    response = admin_client.post("/calendar", data=confirmation)
    assert response.status_code == 302 and response.headers["Location"].endswith("/calendar?year=2027")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2027 年工作日历已载入：1 天的工作日/休息日安排改变，1 个期限顺延。" in page
    db.session.expire_all()
    record = db.session.get(CalendarYear, 2027)
    assert (record.status, record.source, record.loaded_by) == (
        YearStatus.official,
        "国务院办公厅通知",
        "calendar-admin",
    )
    # 2027-01-06 is now a rest day: the period ends on the next working day, Thursday 2027-01-07
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 7), False)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "calendar_loaded"))
    assert entry.target_id == "2027" and entry.username == "calendar-admin"
    assert (entry.detail["days_changed"], entry.detail["deadlines_moved"]) == (1, 1)


def test_loading_a_year_changes_the_working_days_counted(admin_client):
    # 2030 is provisional (made on demand): Tue 2030-01-01 is 元旦, then Wed (1), Thu (2), Fri 01-04 (3).
    assert add_working_days(date(2030, 1, 1), 3) == date(2030, 1, 4)
    response = admin_client.post(
        "/calendar",
        data={
            "year": "2030",
            "holidays": "2030-01-01\n2030-01-02\n\n",
            "workdays": "2030-01-05",
            "source": "国务院办公厅通知",
            "confirm": "1",
        },
    )
    assert response.status_code == 302
    # Wed 01-02 is now a holiday (skipped), Thu 01-03 (1), Fri 01-04 (2), Sat 01-05 make-up workday (3).
    assert add_working_days(date(2030, 1, 1), 3) == date(2030, 1, 5)
    assert db.session.get(CalendarYear, 2030).source == "国务院办公厅通知"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "calendar_loaded"))
    assert entry.target_id == "2030" and entry.detail["holidays"] == 2


def test_correcting_a_loaded_year_replaces_it(admin_client):
    # With the official 2025 calendar: 5 working days from 2025-09-29 is 2025-10-13 (issue's worked example).
    assert add_working_days(date(2025, 9, 29), 5) == date(2025, 10, 13)
    preview = admin_client.post("/calendar", data={"year": "2025", "holidays": "", "workdays": ""})
    assert preview.status_code == 200
    assert add_working_days(date(2025, 9, 29), 5) == date(2025, 10, 13)  # the preview kept nothing
    response = admin_client.post("/calendar", data=confirmation_of(preview.get_data(as_text=True)))
    assert response.status_code == 302
    # A plain year: Tue 09-30 (1), Wed 10-01 (2), Thu 10-02 (3), Fri 10-03 (4), Mon 10-06 (5).
    assert add_working_days(date(2025, 9, 29), 5) == date(2025, 10, 6)


# --- a notice from a file -----------------------------------------------------------------------------

NOTICE_CSV = "日期,类型\n2027-01-01,休\n2027-01-06,休\n2027-02-05..2027-02-11,休\n2027-02-20,班\n".encode()
NOTICE_JSON = (
    '{"source": "国务院办公厅通知（文件）", "holidays": ["2027-01-01", "2027-01-06", '
    '"2027-02-05..2027-02-11"], "workdays": ["2027-02-20"]}'
).encode()


@pytest.mark.parametrize(("filename", "content"), [("notice.csv", NOTICE_CSV), ("notice.json", NOTICE_JSON)])
def test_an_uploaded_notice_fills_the_dates_and_is_previewed(admin_client, accepted_on_7_december, filename, content):
    case = accepted_on_7_december
    response = admin_client.post(
        "/calendar",
        content_type="multipart/form-data",
        data={"year": "2027", "source": "", "holidays": "", "workdays": "", "file": (io.BytesIO(content), filename)},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    # the file's days fill the fields, the runs as ranges
    holidays = re.search(r'<textarea[^>]*name="holidays"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert holidays.split() == ["2027-01-01", "2027-01-06", "2027-02-05..2027-02-11"]
    assert "2027-02-20" in re.search(r'<textarea[^>]*name="workdays"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert case.number in re.search(r'<table class="deadline-moves">.*?</table>', page, re.S).group(0)
    confirmation = confirmation_of(page)
    assert admin_client.post("/calendar", data=confirmation).status_code == 302
    db.session.expire_all()
    assert case.due_on == date(2027, 1, 7)
    record = db.session.get(CalendarYear, 2027)
    assert record.status == YearStatus.official
    # the json notice names itself; a csv has no title, so the service names the administrator
    expected = "国务院办公厅通知（文件）" if filename.endswith(".json") else "管理员载入 (calendar-admin)"
    assert record.source == expected


# --- refusals --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"year": "2031", "holidays": "2031-01-01\n2031-13-01"}, "holidays", "不是有效日期：2031-13-01"),
        ({"year": "2031", "workdays": "2030-12-30"}, "workdays", "日期不在 2031 年内：2030-12-30"),
        (
            {"year": "2031", "holidays": "2031-02-01", "workdays": "2031-02-01"},
            "workdays",
            "同一天不能既是节假日又是调休上班日：2031-02-01",
        ),
        ({"year": "2031", "holidays": "2031-02-10..2031-02-01"}, "holidays", "日期范围有误"),
        ({"year": "1999"}, "year", "年份须在 2000 至 2099 之间"),
        ({"year": "二〇三一"}, "year", "不是有效的整数"),
        ({"year": ""}, "year", "请填写年份"),
        ({"year": "2031", "file": (b"[1, 2]", "notice.json")}, "file", "不是有效的通知文件"),
        (
            {"year": "2031", "file": (b'{"holidays": ["2031-02-30"]}', "notice.json")},
            "file",
            "放假日期：不是有效日期：2031-02-30",
        ),
        ({"year": "2031", "file": (b"2031-02-03,maybe\n", "notice.csv")}, "file", "类型应为"),
        ({"year": "2031", "file": (b"2031-02-03", "notice.txt")}, "file", "只支持 csv 和 json 文件"),
    ],
)
@pytest.mark.parametrize("confirm", ["", "1"])
def test_a_bad_notice_is_shown_beside_its_field_and_nothing_is_loaded(admin_client, data, field, message, confirm):
    db.session.commit()  # the failed load rolls the session back; keep the user
    if "file" in data:
        content, filename = data["file"]
        data = {**data, "file": (io.BytesIO(content), filename)}
    response = admin_client.post("/calendar", content_type="multipart/form-data", data={**data, "confirm": confirm})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    beside = re.search(rf'<div class="field has-error" data-field="{field}">.*?</div>', page, re.S)
    assert beside, f"no error beside {field}"
    assert message in unescape(beside.group(0))
    assert "confirm-form" not in page  # no preview, so nothing to confirm
    assert not re.search(r"\((not|dates|also|a range|a year|must)\b", page)  # the English glosses stay out
    if data.get("holidays") == "2031-01-01\n2031-13-01":
        assert "2031-13-01" in page  # the entered text is kept for correction
    assert db.session.get(CalendarYear, 2031) is None


# --- telling the administrators -----------------------------------------------------------------------
# Each test signs in under the frozen clock: a session cookie signed "later" would be refused as from the future.


def test_from_1_october_the_administrators_are_told_next_year_is_provisional(signed_in, provisional_2027):
    with frozen(date(2026, 10, 2)):
        client = signed_in(role=Role.admin)
        for url in ("/", "/calendar"):
            page = client.get(url).get_data(as_text=True)
            banner = re.search(r'<div class="calendar-banner[^"]*"[^>]*data-year="2027".*?</div>', page, re.S)
            assert banner, f"no banner on {url}"
            assert provisional_year_message(2027) in unescape(banner.group(0))
            assert 'href="/calendar?year=2027"' in banner.group(0)


def test_before_1_october_there_is_no_banner(signed_in, provisional_2027):
    with frozen(date(2026, 9, 30)):
        client = signed_in(role=Role.admin)
        for url in ("/", "/calendar"):
            page = client.get(url)
            assert page.status_code == 200 and "calendar-banner" not in page.get_data(as_text=True)


def test_only_administrators_see_the_banner(signed_in, provisional_2027):
    with frozen(date(2026, 10, 2)):
        page = signed_in(role=Role.mediator).get("/", follow_redirects=True)
    assert page.status_code == 200
    assert "calendar-banner" not in page.get_data(as_text=True)


def test_the_banner_goes_once_the_year_is_official(signed_in, provisional_2027):
    with frozen(date(2026, 10, 2)):
        client = signed_in(role=Role.admin)
        assert "calendar-banner" in client.get("/").get_data(as_text=True)
        client.post("/calendar", data={"year": "2027", "holidays": official_2027(), "confirm": "1"})
        assert "calendar-banner" not in client.get("/").get_data(as_text=True)
