"""Routing explained (issue 13 point 6): suggestions give their reasons as Chinese sentences with a code beside
each, and the specialty rule never puts a committee of another speciality (医疗纠纷人民调解委员会) first for a
contract dispute."""

from __future__ import annotations

import pytest

from mediation_hub.cases.models import CaseStatus
from mediation_hub.registry.models import OrgKind
from mediation_hub.transfers.routing import (
    category_names,
    organization_specialties,
    routes_for_case,
    specialty_fit,
)

JJJ = "同在京津冀调解工作协同发展合作协议内"


@pytest.fixture(autouse=True)
def _in_a_request(app):
    """Reasons are translated for the request's language (Chinese by default)."""
    with app.test_request_context("/", method="POST"):
        yield


@pytest.fixture
def baoding(make_org, make_user):
    org = make_org(name="竞秀区理由测试人民调解委员会", region_code="130602")
    return org, make_user(organization=org)


@pytest.mark.parametrize(
    ("name", "specialties", "category", "fit"),
    [
        ("北京市医疗纠纷人民调解委员会", [], "contract", "off_specialty"),  # the name carries 医疗
        ("北京市医疗纠纷人民调解委员会", [], "medical", "match"),
        ("海淀区道路交通事故人民调解委员会", ["损害赔偿"], "damages", "match"),
        ("某合同纠纷调解中心", ["合同"], "contract", "match"),
        ("某商事调解中心", ["contract"], "contract", "match"),  # a category code
        ("某商事调解中心", ["合同纠纷"], "contract", "match"),  # "纠纷" ignored
        ("某商事调解中心", ["合同纠纷"], "marriage_family", "off_specialty"),
        ("某街道人民调解委员会", [], "contract", "general"),
        ("某街道人民调解委员会", ["商事", "调解"], "contract", "general"),  # words that name no category
        ("某街道人民调解委员会", ["其他"], "contract", "general"),  # 其他 is no specialty
    ],
)
def test_specialty_fit(make_org, name, specialties, category, fit):
    org = make_org(name=name, specialties=specialties)
    assert specialty_fit(category, organization_specialties(org, category_names())) == fit


def test_a_contract_dispute_ranks_matching_then_general_then_other_specialists(
    baoding, make_org, make_mediator, make_routed_case
):
    hebei_org, hebei_user = baoding
    # A 保定 contract dispute whose respondent lives in 朝阳区 (110105); the case happened in 竞秀区.
    case = make_routed_case(hebei_org, applicant="130602", respondent="110105", category="contract")
    medical = make_org(
        name="北京测试医疗纠纷人民调解委员会", region_code="110105", kind=OrgKind.professional_mediation_org
    )
    traffic = make_org(
        name="海淀测试交通调解委员会",
        region_code="110108",
        kind=OrgKind.professional_mediation_org,
        specialties=["道路交通事故纠纷"],
    )
    make_mediator(organization=traffic, specialties=["合同"])
    contract = make_org(
        name="海淀测试商事调解中心", region_code="110108", kind=OrgKind.commercial_mediation, specialties=["合同"]
    )
    busy = make_org(name="朝阳测试街道人民调解委员会", region_code="110105")
    yanqing = make_org(name="延庆测试人民调解委员会", region_code="110119")
    make_mediator(organization=yanqing, specialties=["contract"])
    for _ in range(25):
        make_routed_case(busy, applicant="110105", respondent="110105")
    make_routed_case(busy, applicant="110105", respondent="110105", status=CaseStatus.concluded)  # not load

    routes = routes_for_case(hebei_user.to_actor(), case.id)["routes"]

    # contract: organisation specialty 3 + same city as the respondent 2 = 5.0
    # yanqing: general 0 + a mediator's specialty 2 + same city 2 = 4.0
    # busy: general 0 + same county 3 - 25 open cases x 0.1 capped at 2 = 1.0
    # traffic: off-specialty -10 + a mediator's specialty 2 + same city 2 = -6.0
    # medical: off-specialty -10 + same county 3 = -7.0 (the closest and idlest, still last)
    assert [(r["organization_id"], r["score"], r["specialty_fit"]) for r in routes] == [
        (contract.id, 5.0, "match"),
        (yanqing.id, 4.0, "general"),
        (busy.id, 1.0, "general"),
        (traffic.id, -6.0, "off_specialty"),
        (medical.id, -7.0, "off_specialty"),
    ]
    by_org = {r["organization_id"]: r for r in routes}
    assert by_org[contract.id]["reasons"] == [
        JJJ,
        "擅长合同纠纷",
        "与被申请人同在北京市（同一地级市）",
        "目前没有在办案件",
    ]
    assert by_org[contract.id]["reason_codes"] == ["agreement_covers", "specialty_match", "same_city", "open_cases"]
    assert by_org[yanqing.id]["reasons"][1:3] == ["综合性调解组织，可受理各类纠纷", "有擅长合同纠纷的调解员"]
    assert by_org[busy.id]["reasons"][2:] == ["与被申请人同在朝阳区（同一区县）", "目前在办案件 25 件"]
    assert by_org[medical.id]["reasons"][1] == "专门调解医疗纠纷，与本案类别不符，排在综合性调解组织之后"
    assert by_org[traffic.id]["reason_codes"][1:3] == ["off_specialty", "mediator_specialty"]
    for route in routes:
        assert len(route["reasons"]) == len(route["reason_codes"])
        assert not any("得分" in text or "score" in text for text in route["reasons"])


@pytest.mark.parametrize(("category", "first"), [("medical", "medical"), ("contract", "general")])
def test_the_medical_committee_is_first_only_for_a_medical_dispute(
    baoding, make_org, make_routed_case, category, first
):
    hebei_org, hebei_user = baoding
    case = make_routed_case(hebei_org, applicant="130602", respondent="110105", category=category)
    orgs = {
        "medical": make_org(
            name="北京测试医疗纠纷人民调解委员会", region_code="110108", kind=OrgKind.professional_mediation_org
        ),
        "general": make_org(name="海淀测试人民调解委员会", region_code="110108"),
    }
    make_routed_case(orgs["general"], applicant="110108", respondent="110108")  # the general one is busier

    routes = routes_for_case(hebei_user.to_actor(), case.id)["routes"]
    assert routes[0]["organization_id"] == orgs[first].id


def test_the_routes_api_gives_codes_beside_the_sentences(baoding, make_org, make_routed_case, api_as):
    hebei_org, hebei_user = baoding
    case = make_routed_case(hebei_org, applicant="130602", respondent="110105", category="contract")
    partner = make_org(name="朝阳测试API理由人民调解委员会", region_code="110105")

    body = api_as(hebei_user).get(f"/api/v1/cases/{case.id}/routes").get_json()
    assert (body["reason"], body["reason_code"]) == (None, None)
    route = body["routes"][0]
    assert route["organization_id"] == partner.id and route["specialty_fit"] == "general"
    assert route["reasons"] == [
        JJJ,
        "综合性调解组织，可受理各类纠纷",
        "与被申请人同在朝阳区（同一区县）",
        "目前没有在办案件",
    ]
    assert route["reason_codes"] == ["agreement_covers", "general_organization", "same_county", "open_cases"]
    assert route["score"] == 3.0


def test_no_route_has_a_code(baoding, make_routed_case, api_as):
    hebei_org, hebei_user = baoding
    case = make_routed_case(hebei_org, applicant="130602", respondent="120119")  # 蓟州区, no organisation there
    body = api_as(hebei_user).get(f"/api/v1/cases/{case.id}/routes").get_json()
    assert body == {"routes": [], "reason": "协议地区内没有可接收的调解组织", "reason_code": "no_partner"}


def test_the_openapi_document_describes_the_reason_codes(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    route = schemas["RouteOut"]["properties"]
    assert route["reasons"]["type"] == "array" and route["reasons"]["items"]["type"] == "string"
    assert "specialty_match" in route["reason_codes"]["items"]["enum"]
    assert route["specialty_fit"]["enum"] == ["match", "general", "off_specialty"]


def test_the_case_page_shows_the_reasons_in_words_not_a_score(baoding, make_org, make_routed_case, signed_in):
    hebei_org, hebei_user = baoding
    case = make_routed_case(hebei_org, applicant="130602", respondent="110105", category="contract")
    make_org(name="北京测试医疗纠纷人民调解委员会", region_code="110105", kind=OrgKind.professional_mediation_org)
    general = make_org(name="朝阳测试页面理由人民调解委员会", region_code="110105")

    page = signed_in(hebei_user).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "得分" not in page
    assert "推荐理由" in page and JJJ in page and "与被申请人同在朝阳区（同一区县）" in page
    assert "专门调解医疗纠纷，与本案类别不符" in page
    assert page.index(general.name) < page.index("北京测试医疗纠纷人民调解委员会")
    assert 'data-reason="specialty_match"' not in page and 'data-reason="general_organization"' in page
