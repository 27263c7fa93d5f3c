"""The cases API through the test client: registration, every transition, the timeline, the reveal,
field paths in 422s, scope as 404, and no unmasked ID number in any answer."""

import re
from datetime import date

import pytest

from mediation_hub.audit.models import AuditEntry
from mediation_hub.cases.models import Case, CaseStatus
from mediation_hub.core.actor import Role
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from tests.factories import valid_id_number
from tests.factories_cases import organization_party, person

FULL_ID = re.compile(r"\d{17}[\dXx]")


def _payload(org, **fields):
    body = {
        "organization_id": org.id,
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水致楼下受损",
        "received_on": "2026-03-02",
        "occurred_region_code": "110105",
        "amount_yuan": "3500.50",
        "major": False,
        "parties": [person("applicant", name="王芳"), organization_party("respondent", name="某物业公司")],
    }
    body.update(fields)
    return body


@pytest.fixture
def mediator_api(api_as, make_org):
    org = make_org()
    return api_as(role=Role.mediator, organization=org), org


def _assert_masked(response):
    assert not FULL_ID.search(response.get_data(as_text=True)), response.get_data(as_text=True)


def test_register_returns_201_with_the_case_masked_and_warnings(mediator_api):
    api, org = mediator_api
    response = api.post("/api/v1/cases", json=_payload(org))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "registered" and body["warnings"] == []
    assert re.fullmatch(rf"MH-110105-{org.id}-2026-\d{{6}}", body["number"])
    assert body["amount_yuan"] == "3500.50" and body["cross_region"] is False
    assert body["parties"][0]["id_number"].startswith("110105") and "*" in body["parties"][0]["id_number"]
    assert body["parties"][1]["uscc"].count("*") == 6
    assert body["allowed_actions"] == ["accept", "decline"]
    assert set(body) >= {
        "id",
        "number",
        "status",
        "outcome",
        "organization_id",
        "studio_id",
        "mediator_ids",
        "category",
        "source",
        "summary",
        "received_on",
        "accepted_on",
        "due_on",
        "concluded_on",
        "cross_region",
        "major",
        "parties",
        "version",
    }
    _assert_masked(response)


def test_register_reports_every_field_at_fault_by_its_path(mediator_api):
    api, org = mediator_api
    bad = person("applicant", id_number="110105198005170001")  # wrong check digit
    bad["phone"] = "12345"
    response = api.post(
        "/api/v1/cases",
        json=_payload(org, category="nope", received_on="2999-01-01", parties=[bad, person("third_party")]),
    )
    assert response.status_code == 422
    fields = response.json["errors"]["json"]
    assert set(fields) == {"parties.0.id_number", "parties.0.phone", "parties", "category", "received_on"}
    assert "校验位" in fields["parties.0.id_number"][0]
    assert db.session.query(Case).filter_by(organization_id=org.id).count() == 0


def test_register_shape_errors_name_the_field(mediator_api):
    api, org = mediator_api
    body = _payload(org)
    del body["summary"]
    response = api.post("/api/v1/cases", json=body)
    assert response.status_code == 422
    assert "summary" in response.json["errors"]["json"]


def test_a_mediator_registers_only_for_their_own_organisation(mediator_api, make_org):
    api, _ = mediator_api
    other = make_org()
    response = api.post("/api/v1/cases", json=_payload(other))
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == ["organization_id"]


def test_the_whole_lifecycle_through_the_api(mediator_api, make_mediator):
    api, org = mediator_api
    mediator = make_mediator(organization=org)
    case = api.post("/api/v1/cases", json=_payload(org)).json
    cid = case["id"]

    accepted = api.post(
        f"/api/v1/cases/{cid}/accept",
        json={"mediator_id": mediator.id, "accepted_on": "2026-03-02", "version": case["version"]},
    )
    assert accepted.status_code == 200, accepted.json
    # 2026-03-02 + 30 days = Wed 2026-04-01, a working day.
    assert (accepted.json["status"], accepted.json["due_on"]) == ("accepted", "2026-04-01")
    assert accepted.json["mediator_ids"] == [mediator.id]

    session = api.post(f"/api/v1/cases/{cid}/sessions", json={"held_on": "2026-03-03", "summary": "面对面调解"})
    assert session.status_code == 201 and session.json["status"] == "in_mediation"
    assert session.json["sessions"][0]["summary"] == "面对面调解"

    extended = api.post(f"/api/v1/cases/{cid}/extend", json={"days": 10, "consent_note": "双方签字同意延期"})
    # 2026-04-01 + 10 = Sat 2026-04-11 -> next working day Mon 2026-04-13 (Qingming is 04-04..04-06).
    assert extended.status_code == 200 and extended.json["due_on"] == "2026-04-13"

    concluded = api.post(
        f"/api/v1/cases/{cid}/conclude",
        json={
            "outcome": "agreement",
            "concluded_on": "2026-03-05",
            "agreement_amount_yuan": 3000,
            "terms": "物业公司赔偿维修费3000元",
            "performed": False,
        },
    )
    # The extension was recorded today, so a conclusion dated before it is refused, naming the field.
    assert concluded.status_code == 422 and list(concluded.json["errors"]["json"]) == ["concluded_on"]
    today_conclusion = api.post(
        f"/api/v1/cases/{cid}/conclude",
        json={"outcome": "agreement", "agreement_amount_yuan": 3000, "terms": "物业公司赔偿维修费3000元"},
    )
    assert today_conclusion.status_code == 200, today_conclusion.json
    body = today_conclusion.json
    assert body["status"] == "concluded" and body["outcome"] == "agreement"
    assert body["agreement_amount_yuan"] == "3000.00" and body["confirmation_deadline"] is not None

    applied = api.post(f"/api/v1/cases/{cid}/confirmation", json={"court": "朝阳区人民法院"})
    assert applied.status_code == 200 and applied.json["confirmation_status"] == "applied"
    decided = api.post(f"/api/v1/cases/{cid}/confirmation-result", json={"confirmed": True})
    assert decided.status_code == 200 and decided.json["confirmation_status"] == "confirmed"
    follow = api.post(f"/api/v1/cases/{cid}/follow-ups", json={"summary": "已履行", "performed": True})
    assert follow.status_code == 201 and follow.json["agreement_performed"] is True

    events = api.get(f"/api/v1/cases/{cid}/events")
    assert [e["code"] for e in events.json["items"]] == [
        "registered",
        "accepted",
        "session_recorded",
        "time_limit_extended",
        "concluded",
        "confirmation_applied",
        "confirmation_decided",
        "follow_up_recorded",
    ]
    assert events.json["items"][1]["label"] == "受理"
    for response in (
        accepted,
        session,
        extended,
        today_conclusion,
        applied,
        decided,
        follow,
        events,
        api.get(f"/api/v1/cases/{cid}"),
        api.get("/api/v1/cases"),
    ):
        _assert_masked(response)


def test_decline_through_the_api(mediator_api):
    api, org = mediator_api
    cid = api.post("/api/v1/cases", json=_payload(org)).json["id"]
    missing = api.post(f"/api/v1/cases/{cid}/decline", json={})
    assert missing.status_code == 422 and "reason" in missing.json["errors"]["json"]
    declined = api.post(f"/api/v1/cases/{cid}/decline", json={"reason": "已进入诉讼程序", "declined_on": "2026-03-03"})
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    assert declined.json["decline_reason"] == "已进入诉讼程序"


def test_a_refused_transition_is_a_409_naming_both(mediator_api):
    api, org = mediator_api
    cid = api.post("/api/v1/cases", json=_payload(org)).json["id"]
    response = api.post(f"/api/v1/cases/{cid}/conclude", json={"outcome": "agreement"})
    assert response.status_code == 409
    assert response.json["error"] == "action_not_allowed"
    assert "「已登记」" in response.json["message"] and "不能办结" in response.json["message"]
    assert db.session.get(Case, cid).status == CaseStatus.registered


def test_a_stale_version_is_a_409(mediator_api):
    api, org = mediator_api
    case = api.post("/api/v1/cases", json=_payload(org)).json
    assert api.post(f"/api/v1/cases/{case['id']}/accept", json={"version": case["version"]}).status_code == 200
    again = api.post(f"/api/v1/cases/{case['id']}/decline", json={"reason": "x", "version": case["version"]})
    assert again.status_code == 409 and again.json["error"] == "stale_version"


def test_a_future_date_is_a_422_naming_the_field(mediator_api):
    api, org = mediator_api
    cid = api.post("/api/v1/cases", json=_payload(org)).json["id"]
    response = api.post(f"/api/v1/cases/{cid}/accept", json={"accepted_on": "2999-01-01"})
    assert response.status_code == 422 and list(response.json["errors"]["json"]) == ["accepted_on"]


def test_another_organisations_case_is_a_404(mediator_api, api_as, make_case):
    api, _ = mediator_api
    foreign = make_case()
    db.session.commit()
    assert api.get(f"/api/v1/cases/{foreign.id}").status_code == 404
    assert api.post(f"/api/v1/cases/{foreign.id}/accept", json={}).status_code == 404
    assert api.get(f"/api/v1/cases/{foreign.id}/events").status_code == 404
    assert api.post(f"/api/v1/cases/{foreign.id}/parties/{foreign.parties[0].id}/reveal").status_code == 404
    assert foreign.id not in [c["id"] for c in api.get("/api/v1/cases?per_page=100").json["items"]]


def test_a_coordinator_sees_the_regions_cases_but_may_not_move_them(api_as, make_case, make_org):
    beijing = make_case(make_org(region_code="110105"))
    hebei = make_case(make_org(region_code="130602"))
    db.session.commit()
    api = api_as(role=Role.coordinator, region_code="110000")
    ids = [c["id"] for c in api.get("/api/v1/cases?per_page=100").json["items"]]
    assert beijing.id in ids and hebei.id not in ids
    assert api.post(f"/api/v1/cases/{beijing.id}/accept", json={}).status_code == 403
    assert api.post(f"/api/v1/cases/{beijing.id}/parties/{beijing.parties[0].id}/reveal").status_code == 403


def test_reveal_for_the_handling_organisation_is_audited(mediator_api):
    api, org = mediator_api
    number = valid_id_number()
    body = _payload(org, parties=[person("applicant", id_number=number), person("respondent")])
    case = api.post("/api/v1/cases", json=body).json
    party_id = case["parties"][0]["id"]
    response = api.post(f"/api/v1/cases/{case['id']}/parties/{party_id}/reveal")
    assert response.status_code == 200
    assert response.json["id_number"] == number
    entry = db.session.query(AuditEntry).filter_by(action="reveal_id_number", target_id=str(party_id)).one()
    assert entry.user_id == api.user.id and number not in str(entry.detail)
    events = api.get(f"/api/v1/cases/{case['id']}/events").json["items"]
    assert events[-1]["code"] == "party_number_revealed" and number not in str(events[-1])
    _assert_masked(api.get(f"/api/v1/cases/{case['id']}/events"))


def test_a_possible_duplicate_is_a_409_until_confirmed(mediator_api):
    """The same applicant in an open case registered today: 409 possible_duplicate with the candidate; sent again
    with confirm_duplicate it registers and names it in ``warnings`` (tests/test_registration_day.py has the rest)."""
    api, org = mediator_api
    applicant = person("applicant", name="李雷")
    today = today_shanghai().isoformat()
    body = _payload(org, received_on=today, parties=[applicant, person("respondent", name="韩梅梅", with_number=False)])
    first = api.post("/api/v1/cases", json=body).json
    again = api.post("/api/v1/cases", json=body)
    assert again.status_code == 409
    assert [c["number"] for c in again.json["duplicates"]["candidates"]] == [first["number"]]
    confirmed = api.post("/api/v1/cases", json={**body, "confirm_duplicate": True})
    assert confirmed.status_code == 201
    [warning] = confirmed.json["warnings"]
    assert (warning["code"], warning["case_id"], warning["number"], warning["visible"]) == (
        "possible_duplicate",
        first["id"],
        first["number"],
        True,
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=accepted", {"accepted"}),
        ("category=labour", {"labour"}),
        ("date_from=2026-02-01&date_to=2026-02-28", {"feb"}),
        # Both running cases are long past their time limits (due 2026-04-01 and 2025-10-09).
        ("overdue=true", {"accepted", "overdue"}),
        ("overdue=false", {"labour", "feb", "leak"}),
        ("q=厨房", {"leak"}),
    ],
)
def test_list_filters(api_as, make_org, make_case, query, expected):
    org = make_org()
    made = {
        "accepted": make_case(org, CaseStatus.accepted, received_on=date(2026, 3, 2)),
        "labour": make_case(org, category="labour", received_on=date(2026, 3, 2)),
        "feb": make_case(org, received_on=date(2026, 2, 10)),
        "overdue": make_case(org, CaseStatus.in_mediation, received_on=date(2025, 9, 1)),
        "leak": make_case(org, summary="厨房漏水", received_on=date(2026, 3, 2)),
    }
    db.session.commit()
    api = api_as(role=Role.mediator, organization=org)
    names = {v.id: k for k, v in made.items()}
    found = {names[c["id"]] for c in api.get(f"/api/v1/cases?{query}&per_page=50").json["items"]}
    assert found == expected


def test_a_stale_data_error_reaching_the_app_is_a_409_not_a_500(app):
    from sqlalchemy.orm.exc import StaleDataError

    with app.test_request_context("/api/v1/cases/1/conclude", method="POST"):
        response = app.make_response(app.handle_user_exception(StaleDataError("UPDATE matched 0 rows")))
    assert response.status_code == 409 and response.json["code"] == 409
    assert "同时修改" in response.json["message"]


def test_list_with_an_unknown_region_is_a_422(mediator_api):
    api, _ = mediator_api
    response = api.get("/api/v1/cases?region_code=999999")
    # the service refuses it, but the client sent it in the query string: filed there (errors.input_location)
    assert response.status_code == 422 and list(response.json["errors"]["query"]) == ["region_code"]
