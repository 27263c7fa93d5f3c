"""Statements per request of the case transitions and the transfer reads and answers through the API (issue 16).

Each answer is built from what the transition loaded and flushed: the case is read once with what its detail shows
(``DETAIL_LOADING``, counted here rather than written down, so a leaner detail lowers every figure at once) and
nothing is read lazily afterwards. The counts below are the transition's own statements, counted by hand from the
service: a lazy load anywhere (the answer reading the case again, a relationship the schema touches) adds one and
fails the test."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.cases import service
from mediation_hub.cases.models import Case, CaseStatus, ConfirmationStatus
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db

TOKEN = 1  # the bearer token and its user, one statement
# Loading the case, its lists or the names the answer shows (each such statement starts with the row's key): none may
# be sent once the transition has written. (The rate aggregates' own query of the case's keys is not a load.)
CASE_READS = re.compile(
    r"^\s*SELECT (cases\.id|parties\.(case_)?id|case_mediators\.case_id|mediation_sessions\.(case_)?id"
    r"|follow_ups\.(case_)?id|case_categories\.code|case_sources\.code|organizations\.id)\b"
)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b")


class Statements:
    """The statements sent to the database while it listens (savepoints of the test's transaction left out)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK)", statement):
            self.sent.append(" ".join(statement.split()))

    def take(self) -> list[str]:
        sent, self.sent = self.sent, []
        return sent


@pytest.fixture
def statements():
    counter = Statements()
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
    yield counter
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)


def _detail_load(statements, actor, case_id: int) -> int:
    """How many statements the case detail's loading costs (``get_case(..., detail=True)`` on an empty session)."""
    db.session.expunge_all()
    statements.take()
    service.get_case(actor, case_id, detail=True)
    count = len(statements.take())
    db.session.expunge_all()
    return count


def _after_first_write(sent: list[str]) -> list[str]:
    first = next((i for i, s in enumerate(sent) if WRITE.match(s)), len(sent))
    return sent[first:]


# (endpoint, the state the case is made in, body, the transition's own statements)
TRANSITIONS = [
    # the mediator's check, working days (calendar years, read once per transaction, first working day), UPDATE case,
    # INSERT mediator, INSERT event, the rate aggregates (the event's keys, then daily, monthly, region daily, region
    # monthly, place daily, place monthly upserts)
    ("accept", CaseStatus.registered, {"accepted_on": "2026-03-02", "with_mediator": True}, 1 + 2 + 1 + 1 + 1 + 7),
    # UPDATE case, INSERT event, the rate aggregates (keys, first completion, eight upserts with the completion cohorts
    # and the place rows)
    ("decline", CaseStatus.registered, {"reason": "已进入诉讼程序", "declined_on": "2026-03-02"}, 1 + 1 + 10),
    # INSERT session, UPDATE case, INSERT event (no rate counts a session)
    ("sessions", CaseStatus.accepted, {"held_on": "2026-03-03", "summary": "面对面调解"}, 3),
    # the new due date (calendar: years, last day), UPDATE case, INSERT event
    (
        "extend",
        CaseStatus.in_mediation,
        {"days": 10, "consent_note": "双方签字同意延期", "extended_on": "2026-03-04"},
        4,
    ),
    # two deadlines (calendar: the years once, then each deadline's day), UPDATE case, INSERT event, the aggregates
    # (keys, first completion, eight upserts with the completion cohorts and the place rows), the senders of accepted
    # transfers (联防联调 feedback), the case's federation links (an outcome goes back to another hub)
    (
        "conclude",
        CaseStatus.in_mediation,
        {"outcome": "agreement", "agreement_amount_yuan": 3000, "terms": "赔偿维修费", "concluded_on": "2026-03-04"},
        3 + 1 + 1 + 10 + 1 + 1,
    ),
    # UPDATE case, INSERT event
    ("confirmation", CaseStatus.concluded, {"court": "朝阳区人民法院", "applied_on": "2026-03-05"}, 2),
    ("confirmation-result", ConfirmationStatus.applied, {"confirmed": True, "decided_on": "2026-03-06"}, 2),
    # INSERT follow-up, UPDATE case, INSERT event
    ("follow-ups", CaseStatus.concluded, {"summary": "已履行", "performed": True, "visited_on": "2026-03-06"}, 3),
]


@pytest.mark.parametrize(("endpoint", "state", "body", "own"), TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_a_transition_answers_without_reading_the_case_again(
    endpoint, state, body, own, make_org, make_case, make_mediator, api_as, statements
):
    org = make_org()
    if isinstance(state, ConfirmationStatus):
        case = make_case(org, CaseStatus.concluded, confirmation=state)
    else:
        case = make_case(org, state)
    body = dict(body)
    if body.pop("with_mediator", False):
        body["mediator_id"] = make_mediator(organization=org).id
    api = api_as(role=Role.mediator, organization=org)
    case_id = case.id
    detail = _detail_load(statements, api.user.to_actor(), case_id)

    response = api.post(f"/api/v1/cases/{case_id}/{endpoint}", json=body)

    assert response.status_code in (200, 201), response.json
    sent = statements.take()
    late_reads = [s for s in _after_first_write(sent) if CASE_READS.match(s)]
    assert late_reads == [], "read after the transition wrote:\n" + "\n".join(s[:160] for s in late_reads)
    assert len(sent) == TOKEN + detail + own, "\n".join(s[:160] for s in sent)
    # the answer is the state committed: its version is the row's, what it added is in its lists
    db.session.expunge_all()
    stored = db.session.get(Case, case_id)
    assert response.json["version"] == stored.version
    assert response.json["status"] == stored.status.value
    assert [s["id"] for s in response.json["sessions"]] == [s.id for s in stored.sessions]
    assert [f["id"] for f in response.json["follow_ups"]] == [f.id for f in stored.follow_ups]
    assert response.json["mediator_ids"] == [m.mediator_id for m in stored.mediators]


def test_a_second_session_is_answered_in_date_order(make_org, make_case, api_as, statements):
    """The answer's list of sessions is the one a new read gives: the one just added last, after the earlier one."""
    org = make_org()
    case = make_case(org, CaseStatus.in_mediation)  # a session held on 2026-03-03
    api = api_as(role=Role.mediator, organization=org)
    response = api.post(f"/api/v1/cases/{case.id}/sessions", json={"held_on": "2026-03-05", "summary": "第二次调解"})
    assert response.status_code == 201, response.json
    assert [(s["held_on"], s["summary"]) for s in response.json["sessions"]] == [
        ("2026-03-03", "双方到场，陈述事实"),
        ("2026-03-05", "第二次调解"),
    ]


def test_accepting_reads_the_mediators_before_it_writes_once(make_org, make_case, make_mediator, api_as, statements):
    """Accepting with a mediator: one UPDATE of the case (the mediators were read before the case changed, so no
    autoflush wrote the case early and _save a second time)."""
    org = make_org()
    case = make_case(org)
    mediator = make_mediator(organization=org)
    db.session.commit()
    actor = api_as(role=Role.mediator, organization=org).user.to_actor()
    case_id, mediator_id = case.id, mediator.id
    db.session.expunge_all()
    statements.take()
    accepted = service.accept_case(actor, case_id, mediator_id=mediator_id, accepted_on=date(2026, 3, 2))
    db.session.flush()
    updates = [s for s in statements.take() if s.startswith("UPDATE cases")]
    assert len(updates) == 1, updates
    assert [(m.mediator_id, m.lead) for m in accepted.mediators] == [(mediator_id, True)]


# --- transfers ---------------------------------------------------------------------------------------------------


@pytest.fixture
def transfer_parties(make_org, make_routed_case, api_as):
    hebei = make_org(name="竞秀区计数测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区计数测试调解委员会", region_code="110105")
    case = make_routed_case(hebei, applicant="130602", respondent="110105")
    return {
        "case": case,
        "number": case.number,
        "beijing": beijing,
        "sender": api_as(role=Role.mediator, organization=hebei),
        "receiver": api_as(role=Role.mediator, organization=beijing),
    }


def _requested(p) -> int:
    body = {
        "case_id": p["case"].id,
        "to_organization_id": p["beijing"].id,
        "agreement_code": "JJJ-MEDIATION",
        "mode": "transfer",
        "requested_on": "2025-09-29",
    }
    response = p["sender"].post("/api/v1/transfers", json=body)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_a_transfer_is_read_with_two_statements(transfer_parties, statements):
    """The transfer with its case, category, parties and both organisations (one statement), the regions involved
    with the ancestors their full names show (one statement)."""
    transfer_id = _requested(transfer_parties)
    db.session.expunge_all()
    statements.take()
    response = transfer_parties["receiver"].get(f"/api/v1/transfers/{transfer_id}")
    assert response.status_code == 200, response.json
    sent = statements.take()
    assert len(sent) == TOKEN + 2, "\n".join(s[:160] for s in sent)
    body = response.json
    assert body["from_organization_name"] == "竞秀区计数测试调解委员会"
    assert body["to_organization_name"] == "朝阳区计数测试调解委员会"
    assert {r["code"]: r["name"] for r in body["case"]["regions"]} == {
        "130602": "河北省 保定市 竞秀区",
        "110105": "北京市 朝阳区",
    }
    assert [p["region_name"] for p in body["case"]["parties"]] == ["河北省 保定市 竞秀区", "北京市 朝阳区"]


def test_a_page_of_transfers_is_read_with_two_statements(transfer_parties, statements):
    """The count, then the page with each transfer's case number and organisations' names."""
    _requested(transfer_parties)
    db.session.expunge_all()
    statements.take()
    response = transfer_parties["receiver"].get("/api/v1/transfers?direction=incoming")
    assert response.status_code == 200, response.json
    sent = statements.take()
    assert len(sent) == TOKEN + 2, "\n".join(s[:160] for s in sent)
    [item] = response.json["items"]
    assert item["case_number"] == transfer_parties["number"]
    assert item["to_organization_name"] == "朝阳区计数测试调解委员会"


# the answer's own statements: the transfer with its case and organisations, working days (calendar: 2), the
# conditional UPDATE and the refresh it needs, then what the step writes (events, notices, the transfer statistics)
ANSWERS = [
    # + INSERT event, co-mediation check, the sender's mediators, INSERT handling event, UPDATE case, transfer
    #   statistics (read; upsert of the organisations' month row, upsert of the regions' month rows), INSERT notice,
    #   the case handed over in the rate aggregates (the sender's row, four upserts: organisations and regions), the
    #   request's federation link (an answer to another hub's request goes back there)
    ("accept", {"answered_on": "2025-09-30"}, 1 + 2 + 2 + 9 + 5 + 1),
    # + INSERT event, transfer statistics (read, organisation upsert, region upsert), INSERT notice, the federation link
    ("decline", {"reason_code": "outside_competence", "answered_on": "2025-09-30"}, 1 + 2 + 2 + 5 + 1),
]


@pytest.mark.parametrize(("action", "body", "own"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_a_transfer_answer_reads_nothing_again(transfer_parties, statements, action, body, own):
    transfer_id = _requested(transfer_parties)
    db.session.expunge_all()
    statements.take()
    response = transfer_parties["receiver"].post(f"/api/v1/transfers/{transfer_id}/{action}", json=body)
    assert response.status_code == 200, response.json
    sent = statements.take()
    assert len(sent) == TOKEN + own, "\n".join(s[:160] for s in sent)
    # loaded with the transfer (a subquery of another statement, such as the rate aggregates' "is the sender another
    # hub's organisation", is no read of its own)
    assert not [s for s in sent if re.match(r"SELECT [^()]* FROM organizations\b", s)]
    answer = response.json
    assert answer["case_number"] == transfer_parties["number"]
    assert answer["status"] == {"accept": "accepted", "decline": "declined"}[action]
    assert answer["version"] == 2 and answer["answered_on"] == "2025-09-30"


def test_a_withdrawal_answers_with_the_stored_transfer(transfer_parties, statements):
    from mediation_hub.transfers.models import Transfer

    transfer_id = _requested(transfer_parties)
    response = transfer_parties["sender"].post(f"/api/v1/transfers/{transfer_id}/withdraw")
    assert response.status_code == 200, response.json
    db.session.expunge_all()
    stored = db.session.get(Transfer, transfer_id)
    assert (response.json["status"], response.json["version"]) == ("withdrawn", stored.version)
    assert response.json["answered_on"] == stored.answered_on.isoformat()
    assert stored.answered_on >= date(2025, 9, 29)
