"""Statements per request of the legal-aid reads and transitions through the API, and the calendar years read once
per transaction (issue 16).

The detail is read with two statements: the application with both centres, its hand-overs and its events (joined),
then the people those rows name with their organisations (``auth.people.load_people``). A transition loads the
application the same way before it writes and keeps it whole (the hand-over and the event it adds join the loaded
lists), so its answer reads nothing after the write. The counts below are each transition's own statements, counted
by hand from the service: a lazy load anywhere (the answer reading the application, a list or a person again) adds
one and fails the test."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.core.actor import SYSTEM
from mediation_hub.core.calendar import (
    CalendarDay,
    CalendarYear,
    YearStatus,
    add_calendar_days,
    add_working_days,
    load_year,
    year_statuses,
)
from mediation_hub.extensions import db
from mediation_hub.legal_aid import service
from mediation_hub.legal_aid.models import ApplicationStatus as S
from mediation_hub.legal_aid.models import LegalAidApplication
from tests.factories_legal_aid import application_data
from tests.test_query_counts_transitions import TOKEN, Statements

DETAIL = 2  # the application with its centres, hand-overs and events; the people they name
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b")
# Loading the application, its lists, an account, a mediator or an organisation (each such statement starts with the
# row's key, or the key of the row it belongs to, then the row's other columns): none may be sent once the transition
# has written. (The report aggregates' own query of the centres' regions is not a load.)
LATE_READS = re.compile(
    r"^\s*SELECT (legal_aid_applications|legal_aid_handovers|legal_aid_events|users|mediators|organizations)"
    r"\.(application_)?id( AS \w+)?, \1\.(?!region_code FROM)"
)
YEARS = re.compile(r"\bFROM calendar_years\b")


@pytest.fixture
def statements():
    counter = Statements()
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
    yield counter
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)


@pytest.fixture
def centres(tongban_pair, make_officer, api_as):
    """A Tianjin centre that receives an application for a 保定 matter and the competent 保定 centre, an officer of
    each with an API client, and ``moved(*steps)``: an application filed in Tianjin by its officer and moved through
    the service by the officer whose step it is (so the events and the hand-over name two people)."""
    tianjin, baoding = tongban_pair()
    tj, bd = api_as(make_officer(tianjin, display_name="赵天津")), api_as(make_officer(baoding, display_name="钱保定"))
    tj_actor, bd_actor = tj.user.to_actor(), bd.user.to_actor()
    tianjin_id, baoding_id = tianjin.id, baoding.id  # the tests expunge the session: keep the keys, not the rows
    steps = {
        "transfer": lambda i: service.transfer_application(
            tj_actor, i, to_centre_id=baoding_id, transferred_on=date(2025, 9, 11)
        ),
        "accept": lambda i: service.accept_application(bd_actor, i, accepted_on=date(2025, 9, 12)),
        "request": lambda i: service.request_supplement(bd_actor, i, items="工资条", requested_on=date(2025, 9, 12)),
        "grant": lambda i: service.decide_application(bd_actor, i, granted=True, decided_on=date(2025, 9, 15)),
        "assign": lambda i: service.assign_lawyer(bd_actor, i, lawyer_name="张律师", assigned_on=date(2025, 9, 16)),
    }

    def moved(*names: str) -> int:
        application_id = service.file_application(tj_actor, application_data(tianjin_id)).id
        for name in names:
            steps[name](application_id)
        db.session.commit()
        db.session.expunge_all()
        return application_id

    names = {"tianjin_name": tianjin.name, "baoding_name": baoding.name}
    return {**names, "tianjin_id": tianjin_id, "baoding_id": baoding_id, "tj": tj, "bd": bd, "moved": moved}


def _after_first_write(sent: list[str]) -> list[str]:
    first = next((i for i, s in enumerate(sent) if WRITE.match(s)), len(sent))
    return sent[first:]


def _stored(application_id: int) -> LegalAidApplication:
    db.session.expunge_all()
    return service.get_application(SYSTEM, application_id, detail=True)


def _people(answer: dict) -> list[tuple[str, str, str | None]]:
    return [(e["code"], e["actor"], e["actor_organization"]) for e in answer["events"]]


# (endpoint, the steps the application is moved through first, who answers, body, the transition's own statements)
TRANSITIONS = [
    # the rules: the target centre, its competence (the matter's region, the groupings it is in, the centres covering
    # it), the 通办 agreement covering the four places (agreements.service reads the places' regions and their
    # ancestors one by one: 14, and the agreements with their members: 2); the decision deadline (calendar years, the
    # deadline's day); INSERT hand-over, UPDATE application, the report aggregates (the centres' keys: nothing counts a
    # hand-over), INSERT event, INSERT notice to the receiving centre
    ("transfer", (), "tj", {"transferred_on": "2025-09-11"}, 1 + 3 + 14 + 2 + 2 + 1 + 1 + 1 + 1 + 1),
    # competence (region, groupings, centres), the decision deadline (calendar years, day), UPDATE, INSERT event
    ("accept", ("transfer",), "bd", {"accepted_on": "2025-09-12"}, 3 + 2 + 1 + 1),
    # the assignment deadline (calendar years, day), UPDATE, the report aggregates (the centres' keys, two upserts),
    # INSERT event, the application's federation link (a decision goes back to the hub it came from)
    ("decide", ("transfer", "accept"), "bd", {"granted": True, "decided_on": "2025-09-15"}, 2 + 1 + 3 + 1 + 1),
    # UPDATE, the report aggregates (the centres' keys, two upserts), INSERT event, the federation link
    (
        "decide",
        ("transfer", "accept"),
        "bd",
        {"granted": False, "reason": "不符合经济困难标准", "decided_on": "2025-09-15"},
        1 + 3 + 1 + 1,
    ),
    # UPDATE, INSERT event
    ("assign", ("transfer", "accept", "grant"), "bd", {"lawyer_name": "王律师", "assigned_on": "2025-09-16"}, 2),
    ("close", ("transfer", "accept", "grant", "assign"), "bd", {"closed_on": "2025-12-01"}, 2),
    (
        "supplement-request",
        ("transfer", "accept"),
        "bd",
        {"items": "工资条\n劳动合同", "requested_on": "2025-09-13"},
        2,
    ),
    # the decision deadline moved by the pause (calendar years, day), one UPDATE, the report aggregates (the centres'
    # keys: nothing to count), INSERT event
    ("supplement-received", ("transfer", "accept", "request"), "bd", {"received_on": "2025-09-14"}, 2 + 1 + 1 + 1),
]


@pytest.mark.parametrize(
    ("endpoint", "steps", "who", "body", "own"),
    TRANSITIONS,
    ids=[f"{t[0]}-{'grant' if t[3].get('granted') else 'refuse'}" if t[0] == "decide" else t[0] for t in TRANSITIONS],
)
def test_a_transition_answers_without_reading_the_application_again(
    centres, statements, endpoint, steps, who, body, own
):
    application_id = centres["moved"](*steps)
    body = dict(body, to_centre_id=centres["baoding_id"]) if endpoint == "transfer" else body
    statements.take()

    response = centres[who].post(f"/api/v1/legal-aid/applications/{application_id}/{endpoint}", json=body)

    assert response.status_code == 200, response.json
    sent = statements.take()
    late_reads = [s for s in _after_first_write(sent) if LATE_READS.match(s)]
    assert late_reads == [], "read after the transition wrote:\n" + "\n".join(s[:160] for s in late_reads)
    assert len(sent) == TOKEN + DETAIL + own, "\n".join(s[:160] for s in sent)
    # the answer is the state committed: its version, status and clocks are the row's, its lists what a new read gives
    answer, stored = response.json, _stored(application_id)
    assert (answer["version"], answer["status"]) == (stored.version, stored.status.value)
    assert (answer["centre_id"], answer["decide_by"]) == (stored.centre_id, stored.decide_by.isoformat())
    assert [e["code"] for e in answer["events"]] == [e.code for e in stored.events]
    assert [(h["from_centre_id"], h["to_centre_id"]) for h in answer["handovers"]] == [
        (h.from_centre_id, h.to_centre_id) for h in stored.handovers
    ]
    tianjin, baoding = centres["tianjin_name"], centres["baoding_name"]
    assert _people(answer)[0] == ("filed", "赵天津", tianjin)
    assert _people(answer)[-1][1:] == (("赵天津", tianjin) if who == "tj" else ("钱保定", baoding))
    assert [(h["by"], h["by_organization"]) for h in answer["handovers"]] == [("赵天津", tianjin)]


def test_an_answer_moves_the_version_on_once(centres):
    """Recording the supplement writes the application once (the new deadline is counted before the write), so the
    version moves on by one, as for every other step."""
    application_id = centres["moved"]("transfer", "accept", "request")
    version = _stored(application_id).version
    response = centres["bd"].post(
        f"/api/v1/legal-aid/applications/{application_id}/supplement-received", json={"received_on": "2025-09-15"}
    )
    assert response.status_code == 200, response.json
    # received 2025-09-11: 7 days end 09-18 (Thu); paused from the 12th to the 15th: 3 days more, 09-21 is a Sunday
    assert (response.json["version"], response.json["decide_by"]) == (version + 1, "2025-09-22")


def test_filing_answers_without_reading_the_application_again(centres, statements):
    body = application_data(centres["tianjin_id"])
    body["received_on"] = body["received_on"].isoformat()
    statements.take()
    response = centres["tj"].post("/api/v1/legal-aid/applications", json=body)
    assert response.status_code == 201, response.json
    sent = statements.take()
    late_reads = [s for s in _after_first_write(sent) if LATE_READS.match(s)]
    assert late_reads == [], "read after filing wrote:\n" + "\n".join(s[:160] for s in late_reads)
    answer, stored = response.json, _stored(response.json["id"])
    assert (answer["number"], answer["version"]) == (stored.number, stored.version)
    assert answer["handovers"] == [] and _people(answer) == [("filed", "赵天津", centres["tianjin_name"])]


def test_the_detail_is_read_with_two_statements(centres, statements):
    """The application with both centres, its hand-over and four events (one statement), the two officers named in
    them with their centres (one statement)."""
    application_id = centres["moved"]("transfer", "accept", "grant")
    statements.take()
    response = centres["bd"].get(f"/api/v1/legal-aid/applications/{application_id}")
    assert response.status_code == 200, response.json
    sent = statements.take()
    assert len(sent) == TOKEN + DETAIL, "\n".join(s[:160] for s in sent)
    tianjin, baoding = centres["tianjin_name"], centres["baoding_name"]
    assert _people(response.json) == [
        ("filed", "赵天津", tianjin),
        ("transferred", "赵天津", tianjin),
        ("accepted", "钱保定", baoding),
        ("granted", "钱保定", baoding),
    ]
    assert [(h["by"], h["by_organization"]) for h in response.json["handovers"]] == [("赵天津", tianjin)]
    assert response.json["allowed_actions"] == ["assign"]


def test_a_detail_recorded_by_the_system_names_no_one_and_reads_no_account(
    make_application, make_officer, api_as, statements
):
    application, _tianjin, baoding = make_application(S.accepted)
    client = api_as(make_officer(baoding))
    application_id = application.id
    db.session.expunge_all()
    statements.take()
    response = client.get(f"/api/v1/legal-aid/applications/{application_id}")
    assert response.status_code == 200, response.json
    assert len(statements.take()) == TOKEN + 1  # no one to name: the people are not asked for
    assert {e["actor"] for e in response.json["events"]} == {"系统"}


def test_a_page_of_applications_is_read_with_two_statements(centres, statements):
    """The count, then the page (what a list item shows is the application's own columns)."""
    ids = [centres["moved"](), centres["moved"]("transfer"), centres["moved"]("transfer", "accept")]
    statements.take()
    response = centres["tj"].get("/api/v1/legal-aid/applications")
    assert response.status_code == 200, response.json
    sent = statements.take()
    assert len(sent) == TOKEN + 2, "\n".join(s[:160] for s in sent)
    assert [item["id"] for item in response.json["items"]] == ids[::-1]
    assert [item["status"] for item in response.json["items"]] == ["accepted", "transferred", "filed"]


# --- the calendar years, read once per transaction ---------------------------------------------------------------


def _years_read(statements) -> int:
    return sum(1 for s in statements.take() if YEARS.search(s))


def test_deadlines_in_one_transaction_read_the_years_once(statements):
    statements.take()
    assert add_calendar_days(date(2025, 9, 10), 7) == date(2025, 9, 17)
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)  # over the National Day week
    assert add_calendar_days(date(2025, 9, 26), 7) == date(2025, 10, 9)  # 10-03 falls in it
    assert _years_read(statements) == 1
    db.session.commit()  # a new transaction reads them again
    assert add_calendar_days(date(2025, 9, 10), 7) == date(2025, 9, 17)
    assert _years_read(statements) == 1


def test_a_year_loaded_in_the_transaction_is_counted_with(statements):
    year = 2095
    assert year not in year_statuses()
    load_year(year, [date(year, 3, 1)], [date(year, 3, 3)], source="测试")  # Thu 1st a holiday, Sat 3rd a workday
    assert year_statuses()[year] == YearStatus.official
    assert add_working_days(date(year, 2, 28), 2) == date(year, 3, 3)
    # deleted with a statement of the session's: forgotten too
    db.session.execute(sa.delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
    db.session.execute(sa.delete(CalendarYear).where(CalendarYear.year == year))
    assert year not in year_statuses()


def test_a_year_changed_through_the_orm_or_rolled_back_is_read_again():
    record = db.session.get(CalendarYear, 2025)
    assert year_statuses()[2025] == YearStatus.official
    record.status = YearStatus.provisional
    db.session.flush()
    assert year_statuses()[2025] == YearStatus.provisional
    savepoint = db.session.begin_nested()
    load_year(2096, [], [], source="测试")
    assert 2096 in year_statuses()
    savepoint.rollback()
    assert 2096 not in year_statuses()
