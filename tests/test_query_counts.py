"""Issue 16: the case detail and the case list read in a fixed number of statements, whatever the case holds.

``GET /api/v1/cases/<id>``: the token with its user, then the case with everything the detail shows (scope check,
names, the caller's view, the hand-over, parties, mediators, sessions, follow-ups): two statements.
``GET /api/v1/cases``: the token, the count, the page with everything it shows: three. A lazy load anywhere adds a
statement and fails these tests. The answers are exactly what ``CaseDetailOut`` / ``CaseOut`` dump from the loaded
models (the way the API built them before), for varied cases, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
import time_machine
from flask import g

from mediation_hub.cases import service
from mediation_hub.cases.models import Case, CaseStatus, Party
from mediation_hub.cases.schemas import CaseDetailOut, CaseOut
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.transfers import service as transfers
from tests.factories_cases import organization_party, person

# Not statements of the request: the tests' SAVEPOINTs (a test's writes are rolled back at its end).
_NOT_COUNTED = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
# The pages (a browser session): the case page of ``full_case`` reads 19 statements (the session; the case with its
# parties, mediators and their names, sessions and follow-ups; whether the caller only reads it; the timeline; the
# case again for its documents; the unread count; the three regions it names; its transfers and co-mediators). The
# case list reads 7 (the session, the filter form's categories and studios, the count, the page, its parties, the
# unread count), the worklist 7 (the session, the count, the page, its parties, the notices, the unread count twice),
# however many cases, parties and mediators.
PAGE_STATEMENTS, LIST_STATEMENTS, WORKLIST_STATEMENTS = 19, 7, 7


@pytest.fixture
def statements():
    """The SQL statements the database receives while the test runs (``statements.clear()`` to start over)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_NOT_COUNTED):
            seen.append(statement)

    engine = db.engine.engine  # the engine (in a test db.engine is the connection holding the test's transaction)
    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def _shown(seen: list[str]) -> str:
    return "\n".join(" ".join(statement.split())[:160] for statement in seen)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(date(2026, 6, 1), tick=False):
        yield


@pytest.fixture
def bare_case(make_org, make_case):
    """A registered case without parties (removed after registration), mediators, sessions or follow-ups."""

    def build(org):
        case = make_case(org, CaseStatus.registered)
        db.session.execute(sa.delete(Party).where(Party.case_id == case.id))
        db.session.flush()
        return case

    return build


@pytest.fixture
def full_case(make_case, make_mediator):
    """A concluded case with an agreement: three parties (a person with every field, an organisation with its
    representative, a person without phone), two mediators, two sessions, two follow-ups (one without
    ``performed``), a judicial confirmation applied for."""

    def build(org):
        first, second = make_mediator(organization=org), make_mediator(organization=org)
        applicant = person("applicant", name="王芳")
        applicant.update(gender="female", ethnicity="回族", occupation="教师", address="北京市朝阳区某街1号")
        company = organization_party("respondent", name="某物业公司")
        company.update(representative="李经理", address="北京市朝阳区某路2号")
        third = person("third_party", name="赵六")
        third["phone"] = None
        case = make_case(
            org,
            CaseStatus.in_mediation,
            parties=[applicant, company, third],
            mediator_ids=[second.id, first.id],
            amount_yuan="3500.5",
            held_on=date(2026, 3, 3),
        )
        service.record_session(SYSTEM, case.id, held_on=date(2026, 3, 4), summary="补充调查", place="调解室")
        service.conclude_case(
            SYSTEM,
            case.id,
            outcome="agreement",
            concluded_on=date(2026, 3, 5),
            agreement_amount_yuan="1200",
            terms="被申请人赔偿维修费",
            performed=True,
        )
        service.apply_for_confirmation(SYSTEM, case.id, applied_on=date(2026, 3, 6), court="朝阳区人民法院")
        service.record_follow_up(SYSTEM, case.id, visited_on=date(2026, 3, 10), summary="回访未遇", visitor="张三")
        service.record_follow_up(
            SYSTEM, case.id, visited_on=date(2026, 3, 20), summary="已履行", performed=True, method="phone"
        )
        db.session.flush()
        return case

    return build


def _lead_first(case) -> None:
    """The mediators in the order the API gives them (the lead first, then by id), as ``Case.mediators`` now loads
    them too: kept, so the reference does not depend on that order."""
    case.mediators.sort(key=lambda m: (not m.lead, m.mediator_id))


def _reference_detail(actor, case_id: int) -> dict:
    """The detail as the API built it before issue 16: the loaded models through ``CaseDetailOut``."""
    db.session.expire_all()
    case = service.get_case(actor, case_id, detail=True)
    _lead_first(case)
    case.read_only = service.only_reads(actor, case)
    case.handover = service.handovers(actor, [case_id]).get(case_id) if case.read_only else None
    return CaseDetailOut().dump(case)


def _reference_list(actor, **filters) -> list[dict]:
    db.session.expire_all()
    cases = list(db.session.scalars(service.search_cases(actor, **filters).options(*service.DETAIL_LOADING)))
    read_only = service.read_only_ids(actor, [c.id for c in cases])
    wanted = [c.id for c in cases] if filters.get("transferred_out") else list(read_only)
    handed = service.handovers(actor, wanted)
    for case in cases:
        _lead_first(case)
        case.read_only, case.handover = case.id in read_only, handed.get(case.id)
    return CaseOut(many=True).dump(cases)


@pytest.mark.parametrize("kind", ["bare", "full"])
def test_the_case_detail_is_two_statements_and_the_schemas_answer(
    kind, make_org, api_as, bare_case, full_case, statements
):
    org = make_org()
    api = api_as(role=Role.mediator, organization=org)
    case_id = (bare_case if kind == "bare" else full_case)(org).id
    mediators = sorted(m.mediator_id for m in db.session.get(Case, case_id).mediators)
    expected = _reference_detail(api.user.to_actor(), case_id)
    db.session.expire_all()
    statements.clear()
    response = api.get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200, response.get_json()
    assert len(statements) == 2, _shown(statements)
    assert response.get_json() == expected
    body = response.get_json()
    if kind == "full":
        assert [p["name"] for p in body["parties"]] == ["王芳", "某物业公司", "赵六"]
        assert "*" in body["parties"][0]["id_number"] and body["parties"][0]["uscc"] is None
        assert body["parties"][1]["id_number"] is None and "*" in body["parties"][1]["uscc"]
        assert body["parties"][2]["phone"] is None
        assert body["mediator_ids"] == [mediators[1], mediators[0]] and body["amount_yuan"] == "3500.50"
        assert [s["held_on"] for s in body["sessions"]] == ["2026-03-03", "2026-03-04"]
        assert (body["status"], body["confirmation_status"], body["agreement_amount_yuan"]) == (
            "concluded",
            "applied",
            "1200.00",
        )
        assert [(f["visited_on"], f["performed"]) for f in body["follow_ups"]] == [
            ("2026-03-10", None),
            ("2026-03-20", True),
        ]
    else:
        assert (body["parties"], body["mediator_ids"], body["sessions"], body["follow_ups"]) == ([], [], [], [])


def test_a_case_outside_the_scope_is_a_404_in_two_statements(make_org, api_as, full_case, statements):
    case_id = full_case(make_org()).id
    api = api_as(role=Role.mediator, organization=make_org())
    statements.clear()
    assert api.get(f"/api/v1/cases/{case_id}").status_code == 404
    assert len(statements) == 2, _shown(statements)


@pytest.mark.parametrize("kind", ["bare", "full"])
def test_the_case_list_is_three_statements_and_the_schemas_answer(
    kind, make_org, api_as, bare_case, full_case, statements
):
    org = make_org()
    api = api_as(role=Role.mediator, organization=org)
    build = bare_case if kind == "bare" else full_case
    for _ in range(3):
        build(org)
    expected = _reference_list(api.user.to_actor())
    db.session.expire_all()
    statements.clear()
    response = api.get("/api/v1/cases?per_page=2&page=2")
    assert response.status_code == 200, response.get_json()
    assert len(statements) == 3, _shown(statements)
    assert response.get_json() == {"items": expected[2:], "total": 3, "page": 2, "per_page": 2}
    statements.clear()
    response = api.get("/api/v1/cases")
    assert len(statements) == 3, _shown(statements)
    assert response.get_json() == {"items": expected, "total": 3, "page": 1, "per_page": 20}


def test_an_empty_list_is_two_statements(make_org, api_as, statements):
    api = api_as(role=Role.mediator, organization=make_org())
    statements.clear()
    assert api.get("/api/v1/cases").get_json() == {"items": [], "total": 0, "page": 1, "per_page": 20}
    assert len(statements) == 2, _shown(statements)


@pytest.fixture
def handed_over(make_org, make_user, make_routed_case, request_transfer_as, api_as):
    """A 保定 case handed over to 北京 (accepted 2025-10-09), read by the 保定 mediator and by a 河北 coordinator."""
    baoding = make_org(name="竞秀区计数测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区计数测试调解委员会", region_code="110105")
    case = make_routed_case(baoding, applicant="130602", respondent="110105")
    sender, receiver = make_user(organization=baoding), make_user(organization=beijing)
    transfer = request_transfer_as(sender, case, beijing, requested_on=date(2025, 9, 29))
    transfers.accept_transfer(receiver.to_actor(), transfer.id, answered_on=date(2025, 10, 9))
    kept = make_routed_case(baoding, applicant="130602", respondent="110105")  # still 保定's
    return case, kept, api_as(sender), api_as(receiver), beijing


def test_the_senders_read_only_view_in_two_and_three_statements(handed_over, statements):
    case, kept, sender, receiver, beijing = handed_over
    case_id, kept_id, beijing_id = case.id, kept.id, beijing.id
    actor = sender.user.to_actor()
    expected = _reference_detail(actor, case_id)
    assert expected["read_only"] is True and expected["transferred_to"]["to_organization_id"] == beijing_id
    db.session.expire_all()
    statements.clear()
    response = sender.get(f"/api/v1/cases/{case_id}")
    assert len(statements) == 2, _shown(statements)
    assert response.get_json() == expected

    expected_list = _reference_list(actor, transferred_out=True)
    assert [item["id"] for item in expected_list] == [case_id]
    db.session.expire_all()
    statements.clear()
    response = sender.get("/api/v1/cases?transferred_out=true")
    assert len(statements) == 3, _shown(statements)
    assert response.get_json()["items"] == expected_list

    expected_list = _reference_list(actor)
    assert [(item["id"], item["transferred_to"]) for item in expected_list] == [(kept_id, None)]
    assert sender.get("/api/v1/cases").get_json()["items"] == expected_list

    receiving = _reference_detail(receiver.user.to_actor(), case_id)
    assert receiving["read_only"] is False and receiving["transferred_to"] is None
    assert receiver.get(f"/api/v1/cases/{case_id}").get_json() == receiving


def test_an_administrator_lists_every_handed_over_case(handed_over, make_user, api_as, statements):
    case_id = handed_over[0].id
    admin = make_user(role=Role.admin)
    api = api_as(admin)
    expected = _reference_list(admin.to_actor(), transferred_out=True)
    assert case_id in [item["id"] for item in expected]
    assert all(item["transferred_to"] is not None and item["read_only"] is False for item in expected)
    db.session.expire_all()
    statements.clear()
    response = api.get("/api/v1/cases?transferred_out=true&per_page=100")
    assert len(statements) == 3, _shown(statements)
    assert response.get_json()["items"] == expected[:100]


# --- the pages: the case page and the case list read a fixed number of statements, whatever the cases hold --------


def _page_statements(client, url: str, statements: list[str]) -> tuple[int, str]:
    """How many statements the page at ``url`` reads, and which (for the failure's message)."""
    g.pop("_login_user", None)  # the test's app context (and so ``g``) is shared by its requests
    g.pop("actor", None)
    db.session.expire_all()
    statements.clear()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(statements), _shown(statements)


def test_the_case_page_reads_a_fixed_number_of_statements(make_org, make_user, signed_in, full_case, statements):
    org = make_org()
    client = signed_in(make_user(role=Role.mediator, organization=org))
    case_id = full_case(org).id
    seen, shown = _page_statements(client, f"/cases/{case_id}", statements)
    assert seen == PAGE_STATEMENTS, shown


def test_the_case_list_and_the_worklist_read_a_fixed_number_of_statements(
    make_org, make_user, signed_in, full_case, make_case, statements
):
    org = make_org()
    client = signed_in(make_user(role=Role.mediator, organization=org))
    full_case(org)
    make_case(org, CaseStatus.registered)
    for url, expected in (("/cases", LIST_STATEMENTS), ("/cases/worklist", WORKLIST_STATEMENTS)):
        seen, shown = _page_statements(client, url, statements)
        assert seen == expected, shown
    make_case(org, CaseStatus.registered)
    make_case(org, CaseStatus.accepted)
    full_case(org)
    for url, expected in (("/cases", LIST_STATEMENTS), ("/cases/worklist", WORKLIST_STATEMENTS)):
        seen, shown = _page_statements(client, url, statements)
        assert seen == expected, shown
