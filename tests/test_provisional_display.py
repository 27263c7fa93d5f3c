"""A deadline counted over a provisional calendar year is shown as "（暂定）" right after its date, on every page,
list and export that shows it (DESIGN.md "Calendars: deadlines that never stop the work"), and a deadline moved
when a year's notice is loaded is a line on the timeline.

Most tests set the ``…_provisional`` flag on a made record (the services that set it are tested in
test_calendar_provisional.py) and look at the part of the page that shows the date: the marker with the flag,
the bare date without it. One test goes through the services with the clock frozen on 7 December 2026, when the
State Council has not published the 2027 holidays yet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pytest
import time_machine
from flask import g
from openpyxl import load_workbook

from mediation_hub.calendars import service as calendars
from mediation_hub.cases.events import record_event as record_case_event
from mediation_hub.cases.export import HEADER
from mediation_hub.cases.models import CaseStatus
from mediation_hub.core.actor import SYSTEM, Actor, Role
from mediation_hub.core.calendar import DeadlineMove
from mediation_hub.core.filters import deadline
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.extensions import db
from mediation_hub.legal_aid.events import record_event as record_application_event
from mediation_hub.legal_aid.models import ApplicationStatus

MARK = "（暂定）"
TITLE = "按法定节假日暂定计算，国务院公布该年安排后可能顺延"
ADMIN = Actor(user_id=None, username="calendar-admin", role=Role.admin)
DASHBOARD = "/reporting?region_code=130000&from=2026-03-01&to=2026-03-31&as_of=2026-03-31"


def text_of(html: str) -> str:
    """What a person reads: the markup without its tags."""
    return re.sub(r"<[^>]+>", "", html)


def part(html: str, pattern: str) -> str:
    found = re.search(pattern, html, re.S)
    assert found, f"{pattern!r} not on the page"
    return found.group(1)


def assert_date_shown(html: str, day: date, provisional: bool) -> None:
    """The date followed by "（暂定）" when provisional; the bare date (and no marker at all) otherwise."""
    shown = text_of(html)
    if provisional:
        assert f"{day.isoformat()}{MARK}" in shown, shown
    else:
        assert day.isoformat() in shown and MARK not in shown, shown


def sign_in(signed_in, user):
    g.pop("_login_user", None)  # the test's app context (and so g) is shared by every request of one test
    g.pop("actor", None)
    return signed_in(user)


# --- the pages -------------------------------------------------------------------------------------------


@dataclass
class Seen:
    """Where one deadline is shown: the page, the part of it that shows the date (a regex with one group)."""

    client: object
    url: str
    where: str
    day: date


Scenario = Callable[[Callable, bool], Seen]


def _case(fx, status=CaseStatus.accepted, **flags):
    """A case of a fresh organisation with the given deadline flags, and a mediator of that organisation."""
    org = fx("make_org")(name="朝阳区暂定期限测试调解委员会")
    case = fx("make_case")(org, status)
    for name, value in flags.items():
        setattr(case, name, value)
    db.session.commit()
    return case, fx("make_user")(role=Role.mediator, organization=org)


def case_list(fx, flag):
    case, user = _case(fx, due_on_provisional=flag)
    return Seen(sign_in(fx("signed_in"), user), "/cases", rf'data-case-id="{case.id}">(.*?)</tr>', case.due_on)


def worklist(fx, flag):
    case, user = _case(fx, due_on_provisional=flag)
    return Seen(sign_in(fx("signed_in"), user), "/cases/worklist", rf'data-case-id="{case.id}">(.*?)</tr>', case.due_on)


def case_page_due_on(fx, flag):
    case, user = _case(fx, due_on_provisional=flag)
    return Seen(sign_in(fx("signed_in"), user), f"/cases/{case.id}", r'<dd class="due-on[^"]*">(.*?)</dd>', case.due_on)


def case_page_confirmation_deadline(fx, flag):
    case, user = _case(fx, CaseStatus.concluded, confirmation_deadline_provisional=flag)
    return Seen(
        sign_in(fx("signed_in"), user),
        f"/cases/{case.id}",
        r'<dd class="confirmation">(.*?)</dd>',
        case.confirmation_deadline,
    )


def case_page_confirmation_reminder(fx, flag):
    case, user = _case(fx, CaseStatus.concluded, confirmation_deadline_provisional=flag)
    return Seen(
        sign_in(fx("signed_in"), user),
        f"/cases/{case.id}",
        r'class="flash warning reminder reminder-confirmation[^"]*"[^>]*>(司法确认申请截止 [^<]*)</p>',
        case.confirmation_deadline,
    )


def case_page_follow_up_due_on(fx, flag):
    case, user = _case(fx, CaseStatus.concluded, follow_up_due_on_provisional=flag)
    return Seen(
        sign_in(fx("signed_in"), user),
        f"/cases/{case.id}",
        r'<dd class="follow-up-due-on">(.*?)</dd>',
        case.follow_up_due_on,
    )


def case_page_follow_up_reminder(fx, flag):
    case, user = _case(fx, CaseStatus.concluded, follow_up_due_on_provisional=flag)
    return Seen(
        sign_in(fx("signed_in"), user),
        f"/cases/{case.id}",
        r'class="flash warning reminder reminder-follow_up[^"]*"[^>]*>(回访截止 [^<]*)</p>',
        case.follow_up_due_on,
    )


def _transfer(fx, flag):
    """A transfer from 竞秀区 to 朝阳区 requested on 2025-09-29, long past its answer-by date."""
    hebei = fx("make_org")(name="竞秀区暂定期限测试调解委员会", region_code="130602")
    beijing = fx("make_org")(name="朝阳区暂定期限测试调解委员会", region_code="110105")
    case = fx("make_routed_case")(hebei, applicant="130602", respondent="110105")
    sender, receiver = fx("make_user")(organization=hebei), fx("make_user")(organization=beijing)
    transfer = fx("request_transfer_as")(sender, case, beijing, requested_on=date(2025, 9, 29))
    transfer.respond_by_provisional = flag
    db.session.commit()
    return transfer, sender, receiver


def transfer_page(fx, flag):
    transfer, _, receiver = _transfer(fx, flag)
    return Seen(
        sign_in(fx("signed_in"), receiver),
        f"/transfers/{transfer.id}",
        r'<dd class="respond-by[^"]*">(.*?)</dd>',
        transfer.respond_by,
    )


def transfer_queue(fx, flag):
    transfer, _, receiver = _transfer(fx, flag)
    return Seen(
        sign_in(fx("signed_in"), receiver),
        "/transfers/",
        rf'data-transfer-id="{transfer.id}">(.*?)</tr>',
        transfer.respond_by,
    )


def transfer_escalations(fx, flag):
    transfer, _, _ = _transfer(fx, flag)
    coordinator = fx("make_user")(role=Role.coordinator, region_code="130000")
    return Seen(
        sign_in(fx("signed_in"), coordinator),
        "/transfers/escalations",
        rf'data-transfer-id="{transfer.id}">(.*?)</tr>',
        transfer.respond_by,
    )


def case_page_transfer_history(fx, flag):
    transfer, sender, _ = _transfer(fx, flag)
    return Seen(
        sign_in(fx("signed_in"), sender),
        f"/cases/{transfer.case_id}",
        r'<table class="transfer-history">(.*?)</table>',
        transfer.respond_by,
    )


def _application(fx, status, field, flag):
    """An application filed in Tianjin for a 保定 matter, handed over to 保定 (decide_by 2025-09-18)."""
    application, tianjin, baoding = fx("make_application")(status)
    setattr(application, f"{field}_provisional", flag)
    db.session.commit()
    return application, tianjin, baoding


def legal_aid_queue_decide_by(fx, flag):
    application, _, baoding = _application(fx, ApplicationStatus.transferred, "decide_by", flag)
    return Seen(
        sign_in(fx("signed_in"), fx("make_officer")(baoding)),
        "/legal-aid/applications",
        rf'data-number="{application.number}">.*?<td class="la-decide-by[^>]*>(.*?)</td>',
        application.decide_by,
    )


def legal_aid_queue_assign_by(fx, flag):
    application, _, baoding = _application(fx, ApplicationStatus.granted, "assign_by", flag)
    return Seen(
        sign_in(fx("signed_in"), fx("make_officer")(baoding)),
        "/legal-aid/applications",
        rf'data-number="{application.number}">.*?<td class="la-assign-by[^>]*>(.*?)</td>',
        application.assign_by,
    )


def legal_aid_passed_on(fx, flag):
    application, tianjin, _ = _application(fx, ApplicationStatus.transferred, "decide_by", flag)
    return Seen(
        sign_in(fx("signed_in"), fx("make_officer")(tianjin)),
        "/legal-aid/applications",
        r'<table class="la-passed-on[^"]*">(.*?)</table>',
        application.decide_by,
    )


def legal_aid_page_decide_by(fx, flag):
    application, _, baoding = _application(fx, ApplicationStatus.transferred, "decide_by", flag)
    return Seen(
        sign_in(fx("signed_in"), fx("make_officer")(baoding)),
        f"/legal-aid/applications/{application.id}",
        r'<dd class="la-decide-by">(.*?)</dd>',
        application.decide_by,
    )


def legal_aid_page_assign_by(fx, flag):
    application, _, baoding = _application(fx, ApplicationStatus.granted, "assign_by", flag)
    return Seen(
        sign_in(fx("signed_in"), fx("make_officer")(baoding)),
        f"/legal-aid/applications/{application.id}",
        r'<dd class="la-assign-by">(.*?)</dd>',
        application.assign_by,
    )


def dashboard_overdue_case(fx, flag):
    org = fx("make_org")(region_code="130638")
    case = fx("make_case_history")(org, registered=date(2026, 3, 8), accepted=date(2026, 3, 9), due=date(2026, 3, 20))
    case.due_on_provisional = flag
    db.session.commit()
    coordinator = fx("make_user")(role=Role.coordinator, region_code="130000")
    return Seen(
        sign_in(fx("signed_in"), coordinator), DASHBOARD, r'<table id="table-overdue">(.*?)</table>', case.due_on
    )


def dashboard_overdue_transfer(fx, flag):
    transfer, _, _ = _transfer(fx, flag)
    coordinator = fx("make_user")(role=Role.coordinator, region_code="130000")
    return Seen(
        sign_in(fx("signed_in"), coordinator),
        DASHBOARD,
        r'<table id="table-overdue-transfers">(.*?)</table>',
        transfer.respond_by,
    )


PAGES = [
    case_list,
    worklist,
    case_page_due_on,
    case_page_confirmation_deadline,
    case_page_confirmation_reminder,
    case_page_follow_up_due_on,
    case_page_follow_up_reminder,
    transfer_page,
    transfer_queue,
    transfer_escalations,
    case_page_transfer_history,
    legal_aid_queue_decide_by,
    legal_aid_queue_assign_by,
    legal_aid_passed_on,
    legal_aid_page_decide_by,
    legal_aid_page_assign_by,
    dashboard_overdue_case,
    dashboard_overdue_transfer,
]


@pytest.mark.parametrize("provisional", [True, False], ids=["provisional", "official"])
@pytest.mark.parametrize("scenario", PAGES, ids=lambda s: s.__name__)
def test_the_date_is_marked_provisional_where_it_is_shown(request, scenario, provisional):
    seen = scenario(request.getfixturevalue, provisional)
    response = seen.client.get(seen.url)
    assert response.status_code == 200
    assert_date_shown(part(response.get_data(as_text=True), seen.where), seen.day, provisional)


def test_the_marker_explains_itself_in_chinese(request):
    seen = case_page_due_on(request.getfixturevalue, True)
    html = seen.client.get(seen.url).get_data(as_text=True)
    assert f'{seen.day.isoformat()}<span class="provisional" title="{TITLE}">{MARK}</span>' in part(html, seen.where)


def test_the_deadline_filter(app):
    with app.test_request_context("/"):
        assert deadline(None, True) == "" and deadline(date(2027, 1, 6)) == "2027-01-06"
        # an event's data holds the date as ISO text
        assert deadline("2027-01-06", True) == f'2027-01-06<span class="provisional" title="{TITLE}">{MARK}</span>'


# --- the exports -----------------------------------------------------------------------------------------


def _case_export_rows(client, fmt: str) -> list[list]:
    response = client.get(f"/cases/export.{fmt}")
    assert response.status_code == 200
    if fmt == "csv":
        return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("provisional", [True, False], ids=["provisional", "official"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_case_export_says_whether_the_due_date_is_provisional(request, fmt, provisional):
    case, user = _case(request.getfixturevalue, due_on_provisional=provisional)
    registered = request.getfixturevalue("make_case")(case.organization, CaseStatus.registered)
    db.session.commit()
    rows = _case_export_rows(sign_in(request.getfixturevalue("signed_in"), user), fmt)
    header, by_number = rows[0], {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert header == HEADER and header.index("期限暂定") == header.index("是否超期") + 1
    row = by_number[case.number]
    due = row["办理期限"]
    assert (due if isinstance(due, str) else due.date().isoformat()) == case.due_on.isoformat()
    assert row["期限暂定"] == ("是" if provisional else "否")
    assert by_number[registered.number]["期限暂定"] in ("", None)  # no due date, nothing to qualify


@pytest.mark.parametrize("provisional", [True, False], ids=["provisional", "official"])
def test_the_dashboard_workbook_says_whether_an_overdue_due_date_is_provisional(request, provisional):
    seen = dashboard_overdue_case(request.getfixturevalue, provisional)
    response = seen.client.get(DASHBOARD.replace("/reporting?", "/reporting/download.xlsx?"))
    assert response.status_code == 200
    header, *rows = load_workbook(io.BytesIO(response.data))["超期案件"].iter_rows(values_only=True)
    assert header[-1] == "期限暂定"
    assert [row[-1] for row in rows] == ["是" if provisional else "否"]


def test_the_overdue_answer_carries_the_flags(request):
    seen = dashboard_overdue_case(request.getfixturevalue, True)
    api = request.getfixturevalue("api_as")(role=Role.coordinator, region_code="130000")
    body = api.get("/api/v1/reports/overdue?region_code=130000&as_of=2026-03-31").json
    assert [c["due_on_provisional"] for c in body["cases"]] == [True]
    assert seen.day.isoformat() == body["cases"][0]["due_on"]


# --- through the services, and the timeline ---------------------------------------------------------------


def frozen(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def official_2027(*extra_holidays: date) -> list[date]:
    """The 2027 rest days the holiday law fixes (worked out in test_calendar_provisional.py), plus others."""
    return sorted(
        {
            date(2027, 1, 1),
            *(date(2027, 2, d) for d in range(5, 11)),
            date(2027, 4, 5),
            *(date(2027, 5, d) for d in range(1, 5)),
            date(2027, 6, 9),
            date(2027, 9, 15),
            *(date(2027, 10, d) for d in range(1, 6)),
            *extra_holidays,
        }
    )


def test_a_case_accepted_in_december_shows_its_provisional_due_date_until_the_notice_moves_it(
    make_org, make_user, make_case, signed_in
):
    with frozen(date(2026, 12, 7)):
        org = make_org()
        # accepted Mon 2026-12-07: 30 days end on Wed 2027-01-06, a working day of provisional 2027
        case = make_case(org, CaseStatus.accepted, received_on=date(2026, 12, 7))
        assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 6), True)
        client = sign_in(signed_in, make_user(organization=org))
        for url, where in (
            ("/cases", rf'data-case-id="{case.id}">(.*?)</tr>'),
            ("/cases/worklist", rf'data-case-id="{case.id}">(.*?)</tr>'),
            (f"/cases/{case.id}", r'<dd class="due-on[^"]*">(.*?)</dd>'),
            (f"/cases/{case.id}", r'<li class="event event-accepted">(.*?)</li>'),
        ):
            assert_date_shown(part(client.get(url).get_data(as_text=True), where), date(2027, 1, 6), True)

        # the notice makes 2027-01-06 a rest day: the due date moves to Thu 2027-01-07, now official
        calendars.publish_year(ADMIN, 2027, official_2027(date(2027, 1, 6)), [], source="国务院办公厅通知")
        db.session.commit()
        html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert_date_shown(part(html, r'<dd class="due-on[^"]*">(.*?)</dd>'), date(2027, 1, 7), False)
    moved = part(html, r'<li class="event event-deadline_moved">(.*?)</li>')
    assert "期限调整" in moved
    assert "办理期限因 2027 年节假日安排调整为 2027-01-07（原为 2027-01-06）" in text_of(moved)
    # what was shown at acceptance stays as it was: provisional then
    assert_date_shown(part(html, r'<li class="event event-accepted">(.*?)</li>'), date(2027, 1, 6), True)


@pytest.mark.parametrize(
    ("field", "label"),
    [
        pytest.param(field, label, id=field)
        for field, label in (
            ("due_on", "办理期限"),
            ("confirmation_deadline", "司法确认申请期限"),
            ("follow_up_due_on", "回访期限"),
            ("respond_by", "答复期限"),
        )
    ],
)
@pytest.mark.parametrize("provisional", [True, False], ids=["still-provisional", "official"])
def test_a_moved_case_deadline_is_a_line_on_the_case_timeline(
    make_org, make_user, make_case, signed_in, field, label, provisional
):
    org = make_org()
    case = make_case(org, CaseStatus.accepted)
    move = DeadlineMove(
        "transfer" if field == "respond_by" else "case",
        7,
        case.number,
        field,
        label,
        date(2027, 1, 6),
        date(2027, 1, 7),
        provisional,
        2027,
    )
    data = {**move.event_data(), "transfer_id": 7} if field == "respond_by" else move.event_data()
    record_case_event(case, "deadline_moved", SYSTEM, date(2026, 12, 8), data)
    db.session.commit()
    html = sign_in(signed_in, make_user(organization=org)).get(f"/cases/{case.id}").get_data(as_text=True)
    line = text_of(part(html, r'<div class="muted deadline-moved">(.*?)</div>'))
    owner = "请求 #7 的" if field == "respond_by" else ""
    assert line == (
        f"{owner}{label}因 2027 年节假日安排调整为 2027-01-07{MARK if provisional else ''}（原为 2027-01-06）"
    )


@pytest.mark.parametrize(
    ("status", "field", "label"),
    [
        pytest.param(ApplicationStatus.transferred, "decide_by", "审查决定期限", id="decide_by"),
        pytest.param(ApplicationStatus.granted, "assign_by", "指派律师期限", id="assign_by"),
    ],
)
def test_a_moved_legal_aid_deadline_is_a_line_on_the_application_timeline(
    make_application, make_officer, signed_in, status, field, label
):
    application, _, baoding = make_application(status)
    move = DeadlineMove(
        "legal_aid", application.id, application.number, field, label, date(2027, 1, 6), date(2027, 1, 7), False, 2027
    )
    record_application_event(application, "deadline_moved", SYSTEM, date(2026, 12, 8), move.event_data())
    db.session.commit()
    html = sign_in(signed_in, make_officer(baoding)).get(f"/legal-aid/applications/{application.id}").get_data(True)
    line = text_of(part(html, r'<div class="muted deadline-moved">(.*?)</div>'))
    assert line == f"{label}因 2027 年节假日安排调整为 2027-01-07（原为 2027-01-06）"
    assert "期限调整" in part(html, r'<ol class="timeline la-history">(.*?)</ol>')
