"""The transfer API: requests, queues, the minimum view before acceptance, answers, escalations."""

from __future__ import annotations

import re
from datetime import date

import pytest

from mediation_hub.core.actor import Role

FULL_ID_NUMBER = re.compile(r"\d{17}[\dXx]")
READ_FIELDS = {
    "id",
    "case_id",
    "from_organization_id",
    "to_organization_id",
    "agreement_code",
    "mode",
    "status",
    "respond_by",
    "answered_at",
    "reason_code",
    "reason_text",
}


@pytest.fixture
def parties(make_org, make_user, make_routed_case, api_as):
    hebei = make_org(name="竞秀区API转办测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区API转办测试调解委员会", region_code="110105")
    case = make_routed_case(hebei, applicant="130602", respondent="110105")
    return {
        "case": case,
        "hebei": hebei,
        "beijing": beijing,
        "sender": api_as(role="mediator", organization=hebei),
        "receiver": api_as(role="mediator", organization=beijing),
    }


def _post_transfer(p, **overrides):
    body = {
        "case_id": p["case"].id,
        "to_organization_id": p["beijing"].id,
        "agreement_code": "JJJ-MEDIATION",
        "mode": "transfer",
        **overrides,
    }
    return p["sender"].post("/api/v1/transfers", json=body)


def test_request_read_and_queues(parties):
    response = _post_transfer(parties, requested_on="2025-09-29", note="被申请人常住北京")
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert set(created) >= READ_FIELDS
    assert (created["status"], created["respond_by"], created["answered_at"]) == ("pending", "2025-10-10", None)

    incoming = parties["receiver"].get("/api/v1/transfers?direction=incoming&status=pending").get_json()
    assert [t["id"] for t in incoming["items"]] == [created["id"]]
    assert parties["receiver"].get("/api/v1/transfers?direction=outgoing").get_json()["total"] == 0
    outgoing = parties["sender"].get("/api/v1/transfers?direction=outgoing").get_json()
    assert [t["id"] for t in outgoing["items"]] == [created["id"]]


def test_off_route_request_names_the_field(parties, make_org):
    shanghai = make_org(region_code="310101")
    response = _post_transfer(parties, to_organization_id=shanghai.id)
    assert response.status_code == 422
    assert "to_organization_id" in response.get_json()["errors"]["json"]
    response = _post_transfer(parties, agreement_code="GD-PAIR-GZ")
    assert response.status_code == 422
    assert "agreement_code" in response.get_json()["errors"]["json"]
    assert _post_transfer(parties, mode="merge").status_code == 422


def test_the_receiver_sees_only_the_minimum_before_accepting(parties):
    transfer_id = _post_transfer(parties).get_json()["id"]
    case_id = parties["case"].id
    receiver = parties["receiver"]
    assert receiver.get(f"/api/v1/cases/{case_id}").status_code == 404

    response = receiver.get(f"/api/v1/transfers/{transfer_id}")
    assert response.status_code == 200
    assert not FULL_ID_NUMBER.search(response.get_data(as_text=True))
    view = response.get_json()["case"]
    assert view["number"] == parties["case"].number
    assert [p["name"] for p in view["parties"]] == [p.name for p in parties["case"].parties]
    assert all("*" in p["id_number"] and "*" in p["phone"] for p in view["parties"])
    assert {r["code"] for r in view["regions"]} == {"130602", "110105"}
    assert "朝阳区" in {r["name"].split()[-1] for r in view["regions"]}

    accepted = receiver.post(f"/api/v1/transfers/{transfer_id}/accept", json={})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    after = receiver.get(f"/api/v1/cases/{case_id}")
    assert after.status_code == 200
    assert after.get_json()["organization_id"] == parties["beijing"].id
    sender_view = parties["sender"].get(f"/api/v1/cases/{case_id}")  # read-only now (tests/test_sender_view.py)
    assert sender_view.status_code == 200 and sender_view.get_json()["read_only"] is True


def test_decline_and_conflicts_over_the_api(parties):
    transfer_id = _post_transfer(parties).get_json()["id"]
    receiver = parties["receiver"]
    missing_text = receiver.post(f"/api/v1/transfers/{transfer_id}/decline", json={"reason_code": "other"})
    assert missing_text.status_code == 422
    assert "reason_text" in missing_text.get_json()["errors"]["json"]
    assert (
        receiver.post(f"/api/v1/transfers/{transfer_id}/decline", json={"reason_code": "not-a-reason"}).status_code
        == 422
    )
    assert parties["sender"].post(f"/api/v1/transfers/{transfer_id}/accept", json={}).status_code == 403

    declined = receiver.post(
        f"/api/v1/transfers/{transfer_id}/decline", json={"reason_code": "conflict_of_interest"}
    ).get_json()
    assert (declined["status"], declined["reason_code"]) == ("declined", "conflict_of_interest")
    assert receiver.post(f"/api/v1/transfers/{transfer_id}/accept", json={}).status_code == 409
    assert parties["sender"].post(f"/api/v1/transfers/{transfer_id}/withdraw").status_code == 409


def test_withdraw_and_strangers(parties, api_as):
    transfer_id = _post_transfer(parties).get_json()["id"]
    stranger = api_as(role="mediator")
    assert stranger.get(f"/api/v1/transfers/{transfer_id}").status_code == 404
    assert stranger.post(f"/api/v1/transfers/{transfer_id}/accept", json={}).status_code == 404
    withdrawn = parties["sender"].post(f"/api/v1/transfers/{transfer_id}/withdraw")
    assert withdrawn.get_json()["status"] == "withdrawn"


def test_escalations_for_coordinators(parties, api_as):
    _post_transfer(parties, requested_on="2025-09-29")  # overdue since 2025-10-11
    coordinator = api_as(role=Role.coordinator, region_code="110000")
    body = coordinator.get("/api/v1/escalations").get_json()
    assert [t["case_id"] for t in body["items"]] == [parties["case"].id]
    assert date.fromisoformat(body["items"][0]["respond_by"]) == date(2025, 10, 10)
    assert parties["sender"].get("/api/v1/escalations").status_code == 403
    assert api_as(role=Role.coordinator, region_code="440000").get("/api/v1/escalations").get_json()["total"] == 0
