"""Registry business rules through the API: each rule with a value that passes and one that fails,
scope (a record outside it is a 404), and 422 answers that name every field at fault."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from stdnum.cn import uscc

from mediation_hub.core.actor import Role
from mediation_hub.core.pii import mask_id_number, mask_phone
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind
from tests.factories import valid_id_number, valid_phone


def make_uscc(body17: str = "91110105MA01ABCD3") -> str:
    """A unified social credit code with a correct check digit (letters inside, as most have)."""
    return body17 + uscc.calc_check_digit(body17)


def wrong_check_digit(code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:-1] + next(c for c in alphabet if c != code[-1])


@pytest.fixture
def registrar(api_as):
    return api_as(role=Role.registry_admin)


def org_payload(**overrides) -> dict:
    payload = {"name": "东城区测试人民调解委员会", "kind": "people_mediation_committee", "region_code": "110101"}
    payload.update(overrides)
    return payload


# --- organisations ----------------------------------------------------------------------------------------


def test_good_uscc_and_region_register_an_organisation(registrar):
    response = registrar.post("/api/v1/organizations", json=org_payload(uscc=make_uscc()))
    assert response.status_code == 201, response.json
    assert response.json["uscc"] == "91110105MA01ABCD39"
    assert response.json["region_name"] == "北京市 东城区"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("uscc", wrong_check_digit(make_uscc())),
        ("uscc", "1234"),
        ("region_code", "119999"),
        ("region_code", "not-a-code"),
    ],
)
def test_bad_uscc_or_region_is_422_naming_the_field(registrar, field, value):
    response = registrar.post("/api/v1/organizations", json=org_payload(**{field: value}))
    assert response.status_code == 422
    assert response.json["code"] == 422
    assert list(response.json["errors"]["json"]) == [field]


def test_duplicate_uscc_is_refused(registrar, make_org):
    make_org(uscc=make_uscc())
    response = registrar.post("/api/v1/organizations", json=org_payload(uscc=make_uscc()))
    assert response.status_code == 422
    assert "uscc" in response.json["errors"]["json"]


def test_422_names_every_field_at_fault(registrar, make_org):
    make_org(name="重名委员会", region_code="110101")
    response = registrar.post(
        "/api/v1/organizations",
        json=org_payload(name="重名委员会", uscc=wrong_check_digit(make_uscc()), parent_id=999_999),
    )
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"name", "uscc", "parent_id"}


def test_shape_errors_name_every_field(registrar):
    response = registrar.post("/api/v1/organizations", json={"name": "x", "kind": "bakery"})
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"name", "kind", "region_code"}


# --- mediators --------------------------------------------------------------------------------------------


@pytest.fixture
def committee(make_org):
    org = make_org(region_code="110105")
    db.session.commit()
    return org


def mediator_payload(org, **overrides) -> dict:
    payload = {"name": "张调解", "organization_id": org.id, "id_number": valid_id_number(), "phone": valid_phone()}
    payload.update(overrides)
    return payload


def test_good_id_number_and_phone_register_a_mediator_masked(registrar, committee):
    response = registrar.post(
        "/api/v1/mediators", json=mediator_payload(committee, id_number="11010519800105123X", phone="13800001234")
    )
    assert response.status_code == 201, response.json
    assert response.json["id_number"] == "110105********123X"
    assert response.json["phone"] == "138****1234"


def test_masks_are_exactly_the_documented_shape():
    assert mask_id_number("11010519800105123X") == "110105********123X"
    assert mask_phone("13800001234") == "138****1234"


_tomorrow_next_year = date.today().replace(month=1, day=1) + timedelta(days=800)
_GOOD = valid_id_number()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id_number", _GOOD[:-1] + ("0" if _GOOD[-1] != "0" else "1")),  # wrong checksum (of the same number)
        ("id_number", valid_id_number(born=_tomorrow_next_year)),  # future birth date
        ("id_number", valid_id_number(region="990101")),  # unknown prefix
        ("id_number", "1101051980"),  # too short
        ("phone", "12345"),
        ("phone", "10000000000"),
    ],
)
def test_bad_personal_numbers_are_422_naming_the_field(registrar, committee, field, value):
    response = registrar.post("/api/v1/mediators", json=mediator_payload(committee, **{field: value}))
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == [field]


def test_wrong_checksum_value_is_really_wrong():
    good = valid_id_number(sequence=7)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    from mediation_hub.core.pii import normalise_id_number

    assert normalise_id_number(good) == good
    with pytest.raises(ValueError, match="校验位"):
        normalise_id_number(bad)


def test_every_bad_mediator_field_is_named_at_once(registrar, committee):
    response = registrar.post(
        "/api/v1/mediators",
        json=mediator_payload(committee, organization_id=999_999, id_number="110105198013401234", phone="12345"),
    )
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"organization_id", "id_number", "phone"}


# --- studios ----------------------------------------------------------------------------------------------


def test_studio_rules_good_and_bad(registrar, make_org, make_mediator):
    host = make_org(region_code="110105")
    other = make_org(region_code="110105")
    lead = make_mediator(organization=host)
    outsider = make_mediator(organization=other)
    bureau = make_org(kind=OrgKind.justice_bureau, region_code="110105")
    not_bureau = make_org(kind=OrgKind.legal_aid_centre, region_code="110105")
    db.session.commit()
    base = {"name": "规则测试工作室", "organization_id": host.id, "named_on": "2024-03-01"}

    bad = registrar.post(
        "/api/v1/studios", json={**base, "lead_mediator_id": outsider.id, "named_by_id": not_bureau.id}
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]["json"]) == {"lead_mediator_id", "named_by_id"}

    good = registrar.post("/api/v1/studios", json={**base, "lead_mediator_id": lead.id, "named_by_id": bureau.id})
    assert good.status_code == 201, good.json
    assert good.json["lead_mediator_name"] == lead.name


# --- scope ------------------------------------------------------------------------------------------------


def test_mediator_of_one_organisation_gets_404_for_another_organisations_mediator(api_as, make_org, make_mediator):
    own, other = make_org(), make_org()
    colleague, stranger = make_mediator(organization=own), make_mediator(organization=other)
    api = api_as(role=Role.mediator, organization=own)
    assert api.get(f"/api/v1/mediators/{colleague.id}").status_code == 200
    response = api.get(f"/api/v1/mediators/{stranger.id}")
    assert response.status_code == 404
    assert response.json["code"] == 404
    listed = {m["id"] for m in api.get("/api/v1/mediators").json["items"]}
    assert colleague.id in listed and stranger.id not in listed


def test_hebei_registrar_cannot_see_or_create_in_beijing(api_as, make_org):
    beijing = make_org(region_code="110105")
    hebei = make_org(region_code="130602")
    api = api_as(role=Role.registry_admin, region_code="130000")
    assert api.get(f"/api/v1/organizations/{hebei.id}").status_code == 200
    assert api.get(f"/api/v1/organizations/{beijing.id}").status_code == 404
    response = api.post("/api/v1/organizations", json=org_payload(region_code="110105"))
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == ["region_code"]
    assert api.post("/api/v1/organizations", json=org_payload(region_code="130602")).status_code == 201


def test_non_registrars_cannot_change_the_registry(api_as, make_org):
    org = make_org()
    api = api_as(role=Role.mediator, organization=org)
    response = api.patch(f"/api/v1/organizations/{org.id}", json={"name": "改名"})
    assert response.status_code == 403


# --- pagination -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/organizations", "/api/v1/mediators", "/api/v1/studios"])
def test_lists_have_the_page_shape(api_as, make_studio, path):
    for _ in range(3):
        make_studio()
    api = api_as(role=Role.admin)
    body = api.get(f"{path}?per_page=2&page=2").json
    assert {"items", "total", "page", "per_page"} <= set(body)
    assert body["page"] == 2 and body["per_page"] == 2
    assert body["total"] >= 3
    assert len(body["items"]) == min(2, body["total"] - 2)


def test_organisation_filter_by_region_subtree_and_kind(api_as, make_org):
    in_baoding = make_org(region_code="130602")
    bureau = make_org(region_code="130600", kind=OrgKind.justice_bureau)
    elsewhere = make_org(region_code="130102")
    api = api_as(role=Role.admin)
    ids = {o["id"] for o in api.get("/api/v1/organizations?region_code=130600&per_page=100").json["items"]}
    assert {in_baoding.id, bureau.id} <= ids and elsewhere.id not in ids
    ids = {
        o["id"]
        for o in api.get("/api/v1/organizations?region_code=130600&kind=justice_bureau&per_page=100").json["items"]
    }
    assert bureau.id in ids and in_baoding.id not in ids


def test_studio_naming_date_may_not_be_in_the_future(registrar, make_org, make_mediator):
    from mediation_hub.core.shanghai import today_shanghai

    lead = make_mediator(organization=make_org())
    db.session.commit()
    base = {"organization_id": lead.organization_id, "lead_mediator_id": lead.id}
    future = (today_shanghai() + timedelta(days=1)).isoformat()
    bad = registrar.post("/api/v1/studios", json={**base, "name": "未来工作室", "named_on": future})
    assert bad.status_code == 422 and list(bad.json["errors"]["json"]) == ["named_on"]
    today = today_shanghai().isoformat()
    good = registrar.post("/api/v1/studios", json={**base, "name": "今日工作室", "named_on": today})
    assert good.status_code == 201


def test_a_studio_lead_cannot_move_to_another_organisation(registrar, make_org, make_studio, make_mediator):
    studio = make_studio()
    other = make_org()
    free = make_mediator(organization=studio.organization)
    db.session.commit()
    moved = registrar.patch(f"/api/v1/mediators/{studio.lead_mediator_id}", json={"organization_id": other.id})
    assert moved.status_code == 422 and list(moved.json["errors"]["json"]) == ["organization_id"]
    assert registrar.patch(f"/api/v1/mediators/{free.id}", json={"organization_id": other.id}).status_code == 200
