"""Legal aid over the JSON API: the hand-over flow, 422s naming the rule, 409s, scope, masking."""

from __future__ import annotations

import json

import pytest

from mediation_hub.core.actor import Role
from mediation_hub.legal_aid.models import ApplicationStatus
from tests.factories import valid_id_number, valid_phone

BASE = "/api/v1/legal-aid/applications"


def filing(matter_region_code="130602", **overrides):
    from datetime import date

    body = {
        "applicant": {
            "name": "张桂兰",
            "id_number": valid_id_number("110105", date(1990, 1, 5)),
            "phone": valid_phone(),
            "region_code": "120101",
        },
        "matter_category": "maintenance",
        "matter_region_code": matter_region_code,
        "hardship": "declaration",
        "summary": "请求子女给付赡养费，子女住所地在保定竞秀区",
        "received_on": "2025-09-24",
    }
    body.update(overrides)
    return body


@pytest.fixture
def centres(tongban_pair, make_officer, api_as):
    tianjin, baoding = tongban_pair()
    return {
        "tianjin": tianjin,
        "baoding": baoding,
        "tj": api_as(make_officer(tianjin)),
        "bd": api_as(make_officer(baoding)),
    }


def test_tianjin_hands_over_and_baoding_decides(centres):
    tj, bd, tianjin, baoding = centres["tj"], centres["bd"], centres["tianjin"], centres["baoding"]
    body = filing()
    response = tj.post(BASE, json=body)
    assert response.status_code == 201, response.json
    app = response.json
    assert app["status"] == "filed" and app["centre_id"] == tianjin.id == app["filed_centre_id"]
    assert app["received_on"] is None and app["decide_by"] is None
    assert app["applicant"]["name"] == "张桂兰"
    assert (
        app["applicant"]["id_number"]
        == body["applicant"]["id_number"][:6] + "********" + body["applicant"]["id_number"][-4:]
    )

    # the 保定 centre cannot see it before the hand-over
    assert bd.get(f"{BASE}/{app['id']}").status_code == 404

    response = tj.post(
        f"{BASE}/{app['id']}/transfer", json={"to_centre_id": baoding.id, "transferred_on": "2025-09-24"}
    )
    assert response.status_code == 200, response.json
    app = response.json
    # received 2025-09-24 + 7 = 2025-10-01 (National Day holiday to 10-08) -> next working day 2025-10-09
    assert (app["status"], app["centre_id"], app["received_on"], app["decide_by"]) == (
        "transferred",
        baoding.id,
        "2025-09-24",
        "2025-10-09",
    )
    assert app["hardship"] == "declaration"
    assert app["handovers"][0]["agreement_code"] == "JJJ-LEGAL-AID"

    # 保定 tries to send it back: 422 naming the rule
    response = bd.post(f"{BASE}/{app['id']}/transfer", json={"to_centre_id": tianjin.id})
    assert response.status_code == 422
    assert "no_send_back" in response.json["error_codes"]["json"]["to_centre_id"]

    # Tianjin still sees it (it passed it on) but may no longer act on it
    assert tj.get(f"{BASE}/{app['id']}").status_code == 200
    assert tj.post(f"{BASE}/{app['id']}/accept", json={}).status_code == 403

    response = bd.post(f"{BASE}/{app['id']}/accept", json={"accepted_on": "2025-09-25"})
    assert response.status_code == 200 and response.json["decide_by"] == "2025-10-09"

    response = bd.post(f"{BASE}/{app['id']}/decide", json={"granted": False})
    assert response.status_code == 422 and list(response.json["errors"]["json"]) == ["reason"]

    response = bd.post(f"{BASE}/{app['id']}/decide", json={"granted": True, "decided_on": "2025-10-09"})
    # granted Thu 2025-10-09 + 3 = Sun 2025-10-12 (rest day) -> Mon 2025-10-13
    assert (response.json["status"], response.json["assign_by"]) == ("granted", "2025-10-13")

    response = bd.post(f"{BASE}/{app['id']}/assign", json={"lawyer_name": "周律师", "assigned_on": "2025-10-10"})
    assert (response.json["status"], response.json["lawyer_name"]) == ("assigned", "周律师")
    response = bd.post(f"{BASE}/{app['id']}/close", json={"closed_on": "2025-11-20"})
    assert response.json["status"] == "closed"
    assert [e["code"] for e in response.json["events"]] == [
        "filed",
        "transferred",
        "accepted",
        "granted",
        "lawyer_assigned",
        "closed",
    ]


def test_transfer_to_shanghai_centre_is_422(centres, make_centre):
    shanghai = make_centre("310101")
    app = centres["tj"].post(BASE, json=filing()).json
    response = centres["tj"].post(f"{BASE}/{app['id']}/transfer", json={"to_centre_id": shanghai.id})
    assert response.status_code == 422
    assert "not_covered_by_tongban" in response.json["error_codes"]["json"]["to_centre_id"]


def test_state_conflict_names_both_states(make_application, api_as, make_officer):
    application, _tianjin, baoding = make_application(ApplicationStatus.granted)
    api = api_as(make_officer(baoding))
    response = api.post(f"{BASE}/{application.id}/accept", json={})
    assert response.status_code == 409
    assert response.json["error"] == "action_not_allowed"
    assert "申请当前为“准予援助”" in response.json["message"]
    assert "已申请" in response.json["message"] and "已转交" in response.json["message"]


def test_scope_other_centre_404_coordinators_read_only(make_application, api_as, make_officer, make_centre, make_user):
    application, _tianjin, _baoding = make_application(ApplicationStatus.transferred)
    stranger = api_as(make_officer(make_centre("130602")))
    for call in (
        lambda: stranger.get(f"{BASE}/{application.id}"),
        lambda: stranger.post(f"{BASE}/{application.id}/accept", json={}),
    ):
        assert call().status_code == 404
    assert stranger.get(BASE).json["total"] == 0

    hebei = api_as(make_user(role=Role.coordinator, region_code="130000"))
    assert hebei.get(f"{BASE}/{application.id}").status_code == 200
    assert hebei.post(f"{BASE}/{application.id}/accept", json={}).status_code == 403
    assert hebei.post(BASE, json=filing()).status_code == 403
    shanghai = api_as(make_user(role=Role.coordinator, region_code="310000"))
    assert shanghai.get(f"{BASE}/{application.id}").status_code == 404
    mediator = api_as(role=Role.mediator)
    assert mediator.get(f"{BASE}/{application.id}").status_code == 404


def test_officer_lists_and_filters(make_application, api_as, make_officer):
    application, _tianjin, baoding = make_application(ApplicationStatus.transferred)
    bd = api_as(make_officer(baoding))
    page = bd.get(f"{BASE}?status=transferred").json
    assert [i["id"] for i in page["items"]] == [application.id] and page["total"] == 1
    assert bd.get(f"{BASE}?status=accepted").json["total"] == 0
    # handed over 2025-09-11, decide_by 2025-09-18: long past, so it is overdue today
    overdue = bd.get(f"{BASE}?overdue=true").json
    assert overdue["total"] == 1 and overdue["items"][0]["decide_overdue"] is True


def test_officer_files_only_for_own_centre(centres):
    response = centres["tj"].post(BASE, json=filing(centre_id=centres["baoding"].id))
    assert response.status_code == 422 and "centre_id" in response.json["errors"]["json"]


def test_no_full_id_number_or_phone_in_any_response(centres):
    body = filing()
    tj = centres["tj"]
    created = tj.post(BASE, json=body).json
    texts = [json.dumps(created, ensure_ascii=False)]
    texts.append(tj.get(f"{BASE}/{created['id']}").get_data(as_text=True))
    texts.append(tj.get(BASE).get_data(as_text=True))
    texts.append(
        tj.post(f"{BASE}/{created['id']}/transfer", json={"to_centre_id": centres["baoding"].id}).get_data(as_text=True)
    )
    for text in texts:
        assert body["applicant"]["id_number"] not in text
        assert body["applicant"]["phone"] not in text
    assert created["applicant"]["phone"].startswith(body["applicant"]["phone"][:3] + "****")


def test_exempt_without_group_is_422(centres):
    response = centres["tj"].post(BASE, json=filing(hardship="exempt"))
    assert response.status_code == 422 and list(response.json["errors"]["json"]) == ["exempt_group"]
    response = centres["tj"].post(BASE, json=filing(hardship="exempt", exempt_group="hero_martyr_relative"))
    assert response.status_code == 201 and response.json["exempt_group"] == "hero_martyr_relative"
