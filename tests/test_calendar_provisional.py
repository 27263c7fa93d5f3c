"""Provisional calendar years and deadlines that never stop the work (DESIGN.md "Calendars").

Every date below is worked out by hand in the test, from the holiday law as revised in 2024 (国务院令第 795 号,
in force 2025-01-01) and Civil Code arts. 201 and 203. The clock is frozen wherever "today" matters."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from mediation_hub.calendars import service as calendars
from mediation_hub.cases.models import CaseEvent, CaseStatus
from mediation_hub.core.actor import SYSTEM, Actor, Role
from mediation_hub.core.calendar import (
    PROVISIONAL_BASIS,
    CalendarDay,
    CalendarNotCovered,
    CalendarYear,
    YearStatus,
    calendar_deadline,
    ensure_years,
    is_workday,
    working_deadline,
    write_year,
)
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.extensions import db
from mediation_hub.legal_aid import service as legal_aid
from mediation_hub.legal_aid.models import LegalAidEvent
from mediation_hub.notifications.models import Notification
from tests.factories_legal_aid import application_data

ADMIN = Actor(user_id=None, username="calendar-admin", role=Role.admin)


def frozen(day: date, hour: int = 10):
    """Freeze the clock at ``hour`` o'clock Beijing time on ``day``."""
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def drop_year(year: int) -> None:
    """Forget a year (rolled back after the test), as a fresh database that has not met it yet."""
    db.session.execute(sa.delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
    db.session.execute(sa.delete(CalendarYear).where(CalendarYear.year == year))


def official_2027(*extra_holidays: date) -> list[date]:
    """The 2027 rest days the law fixes (see test_provisional_2027_follows_the_holiday_law), plus others."""
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


# --- the provisional year ---------------------------------------------------------------------------------

REST_2027 = {
    # 元旦: 1 January 2027 is a Friday.
    date(2027, 1, 1): "元旦",
    # 春节, 4 days 除夕 to 初三: 春节 (初一) 2027 is Saturday 6 February, so 除夕 Fri 5, 初一 Sat 6, 初二 Sun 7,
    # 初三 Mon 8. Two of the four fall on the weekend: 补假 on the next working days, Tue 9 and Wed 10.
    **{date(2027, 2, d): "春节" for d in range(5, 11)},
    # 清明 2027 is Monday 5 April.
    date(2027, 4, 5): "清明",
    # 劳动节 1-2 May: Saturday and Sunday, so 补假 Monday 3 and Tuesday 4 May.
    **{date(2027, 5, d): "劳动节" for d in range(1, 5)},
    # 端午 (五月初五) is Wednesday 9 June 2027; 中秋 (八月十五) Wednesday 15 September.
    date(2027, 6, 9): "端午",
    date(2027, 9, 15): "中秋",
    # 国庆 1-3 October: Friday, Saturday, Sunday; 2 and 3 fall on the weekend, so 补假 Monday 4 and Tuesday 5.
    **{date(2027, 10, d): "国庆" for d in range(1, 6)},
}


def test_provisional_2027_follows_the_holiday_law():
    drop_year(2027)
    assert ensure_years(2027, 2027) == {2027}
    record = db.session.get(CalendarYear, 2027)
    assert record.status == YearStatus.provisional
    assert record.source == PROVISIONAL_BASIS and record.source_version.startswith("holidays ")
    days = dict(
        db.session.execute(
            sa.select(CalendarDay.day, CalendarDay.is_workday).where(
                CalendarDay.day.between(date(2027, 1, 1), date(2027, 12, 31))
            )
        )
        .tuples()
        .all()
    )
    assert len(days) == 365
    rest_weekdays = {d for d, work in days.items() if not work and d.weekday() < 5}
    assert rest_weekdays == {d for d in REST_2027 if d.weekday() < 5}
    # no guessed 调休: every Saturday and Sunday of a provisional year is a rest day
    assert not any(work for d, work in days.items() if d.weekday() >= 5)
    assert not is_workday(date(2027, 2, 10)) and is_workday(date(2027, 2, 11))
    assert not is_workday(date(2027, 10, 5)) and is_workday(date(2027, 10, 6))


@pytest.mark.parametrize("year", [2028, 2030, 2031])
def test_later_years_are_made_on_demand_never_refused(year):
    assert calendar_deadline(date(year, 6, 1), 30).provisional
    assert db.session.get(CalendarYear, year).status == YearStatus.provisional


def test_only_a_year_before_the_first_covered_one_is_refused():
    first = db.session.scalar(sa.select(sa.func.min(CalendarYear.year)))
    assert first == 2004  # chinesecalendar's first year
    with pytest.raises(CalendarNotCovered) as caught:
        calendar_deadline(date(2003, 6, 1), 30, field="accepted_on")
    assert "2003年的工作日历尚未载入" in caught.value.errors["accepted_on"][0]


def test_an_official_deadline_is_not_provisional():
    # 2026-03-02 + 30 days = 2026-04-01, a Wednesday in the official 2026
    assert calendar_deadline(date(2026, 3, 2), 30) == (date(2026, 4, 1), False)


def test_a_working_day_period_across_the_new_year_is_provisional():
    # Wed 2026-12-30 + 3 working days: Thu 12-31 (1), Fri 2027-01-01 is 元旦, Mon 01-04 (2), Tue 01-05 (3)
    assert working_deadline(date(2026, 12, 30), 3) == (date(2027, 1, 5), True)
    # Mon 2026-12-21 + 3 working days stays in the official 2026: Tue, Wed, Thu 12-24
    assert working_deadline(date(2026, 12, 21), 3) == (date(2026, 12, 24), False)


# --- deadlines recounted when the year becomes official ---------------------------------------------------


@pytest.fixture
def accepted_on_7_december(make_case, make_org):
    """A case accepted on 2026-12-07: 30 days after is 2027-01-06 (24 days to 12-31, 6 more), a Wednesday
    and a working day of the provisional 2027, so the due date is 2027-01-06 and provisional."""
    with frozen(date(2026, 12, 7)):
        case = make_case(make_org(), CaseStatus.accepted, received_on=date(2026, 12, 7))
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 6), True)
    return case


def test_the_case_answer_says_its_due_date_is_provisional(api_as, make_user, make_org, make_case):
    org = make_org()
    with frozen(date(2026, 12, 7)):
        case = make_case(org, received_on=date(2026, 12, 7))
        client = api_as(make_user(organization=org))
        answer = client.post(f"/api/v1/cases/{case.id}/accept", json={})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["accepted_on"], body["due_on"], body["due_on_provisional"]) == ("2026-12-07", "2027-01-06", True)


def test_loading_official_2027_moves_the_due_date_and_clears_the_flag(accepted_on_7_december):
    case = accepted_on_7_december
    change = calendars.publish_year(ADMIN, 2027, official_2027(date(2027, 1, 6)), [], source="国务院办公厅通知")
    # 2027-01-06 is now a rest day: the period ends on the next working day, Thursday 2027-01-07
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 7), False)
    assert change.days_changed == [date(2027, 1, 6)]
    [move] = [m for m in change.moved if m.subject_id == case.id]
    assert (move.field, move.previous, move.day) == ("due_on", date(2027, 1, 6), date(2027, 1, 7))
    event = db.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.code == "deadline_moved")
    )
    assert event.data == {
        "field": "due_on",
        "previous": "2027-01-06",
        "deadline": "2027-01-07",
        "year": 2027,
        "provisional": False,
    }
    note = db.session.scalar(
        sa.select(Notification).where(
            Notification.kind == "deadline_moved", Notification.organization_id == case.organization_id
        )
    )
    assert note.message == f"案件 {case.number} 的办理期限因 2027 年节假日安排调整为 2027-01-07（原为 2027-01-06）"
    record = db.session.get(CalendarYear, 2027)
    assert (record.status, record.loaded_by) == (YearStatus.official, "calendar-admin")


def test_official_days_that_change_nothing_clear_the_flag_without_an_event(accepted_on_7_december):
    case = accepted_on_7_december
    change = calendars.publish_year(ADMIN, 2027, official_2027(), [], source="国务院办公厅通知")
    assert change.days_changed == [] and change.moved == []
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 6), False)


def test_a_correction_never_moves_a_deadline_earlier(accepted_on_7_december):
    case = accepted_on_7_december
    calendars.publish_year(ADMIN, 2027, official_2027(date(2027, 1, 6)), [], source="国务院办公厅通知")
    events = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.code == "deadline_moved")
    )
    # The administrator corrects 2027 again: 01-06 is a working day after all, which would give 01-06; the due
    # date people have seen (01-07) stays, and nothing is written.
    change = calendars.publish_year(ADMIN, 2027, official_2027(), [], source="更正")
    assert [(m.previous, m.recomputed, m.moved) for m in change.moves if m.subject_id == case.id] == [
        (date(2027, 1, 7), date(2027, 1, 6), False)
    ]
    assert case.due_on == date(2027, 1, 7)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.code == "deadline_moved")
        )
        == events
    )


def test_an_extended_due_date_is_counted_from_where_the_extension_started(accepted_on_7_december):
    from mediation_hub.cases import service as cases

    case = accepted_on_7_december
    with frozen(date(2026, 12, 20)):
        cases.extend_time_limit(SYSTEM, case.id, days=9, consent_note="双方同意延长")
    # 2027-01-06 + 9 days = 2027-01-15, a Friday
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 15), True)
    calendars.publish_year(ADMIN, 2027, official_2027(date(2027, 1, 15)), [], source="通知")
    # 01-15 is now a rest day; Saturday 16 and Sunday 17 too: Monday 2027-01-18
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 18), False)


def test_a_transfer_answer_date_across_the_new_year_is_recounted(
    make_routed_case, make_user, make_org, request_transfer_as
):
    sender = make_org(region_code="130602")
    case = make_routed_case(sender, received_on=date(2026, 12, 1))
    receiver = make_org(region_code="110105")
    with frozen(date(2026, 12, 30)):
        transfer = request_transfer_as(make_user(organization=sender), case, receiver)
    # 3 working days after Wed 2026-12-30: Thu 12-31, (元旦 Fri 01-01, weekend), Mon 01-04, Tue 01-05
    assert (transfer.respond_by, transfer.respond_by_provisional) == (date(2027, 1, 5), True)
    calendars.publish_year(ADMIN, 2027, official_2027(date(2027, 1, 4)), [], source="通知")
    # with Monday 01-04 a holiday the third working day is Wednesday 01-06
    assert (transfer.respond_by, transfer.respond_by_provisional) == (date(2027, 1, 6), False)
    event = db.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.code == "deadline_moved")
    )
    assert event.data["transfer_id"] == transfer.id and event.data["deadline"] == "2027-01-06"
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.kind == "deadline_moved", Notification.organization_id == receiver.id)
        )
        == 1
    )


def test_a_legal_aid_decision_clock_across_the_new_year_is_recounted(make_centre):
    centre = make_centre("130602")
    with frozen(date(2026, 12, 31)):
        application = legal_aid.file_application(SYSTEM, application_data(centre.id, received_on=date(2026, 12, 31)))
    # received Thu 2026-12-31: 7 days later is Thu 2027-01-07, a working day of the provisional 2027
    assert (application.decide_by, application.decide_by_provisional) == (date(2027, 1, 7), True)
    calendars.publish_year(ADMIN, 2027, official_2027(date(2027, 1, 7)), [], source="通知")
    assert (application.decide_by, application.decide_by_provisional) == (date(2027, 1, 8), False)
    event = db.session.scalar(
        sa.select(LegalAidEvent).where(
            LegalAidEvent.application_id == application.id, LegalAidEvent.code == "deadline_moved"
        )
    )
    assert event.data["previous"] == "2027-01-07" and event.data["deadline"] == "2027-01-08"
    note = db.session.scalar(
        sa.select(Notification).where(Notification.organization_id == centre.id, Notification.kind == "deadline_moved")
    )
    assert "审查决定期限因 2027 年节假日安排调整为 2027-01-08" in note.message


def test_a_granted_application_assignment_clock_is_recounted(make_centre):
    centre = make_centre("130602")
    with frozen(date(2027, 1, 4)):
        application = legal_aid.file_application(SYSTEM, application_data(centre.id, received_on=date(2027, 1, 4)))
        legal_aid.accept_application(SYSTEM, application.id)
        legal_aid.decide_application(SYSTEM, application.id, granted=True)
    # granted Mon 2027-01-04: 3 days later is Thu 01-07
    assert (application.assign_by, application.assign_by_provisional) == (date(2027, 1, 7), True)
    calendars.publish_year(ADMIN, 2027, official_2027(date(2027, 1, 7)), [], source="通知")
    assert (application.assign_by, application.assign_by_provisional) == (date(2027, 1, 8), False)


def test_the_judicial_confirmation_window_and_follow_up_are_recounted(make_case, make_org):
    with frozen(date(2026, 12, 10)):
        case = make_case(make_org(), CaseStatus.concluded, received_on=date(2026, 12, 7))
    # concluded 2026-12-09 (accepted 12-07, session 12-08): 30 days later is Fri 2027-01-08
    assert case.concluded_on == date(2026, 12, 9)
    assert (case.confirmation_deadline, case.confirmation_deadline_provisional) == (date(2027, 1, 8), True)
    assert (case.follow_up_due_on, case.follow_up_due_on_provisional) == (date(2027, 1, 8), True)
    calendars.publish_year(ADMIN, 2027, official_2027(date(2027, 1, 8)), [], source="通知")
    # Friday 01-08 a rest day: Monday 01-11
    assert (case.confirmation_deadline, case.follow_up_due_on) == (date(2027, 1, 11), date(2027, 1, 11))
    assert not case.confirmation_deadline_provisional and not case.follow_up_due_on_provisional


def test_a_preview_shows_the_moves_and_keeps_nothing(accepted_on_7_december):
    case = accepted_on_7_december
    change = calendars.preview_year(ADMIN, 2027, official_2027(date(2027, 1, 6)), [], source="通知")
    assert [(m.number, m.day) for m in change.moved] == [(case.number, date(2027, 1, 7))]
    db.session.expire_all()
    assert db.session.get(CalendarYear, 2027).status == YearStatus.provisional
    assert (case.due_on, case.due_on_provisional) == (date(2027, 1, 6), True)


@pytest.mark.parametrize(
    ("holidays", "workdays", "field", "text"),
    [
        ([date(2026, 12, 31)], [], "holidays", "2026-12-31"),
        ([date(2027, 2, 6)], [date(2027, 2, 6)], "workdays", "2027-02-06"),
    ],
)
def test_a_notice_that_contradicts_itself_is_refused_naming_the_field(holidays, workdays, field, text):
    from mediation_hub.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        calendars.publish_year(ADMIN, 2027, holidays, workdays, source="通知")
    assert text in caught.value.errors[field][0]
    assert db.session.get(CalendarYear, 2027).status == YearStatus.provisional


def test_only_administrators_load_a_year():
    from mediation_hub.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        calendars.publish_year(
            Actor(user_id=1, username="m", role=Role.mediator, organization_id=1), 2027, [], [], source="x"
        )


# --- the package ----------------------------------------------------------------------------------------


def test_seed_makes_a_provisional_year_official_and_keeps_an_administrators_correction():
    drop_year(2026)
    write_year(2026, {}, [], status=YearStatus.provisional, source=PROVISIONAL_BASIS)
    calendars.publish_year(ADMIN, 2025, [date(2025, 1, 1)], [], source="管理员更正")
    loaded = calendars.sync_package_years()
    assert loaded == [2026]
    assert (db.session.get(CalendarYear, 2026).status, db.session.get(CalendarYear, 2026).source) == (
        YearStatus.official,
        "chinesecalendar",
    )
    # the official notice: Wednesday 2026-10-07 is part of the National Day holiday, Saturday 10-10 a workday
    assert not is_workday(date(2026, 10, 7)) and is_workday(date(2026, 10, 10))
    kept = db.session.get(CalendarYear, 2025)
    assert (kept.source, kept.loaded_by) == ("管理员更正", "calendar-admin")
    assert is_workday(date(2025, 10, 1))  # the correction, not the package's holiday
    assert calendars.sync_package_years() == []


# --- telling the administrators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 9, 30), []),  # before 1 October: nothing to say yet
        (date(2026, 10, 1), [2027]),  # from 1 October while 2027 is provisional
        (date(2027, 1, 4), [2027]),  # the new year has begun without its notice
    ],
)
def test_years_to_load(today, expected):
    assert calendars.years_to_load(today) == expected


def test_the_daily_watch_tells_each_administrator_once(make_user):
    from mediation_hub.calendars.tasks import watch_calendar

    admin = make_user(role=Role.admin)
    before = datetime(2026, 9, 30, 6, tzinfo=SHANGHAI)
    assert watch_calendar(before) == 0
    now = datetime(2026, 10, 1, 6, tzinfo=SHANGHAI)
    assert watch_calendar(now) >= 1
    assert watch_calendar(now) == 0
    [note] = db.session.scalars(sa.select(Notification).where(Notification.user_id == admin.id)).all()
    assert note.kind == "calendar_provisional" and note.link == "/calendar"
    assert "2027 年的节假日安排尚未载入" in note.message and "暂定" in note.message


# --- concurrency ----------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.real_commits
def test_concurrent_requests_needing_a_new_year_all_get_their_answer(app):
    """Four requests meet 2035 at once: each writes it in a savepoint, the ones that lose the race use the
    winner's rows. Every one answers; the year is written once."""
    from tests.test_cases_concurrency import _run_in_threads

    def count(i, barrier):
        barrier.wait()
        deadline = calendar_deadline(date(2035, 3, 1), 30)
        db.session.commit()
        return deadline

    try:
        results = _run_in_threads(app, count, count=4)
        # 2035-03-01 + 30 days = Saturday 2035-03-31: the next working day is Monday 2035-04-02
        assert results == [(date(2035, 4, 2), True)] * 4
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(CalendarDay)
                .where(CalendarDay.day.between(date(2035, 1, 1), date(2035, 12, 31)))
            )
            == 365
        )
    finally:
        drop_year(2035)
        db.session.commit()
