"""Agreements: which agreements cover a set of regions, and an administrator keeping agreements through the API
and the pages (coordinators propose: tests/test_agreement_proposals.py)."""

from __future__ import annotations

from datetime import date

import pytest

from mediation_hub.agreements.models import Agreement, AgreementKind, AgreementMember, AgreementScope
from mediation_hub.agreements.service import agreements_covering
from mediation_hub.extensions import db

ON = date(2025, 3, 3)


def _codes(agreements):
    return [a.code for a in agreements]


# --- coverage ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regions", "scope", "expected"),
    [
        (["130600", "110000"], "mediation", ["JJJ-MEDIATION"]),  # 保定 + 北京
        (["130602", "110105"], "mediation", ["JJJ-MEDIATION"]),  # 竞秀区 + 朝阳区: subtrees of members
        (["130600", "120000"], "legal_aid", ["JJJ-LEGAL-AID"]),  # 保定 + 天津, legal aid
        (["440100", "441400"], "mediation", ["GD-PAIR-GZ"]),  # 广州 + 梅州, pairing (scope both)
        (["440100", "441400"], "legal_aid", ["GD-PAIR-GZ"]),
        (["110000", "310000"], "mediation", []),  # 北京 + 上海: no agreement
        (["440100", "440300"], "mediation", []),  # 广州 + 深圳: different pairings
        (["130629", "130632", "130638", "110105"], "mediation", ["JJJ-MEDIATION"]),  # 雄安 counties lie in 130000
        (["XIONGAN", "120116"], "mediation", ["JJJ-MEDIATION"]),  # the custom region counts by its members
        (["110000", "NOPE"], "mediation", []),  # unknown region: covered by nothing
        ([], "mediation", []),
    ],
)
def test_agreements_covering(regions, scope, expected):
    assert _codes(agreements_covering(regions, scope, ON)) == expected


def _agreement(code, *, active=True, effective_from=date(2025, 1, 1), effective_to=None, members=("110000", "310000")):
    agreement = Agreement(
        code=code,
        name=code,
        kind=AgreementKind.pairing,
        scope=AgreementScope.mediation,
        response_working_days=3,
        signed_on=date(2024, 12, 1),
        effective_from=effective_from,
        effective_to=effective_to,
        active=active,
    )
    agreement.members = [AgreementMember(region_code=c) for c in members]
    db.session.add(agreement)
    db.session.flush()
    return agreement


@pytest.mark.parametrize(
    ("kwargs", "covered"),
    [
        ({}, True),
        ({"active": False}, False),  # inactive
        ({"effective_from": date(2025, 3, 4)}, False),  # not yet in force on 3 March
        ({"effective_from": date(2025, 3, 3)}, True),  # in force from its first day
        ({"effective_to": date(2025, 3, 2)}, False),  # expired the day before
        ({"effective_to": date(2025, 3, 3)}, True),  # last day still counts
    ],
)
def test_inactive_or_out_of_force_agreements_are_excluded(kwargs, covered):
    _agreement("BJ-SH-TEST", **kwargs)
    assert _codes(agreements_covering(["110105", "310101"], "mediation", ON)) == (["BJ-SH-TEST"] if covered else [])


def test_scope_must_match():
    _agreement("BJ-SH-TEST")
    assert agreements_covering(["110000", "310000"], AgreementScope.legal_aid, ON) == []


# --- API ------------------------------------------------------------------------------------------------

NEW = {
    "code": "BJ-SD-TEST",
    "name": "京鲁调解协作(测试)",
    "kind": "joint_mediation",
    "scope": "mediation",
    "member_codes": ["370000", "110000"],
    "response_working_days": 5,
    "signed_on": "2025-01-10",
}


def test_every_role_reads_agreements(api_as):
    api = api_as(role="mediator")
    body = api.get("/api/v1/agreements?per_page=100").get_json()
    assert body["total"] == 5 and body["page"] == 1
    jjj = api.get("/api/v1/agreements/JJJ-MEDIATION").get_json()
    assert jjj == {
        "code": "JJJ-MEDIATION",
        "name": "京津冀调解工作协同发展合作协议",
        "kind": "joint_mediation",
        "scope": "mediation",
        "member_codes": ["110000", "120000", "130000"],
        "response_working_days": 3,
        "signed_on": "2023-06-15",
        "effective_from": "2023-06-15",
        "effective_to": None,
        "active": True,
        "note": jjj["note"],
    }
    assert api.get("/api/v1/agreements/NOPE").status_code == 404


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("scope=legal_aid", ["GD-PAIR-FS", "GD-PAIR-GZ", "GD-PAIR-SZ-ST", "JJJ-LEGAL-AID"]),  # pairings are "both"
        ("kind=pairing&region_code=441400", ["GD-PAIR-GZ"]),  # 梅州 is a member
        ("region_code=130629", ["JJJ-LEGAL-AID", "JJJ-MEDIATION"]),  # 容城县 lies in member 130000
        ("region_code=440000", ["GD-PAIR-FS", "GD-PAIR-GZ", "GD-PAIR-SZ-ST"]),  # members lie in 广东
        ("region_code=310000", []),
        ("region_code=XIONGAN", ["JJJ-LEGAL-AID", "JJJ-MEDIATION"]),  # 雄安新区 by its member counties
    ],
)
def test_list_filters(api_as, query, codes):
    body = api_as(role="coordinator").get(f"/api/v1/agreements?{query}").get_json()
    assert [a["code"] for a in body["items"]] == codes


def test_admin_creates_an_agreement_that_then_covers_its_regions(api_as):
    response = api_as(role="admin").post("/api/v1/agreements", json=NEW)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["member_codes"] == ["110000", "370000"] and body["effective_from"] == "2025-01-10"
    assert body["active"] is True and body["response_working_days"] == 5
    # 济南 (370100) and 朝阳区 are now covered for mediation, not for legal aid.
    assert _codes(agreements_covering(["370100", "110105"], "mediation", ON)) == ["BJ-SD-TEST"]
    assert agreements_covering(["370100", "110105"], "legal_aid", ON) == []


def test_every_broken_rule_is_reported_at_once(api_as):
    data = {
        **NEW,
        "kind": "tongban",
        "scope": "mediation",
        "member_codes": ["110000", "110000", "999999"],
        "response_working_days": 61,
        "effective_from": "2025-02-01",
        "effective_to": "2025-01-31",
        "code": "bad code",
    }
    response = api_as(role="admin").post("/api/v1/agreements", json=data)
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    assert sorted(errors) == ["code", "effective_to", "member_codes", "response_working_days", "scope"]
    assert len(errors["member_codes"]) == 2  # listed twice, and 999999 unknown


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"member_codes": ["130000", "130600"]}, "member_codes"),  # 保定 lies inside 河北
        ({"member_codes": ["110000"]}, "member_codes"),  # one region is no agreement
        ({"response_working_days": 0}, "response_working_days"),
        ({"effective_from": "2025-01-09"}, "effective_from"),  # before it was signed
        ({"kind": "pairing", "scope": "both"}, None),  # a pairing may cover both
        ({"kind": "joint_mediation", "scope": "legal_aid"}, "scope"),
        # business dates start in 1990 (core/business_dates.py): a year-1 typo is refused, not stored
        ({"signed_on": "0001-01-01", "effective_from": "0001-01-01"}, "signed_on,effective_from"),
        ({"signed_on": "1989-12-31", "effective_from": "1990-01-01"}, "signed_on"),
        ({"signed_on": "1990-01-01", "effective_from": "1990-01-01"}, None),
    ],
)
def test_single_rules(api_as, change, field):
    response = api_as(role="admin").post("/api/v1/agreements", json={**NEW, **change})
    if field is None:
        assert response.status_code == 201
    else:
        assert response.status_code == 422 and sorted(response.get_json()["errors"]["json"]) == sorted(field.split(","))


def test_a_code_already_taken_is_a_conflict(api_as):
    api = api_as(role="admin")
    assert api.post("/api/v1/agreements", json=NEW).status_code == 201
    response = api.post("/api/v1/agreements", json={**NEW, "name": "另一份协议"})
    assert response.status_code == 409 and "BJ-SD-TEST" in response.get_json()["message"]


@pytest.mark.parametrize("role", ["mediator", "legal_aid_officer", "registry_admin"])
def test_only_admins_and_coordinators_keep_agreements(api_as, role):
    api = api_as(role=role)
    assert api.post("/api/v1/agreements", json=NEW).status_code == 403
    assert api.patch("/api/v1/agreements/JJJ-MEDIATION", json={"note": "x"}).status_code == 403


def test_a_region_coordinator_proposes_only_for_agreements_touching_the_region(api_as):
    hebei = api_as(role="coordinator", region_code="130600")  # 保定 coordinator
    assert hebei.patch("/api/v1/agreements/JJJ-MEDIATION", json={"response_working_days": 5}).status_code == 403
    proposed = hebei.post("/api/v1/agreements/JJJ-MEDIATION/proposals", json={"response_working_days": 5})
    assert proposed.status_code == 201 and proposed.get_json()["state"] == "pending"
    assert hebei.post("/api/v1/agreements/GD-PAIR-GZ/proposals", json={"note": "x"}).status_code == 403
    assert hebei.post("/api/v1/agreement-proposals", json=NEW).status_code == 403  # 北京 + 山东 only
    ok = hebei.post("/api/v1/agreement-proposals", json={**NEW, "member_codes": ["130600", "370100"]})
    assert ok.status_code == 201 and ok.get_json()["awaiting"] == ["370100"]  # 保定 confirmed by proposing


def test_patch_changes_terms_members_and_takes_an_agreement_out_of_force(api_as):
    api = api_as(role="admin")
    response = api.patch(
        "/api/v1/agreements/GD-PAIR-GZ", json={"member_codes": ["440100", "441400"], "response_working_days": 7}
    )
    assert response.status_code == 200
    assert response.get_json()["member_codes"] == ["440100", "441400"]
    assert _codes(agreements_covering(["440100", "441800"], "mediation", ON)) == []  # 清远 no longer a member
    response = api.patch("/api/v1/agreements/GD-PAIR-GZ", json={"active": False})
    assert response.get_json()["active"] is False
    assert agreements_covering(["440100", "441400"], "mediation", ON) == []
    bad = api.patch("/api/v1/agreements/GD-PAIR-GZ", json={"effective_to": "2023-07-01"})  # before 2023-08-01
    assert bad.status_code == 422 and list(bad.get_json()["errors"]["json"]) == ["effective_to"]
    assert api.patch("/api/v1/agreements/GD-PAIR-GZ", json={"active": True}).get_json()["active"] is True


def test_deactivating_twice_is_a_state_conflict():
    from mediation_hub.agreements.service import deactivate_agreement, reactivate_agreement
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.errors import StateConflict

    deactivate_agreement(SYSTEM, "JJJ-MEDIATION")
    with pytest.raises(StateConflict, match="停用状态") as caught:
        deactivate_agreement(SYSTEM, "JJJ-MEDIATION")
    assert caught.value.message.code == "agreement_already_inactive"
    reactivate_agreement(SYSTEM, "JJJ-MEDIATION")
    with pytest.raises(StateConflict):
        reactivate_agreement(SYSTEM, "JJJ-MEDIATION")


# --- pages ----------------------------------------------------------------------------------------------

FORM = {
    "code": "bj-sd-page",
    "name": "京鲁调解协作(页面)",
    "kind": "joint_mediation",
    "scope": "mediation",
    "member_codes": "110000，370000",
    "response_working_days": "4",
    "signed_on": "2025-01-10",
    "effective_from": "",
    "effective_to": "",
    "note": "",
}


def test_list_and_detail_pages_show_members_by_name(signed_in, make_user):
    client = signed_in(make_user(role="mediator"))
    html = client.get("/agreements/").get_data(as_text=True)
    assert "京津冀调解工作协同发展合作协议" in html and "广州市与梅州、湛江、清远结对提升" in html
    assert "新建协议" not in html  # mediators only read
    detail = client.get("/agreements/GD-PAIR-GZ").get_data(as_text=True)
    assert "广东省 梅州市" in detail and "441400" in detail and "调解及法律援助" in detail
    assert client.get("/agreements/new").status_code == 403
    assert client.get("/agreements/NOPE").status_code == 404


def test_admin_creates_an_agreement_through_the_form(signed_in, make_user):
    client = signed_in(make_user(role="admin"))
    response = client.post("/agreements/new", data=FORM)
    assert response.status_code == 302 and response.headers["Location"].endswith("/agreements/BJ-SD-PAGE")
    html = client.get("/agreements/BJ-SD-PAGE").get_data(as_text=True)
    assert "山东省" in html and "4 个工作日" in html and "2025-01-10 — 长期" in html
    again = client.post("/agreements/new", data={**FORM, "name": "重复"})
    assert again.status_code == 409 and "已存在" in again.get_data(as_text=True)


def test_form_shows_the_service_messages_beside_the_fields(signed_in, make_user):
    client = signed_in(make_user(role="coordinator"))
    response = client.post(
        "/agreements/new",
        data={**FORM, "member_codes": "110000 999999", "kind": "tongban", "effective_to": "2024-12-31"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未知的行政区划代码 999999" in html and "失效日期不能早于生效日期" in html and "适用范围只能是" in html


def test_edit_and_stop_an_agreement_from_its_page(signed_in, make_user):
    client = signed_in(make_user(role="admin"))
    form = client.get("/agreements/GD-PAIR-GZ/edit").get_data(as_text=True)
    assert "440100 440800 441400 441800" in form
    data = {
        **FORM,
        "name": "广州–梅州结对",
        "kind": "pairing",
        "scope": "both",
        "member_codes": "440100 441400",
        "signed_on": "2023-08-01",
        "effective_from": "2023-08-01",
    }
    assert client.post("/agreements/GD-PAIR-GZ/edit", data=data).status_code == 302
    agreement = db.session.get(Agreement, "GD-PAIR-GZ")
    assert agreement.name == "广州–梅州结对" and agreement.member_codes == ["440100", "441400"]
    assert client.post("/agreements/GD-PAIR-GZ/deactivate").status_code == 302
    assert db.session.get(Agreement, "GD-PAIR-GZ").active is False
    assert "恢复执行" in client.get("/agreements/GD-PAIR-GZ").get_data(as_text=True)
    assert client.post("/agreements/GD-PAIR-GZ/deactivate").status_code == 409


def test_a_coordinator_edits_only_the_agreements_of_the_region(signed_in, make_user):
    client = signed_in(make_user(role="coordinator", region_code="441400"))  # 梅州 coordinator
    assert client.get("/agreements/GD-PAIR-GZ/edit").status_code == 200
    assert client.get("/agreements/JJJ-MEDIATION/edit").status_code == 403  # not 梅州's agreement
