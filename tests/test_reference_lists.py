"""Issue 13, point 9: API clients can name things. The reference lists are published, their codes are enums in
the OpenAPI document, and wherever a code is taken its Chinese name is taken too."""

from __future__ import annotations

import pytest

from mediation_hub.core.actor import Role
from tests.factories_cases import person

LISTS = {
    # list: (how many, the first item, one item further down)
    "case-categories": (15, {"code": "marriage_family", "name": "婚姻家庭"}, {"code": "medical", "name": "医疗"}),
    "case-sources": (
        8,
        {"code": "party_application", "name": "当事人申请"},
        {"code": "hotline_12348", "name": "12348 热线"},
    ),
    "legal-aid-matters": (
        11,
        {"code": "criminal_defence", "name": "刑事辩护 (第二十四、二十五条)"},
        {"code": "maintenance", "name": "请求给付赡养费、抚养费、扶养费 (第三十一条第四项)"},
    ),
    "decline-reasons": (
        6,
        {"code": "outside_competence", "name": "不属本组织受理范围"},
        {"code": "other", "name": "其他（须说明）"},
    ),
}


@pytest.fixture
def mediator(api_as, make_org):
    org = make_org()
    return api_as(role=Role.mediator, organization=org), org


@pytest.mark.parametrize("name", LISTS)
def test_each_list_is_published_with_codes_and_chinese_names(mediator, name):
    api, _org = mediator
    response = api.get(f"/api/v1/reference/{name}")
    assert response.status_code == 200
    items = response.json["items"]
    count, first, further = LISTS[name]
    assert len(items) == count and items[0] == first and further in items
    assert len({item["code"] for item in items}) == count
    # The same names in English: the name is what is accepted back, so it does not change with the language.
    english = api.get(f"/api/v1/reference/{name}", headers={"Accept-Language": "en"}).json["items"]
    assert english == items


def test_an_unknown_list_is_404_and_a_token_is_needed(mediator, client):
    api, _org = mediator
    assert api.get("/api/v1/reference/nothing-here").status_code == 404
    assert client.get("/api/v1/reference/case-categories").status_code == 401


@pytest.mark.parametrize(
    ("path", "field", "name"),
    [
        ("/api/v1/cases", "category", "case-categories"),
        ("/api/v1/cases", "source", "case-sources"),
        ("/api/v1/legal-aid/applications", "matter_category", "legal-aid-matters"),
        ("/api/v1/transfers/{transfer_id}/decline", "reason_code", "decline-reasons"),
    ],
)
def test_the_openapi_document_lists_the_codes_as_an_enum(client, path, field, name):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"][path]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    prop = spec["components"]["schemas"][ref]["properties"][field]
    assert prop["enum"] == [item[0] for item in _items(name)]
    assert f"/api/v1/reference/{name}" in prop["description"]
    assert "/api/v1/reference/{list_name}" in spec["paths"]


def _items(name):
    from mediation_hub.reference.lists import items

    return items(name)


def _case_body(org, **fields):
    body = {
        "organization_id": org.id,
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水致楼下受损",
        "received_on": "2026-03-02",
        "occurred_region_code": "110105",
        "major": False,
        "parties": [person("applicant"), person("respondent")],
    }
    body.update(fields)
    return body


@pytest.mark.parametrize(
    ("category", "source", "expected"),
    [
        ("婚姻家庭", "当事人申请", ("marriage_family", "party_application")),
        (" 道路交通事故 ", "12348热线", ("traffic", "hotline_12348")),  # spaces around or left out
        ("contract", "法院委派/委托", ("contract", "court_referral")),  # a code and a name mixed
    ],
)
def test_a_case_is_registered_with_chinese_names(mediator, category, source, expected):
    api, org = mediator
    response = api.post("/api/v1/cases", json=_case_body(org, category=category, source=source))
    assert response.status_code == 201, response.json
    assert (response.json["category"], response.json["source"]) == expected


def test_a_name_that_is_not_on_the_list_is_refused_naming_the_field(mediator):
    api, org = mediator
    response = api.post("/api/v1/cases", json=_case_body(org, category="吵架", source="当事人申请"))
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"category"}


def test_the_case_list_filter_takes_a_name(mediator, make_case):
    api, org = mediator
    neighbour = make_case(org)
    assert neighbour.category_code == "neighbour"
    by_name = api.get("/api/v1/cases", query_string={"category": "邻里"}).json
    by_code = api.get("/api/v1/cases", query_string={"category": "neighbour"}).json
    assert by_name["total"] == by_code["total"] >= 1
    assert neighbour.id in {item["id"] for item in by_name["items"]}


@pytest.mark.parametrize(
    "matter",
    [
        "请求给付赡养费、抚养费、扶养费 (第三十一条第四项)",
        "请求给付赡养费、抚养费、扶养费（第三十一条第四项）",
        "请求给付赡养费、抚养费、扶养费",
    ],
)
def test_a_legal_aid_application_takes_the_matter_by_name(tongban_pair, make_officer, api_as, matter):
    from tests.test_legal_aid_api import BASE, filing

    tianjin, _baoding = tongban_pair()
    officer = api_as(make_officer(tianjin))
    response = officer.post(BASE, json=filing(centre_id=tianjin.id, matter_category=matter))
    assert response.status_code == 201, response.json
    assert response.json["matter_category"] == "maintenance"


def test_a_transfer_is_declined_with_the_reason_by_name(make_org, make_routed_case, api_as):
    hebei = make_org(name="竞秀区名称测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区名称测试调解委员会", region_code="110105")
    case = make_routed_case(hebei, applicant="130602", respondent="110105")
    sender, receiver = (api_as(role=Role.mediator, organization=o) for o in (hebei, beijing))
    transfer = sender.post(
        "/api/v1/transfers",
        json={
            "case_id": case.id,
            "to_organization_id": beijing.id,
            "agreement_code": "JJJ-MEDIATION",
            "mode": "transfer",
        },
    ).json
    response = receiver.post(
        f"/api/v1/transfers/{transfer['id']}/decline",
        json={"reason_code": "力量不足，无法承接", "reason_text": "本月案件已满"},
    )
    assert response.status_code == 200, response.json
    assert response.json["reason_code"] == "capacity"
