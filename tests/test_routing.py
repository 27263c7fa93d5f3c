"""Routing: which partner organisations a cross-region case may go to, under which agreement, and why."""

from __future__ import annotations

import pytest

from mediation_hub.cases.models import CaseStatus
from mediation_hub.registry.models import OrgKind
from mediation_hub.transfers.routing import NO_AGREEMENT, NO_PARTNER, NOT_CROSS_REGION, routes_for_case


@pytest.fixture
def baoding(make_org, make_user):
    org = make_org(name="竞秀区测试人民调解委员会", region_code="130602")
    return org, make_user(organization=org)


def test_baoding_to_beijing_routes_under_jjj_ranked_with_reasons(baoding, make_org, make_mediator, make_routed_case):
    hebei_org, hebei_user = baoding
    # A 保定 medical dispute whose respondent lives in 朝阳区 (110105).
    case = make_routed_case(hebei_org, applicant="130602", respondent="110105", category="medical")
    chaoyang = make_org(name="朝阳测试街道人民调解委员会", region_code="110105")
    medical = make_org(
        name="北京测试医疗纠纷人民调解委员会",
        region_code="110108",
        kind=OrgKind.professional_mediation_org,
        specialties=["医疗"],
    )
    haidian = make_org(name="海淀测试人民调解委员会", region_code="110108")
    make_mediator(organization=haidian, specialties=["医疗", "邻里"])
    # Not partners: inactive, not a mediation organisation, not in a region the case involves, home province.
    make_org(name="朝阳测试停用调解委员会", region_code="110105", active=False)
    make_org(name="朝阳测试法律援助中心", region_code="110105", kind=OrgKind.legal_aid_centre)
    make_org(name="和平测试人民调解委员会", region_code="120101")
    make_org(name="莲池测试人民调解委员会", region_code="130606")
    # Two open cases and one concluded case for 朝阳: only the open ones count as load.
    make_routed_case(chaoyang, applicant="110105", respondent="110105")
    make_routed_case(chaoyang, applicant="110105", respondent="110105", status=CaseStatus.registered)
    make_routed_case(chaoyang, applicant="110105", respondent="110105", status=CaseStatus.concluded)

    result = routes_for_case(hebei_user.to_actor(), case.id)

    assert result["reason"] is None
    routes = result["routes"]
    assert [r["organization_id"] for r in routes] == [medical.id, haidian.id, chaoyang.id]
    assert {r["agreement_code"] for r in routes} == {"JJJ-MEDIATION"}
    # medical: organisation specialty 3 + same city (110100) as the respondent 2 - 0 load = 5.0
    # haidian: a mediator's specialty 2 + same city 2 = 4.0
    # chaoyang: same county as the respondent 3 - 2 open cases x 0.1 = 2.8
    assert [r["score"] for r in routes] == [5.0, 4.0, 2.8]
    assert routes[0]["region_code"] == "110108"
    assert "擅长医疗纠纷" in routes[0]["reasons"]
    assert "有擅长医疗纠纷的调解员" in routes[1]["reasons"]
    assert "与被申请人同在朝阳区（同一区县）" in routes[2]["reasons"]
    assert "目前在办案件 2 件" in routes[2]["reasons"]


def test_guangzhou_to_meizhou_routes_under_the_pairing(make_org, make_user, make_routed_case):
    guangzhou = make_org(name="荔湾测试人民调解委员会", region_code="440103")
    user = make_user(organization=guangzhou)
    case = make_routed_case(guangzhou, applicant="440103", respondent="441402", occurred="441402", category="labour")
    meizhou = make_org(name="梅江测试人民调解委员会", region_code="441402")
    make_org(name="越秀测试人民调解委员会", region_code="440104")  # same city as the sender
    make_org(name="金平测试人民调解委员会", region_code="440511")  # 汕头: another pairing, not involved

    result = routes_for_case(user.to_actor(), case.id)

    assert result["reason"] is None
    assert [(r["organization_id"], r["agreement_code"]) for r in result["routes"]] == [(meizhou.id, "GD-PAIR-GZ")]
    # same county (梅江区) as the respondent and the place: 3 points, no load
    assert result["routes"][0]["score"] == 3.0


def test_beijing_to_shanghai_has_no_agreement(make_org, make_user, make_routed_case):
    beijing = make_org(name="东城测试人民调解委员会", region_code="110101")
    user = make_user(organization=beijing)
    make_org(name="黄浦测试人民调解委员会", region_code="310101")
    case = make_routed_case(beijing, applicant="110101", respondent="310101")

    assert routes_for_case(user.to_actor(), case.id) == {
        "routes": [],
        "reason": NO_AGREEMENT,
        "reason_code": "no_agreement",
    }


def test_covered_regions_without_a_partner_say_so(baoding, make_routed_case):
    hebei_org, hebei_user = baoding
    case = make_routed_case(hebei_org, applicant="130602", respondent="120119")  # 蓟州区, no organisation there

    assert routes_for_case(hebei_user.to_actor(), case.id) == {
        "routes": [],
        "reason": NO_PARTNER,
        "reason_code": "no_partner",
    }


@pytest.mark.parametrize("respondent", ["130606", "130102"])  # same city; another Hebei city, no pairing
def test_a_case_within_one_province_is_not_cross_region(baoding, make_org, make_routed_case, respondent):
    hebei_org, hebei_user = baoding
    make_org(name="长安测试人民调解委员会", region_code="130102")
    case = make_routed_case(hebei_org, applicant="130602", respondent=respondent)

    assert routes_for_case(hebei_user.to_actor(), case.id) == {
        "routes": [],
        "reason": NOT_CROSS_REGION,
        "reason_code": "not_cross_region",
    }


def test_routes_api_and_scope(baoding, make_org, make_routed_case, api_as):
    hebei_org, hebei_user = baoding
    case = make_routed_case(hebei_org)
    partner = make_org(name="朝阳测试API人民调解委员会", region_code="110105")

    body = api_as(hebei_user).get(f"/api/v1/cases/{case.id}/routes").get_json()
    assert body["reason"] is None
    assert body["routes"][0]["organization_id"] == partner.id
    assert set(body["routes"][0]) >= {
        "organization_id",
        "organization_name",
        "region_code",
        "agreement_code",
        "score",
        "reasons",
    }
    # A Beijing mediator cannot see the case, so cannot see its routes either.
    outsider = api_as(role="mediator", organization=partner)
    assert outsider.get(f"/api/v1/cases/{case.id}/routes").status_code == 404
