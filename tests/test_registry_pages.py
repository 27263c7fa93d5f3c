"""Registry pages through the test client: lists with filters and pages, forms that keep what was typed
and show the service's messages beside the fields (422), who may edit, scope, and the audited reveal."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.audit.models import AuditEntry
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from mediation_hub.registry.models import Mediator, Organization, OrgKind, Studio
from tests.factories import valid_id_number


@pytest.fixture
def registrar(signed_in, make_user):
    user = make_user(role=Role.registry_admin)
    return signed_in(user)


def field_errors(html: str, field: str) -> str:
    match = re.search(rf'<ul class="field-error" id="{field}-errors">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def test_organisation_list_filters_by_region_subtree_kind_and_name(registrar, make_org):
    make_org(name="保定竞秀筛选委员会", region_code="130602")
    make_org(name="保定市筛选司法局", region_code="130600", kind=OrgKind.justice_bureau)
    make_org(name="石家庄筛选委员会", region_code="130102")
    db.session.commit()
    html = registrar.get("/registry/organizations?region_code=130600&q=筛选").get_data(as_text=True)
    assert "保定竞秀筛选委员会" in html and "保定市筛选司法局" in html and "石家庄筛选委员会" not in html
    html = registrar.get("/registry/organizations?region_code=130600&q=筛选&kind=justice_bureau").get_data(as_text=True)
    assert "保定市筛选司法局" in html and "保定竞秀筛选委员会" not in html
    # the picker is rendered with the chosen region's ancestry for the script, and the plain input holds the code
    assert 'data-path="130000/130600/"' in html and 'value="130600"' in html


def test_unknown_region_in_the_filter_is_shown_not_a_crash(registrar):
    response = registrar.get("/registry/organizations?region_code=999999")
    assert response.status_code == 200
    assert "未知的行政区划代码" in response.get_data(as_text=True)


def test_list_pages_paginate(registrar, make_org):
    for i in range(3):
        make_org(name=f"分页测试委员会{i}", region_code="150102")
    db.session.commit()
    html = registrar.get("/registry/organizations?region_code=150102&per_page=2").get_data(as_text=True)
    assert "共 3 条，第 1 / 2 页" in html and 'rel="next"' in html
    html = registrar.get("/registry/organizations?region_code=150102&per_page=2&page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in html and "分页测试委员会2" in html and 'rel="prev"' in html


def test_create_organisation_through_the_form(registrar):
    response = registrar.post(
        "/registry/organizations/new",
        data={
            "name": "表单登记委员会",
            "kind": "people_mediation_committee",
            "region_code": "130602",
            "specialties": "邻里，婚姻家庭、邻里",
        },
    )
    assert response.status_code == 302
    org = db.session.scalar(sa.select(Organization).where(Organization.name == "表单登记委员会"))
    assert org.region_code == "130602" and org.specialties == ["邻里", "婚姻家庭"]
    assert response.headers["Location"].endswith(f"/registry/organizations/{org.id}")


def test_failed_organisation_form_keeps_values_and_shows_errors_by_the_fields(registrar):
    response = registrar.post(
        "/registry/organizations/new",
        data={
            "name": "错误表单委员会",
            "kind": "people_mediation_committee",
            "region_code": "119999",
            "uscc": "91110105MA01ABCD30",
            "address": "某路1号",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="错误表单委员会"' in html and 'value="某路1号"' in html and 'value="119999"' in html
    assert "未知的行政区划代码" in html
    assert "校验位" in field_errors(html, "uscc")


def test_hebei_registrar_gets_404_for_beijing_and_422_creating_there(signed_in, make_user, make_org):
    beijing = make_org(region_code="110105")
    client = signed_in(make_user(role=Role.registry_admin, region_code="130000"))
    assert client.get(f"/registry/organizations/{beijing.id}").status_code == 404
    response = client.post(
        "/registry/organizations/new",
        data={"name": "越界委员会", "kind": "people_mediation_committee", "region_code": "110105"},
    )
    assert response.status_code == 422
    assert "超出您的管辖范围" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.mediator, Role.coordinator, Role.legal_aid_officer])
def test_only_registrars_see_and_use_the_create_and_edit_pages(signed_in, make_user, make_org, make_mediator, role):
    org = make_org()
    mediator = make_mediator(organization=org)
    user = make_user(role=role, organization=org if role != Role.coordinator else None)
    client = signed_in(user)
    if role != Role.legal_aid_officer:
        html = client.get("/registry/mediators").get_data(as_text=True)
        assert mediator.name in html and "登记调解员" not in html
    for url in (
        "/registry/organizations/new",
        "/registry/mediators/new",
        "/registry/studios/new",
        f"/registry/organizations/{org.id}/edit",
    ):
        assert client.get(url).status_code in (403, 404), url
    assert client.post("/registry/organizations/new", data={"name": "x"}).status_code == 403
    if role == Role.mediator:  # the mediator sees its own organisation, so a change is forbidden, not hidden
        assert client.get(f"/registry/mediators/{mediator.id}/edit").status_code == 403
        assert client.post(f"/registry/mediators/{mediator.id}/reveal").status_code == 403


def test_mediator_gets_404_for_another_organisations_mediator_page(signed_in, make_user, make_org, make_mediator):
    own, other = make_org(), make_org()
    stranger = make_mediator(organization=other)
    client = signed_in(make_user(role=Role.mediator, organization=own))
    assert client.get(f"/registry/mediators/{stranger.id}").status_code == 404
    assert stranger.name not in client.get("/registry/mediators").get_data(as_text=True)


def test_register_and_edit_a_mediator(registrar, make_org):
    org = make_org(region_code="130602")
    db.session.commit()
    number = valid_id_number(region="130602", born=date(1990, 4, 2))  # 竞秀区 codes exist from 2015 on; 新市区 before
    response = registrar.post(
        "/registry/mediators/new",
        data={
            "name": "页面调解员",
            "organization_id": str(org.id),
            "id_number": number,
            "phone": "13800001234",
            "specialties": "物业",
        },
    )
    assert response.status_code == 302
    mediator = db.session.scalar(sa.select(Mediator).where(Mediator.name == "页面调解员"))
    html = registrar.get(f"/registry/mediators/{mediator.id}").get_data(as_text=True)
    assert mediator.id_number_masked in html and "138****1234" in html and number not in html
    # editing with the number fields left empty keeps the stored numbers
    response = registrar.post(
        f"/registry/mediators/{mediator.id}/edit",
        data={"name": "页面调解员改", "organization_id": str(org.id), "id_number": "", "phone": "", "specialties": ""},
    )
    assert response.status_code == 302
    db.session.refresh(mediator)
    assert mediator.name == "页面调解员改" and mediator.full_id_number() == number


def test_bad_mediator_form_shows_each_message_beside_its_field(registrar, make_org):
    org = make_org()
    db.session.commit()
    good = valid_id_number()
    bad_checksum = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = registrar.post(
        "/registry/mediators/new",
        data={"name": "错号调解员", "organization_id": str(org.id), "id_number": bad_checksum, "phone": "12345"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "校验位" in field_errors(html, "id_number")
    assert "电话" in field_errors(html, "phone")
    assert 'value="错号调解员"' in html


def test_reveal_shows_full_numbers_once_and_is_audited_without_the_number(registrar, make_mediator):
    number = "11010519800105123X"
    mediator = make_mediator(id_number=number, phone="13800001234")
    db.session.commit()
    detail = registrar.get(f"/registry/mediators/{mediator.id}").get_data(as_text=True)
    assert "110105********123X" in detail and "查看完整号码" in detail and number not in detail
    response = registrar.post(f"/registry/mediators/{mediator.id}/reveal")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert number in html and "13800001234" in html
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "reveal_id_number", AuditEntry.target_id == str(mediator.id))
    ).one()
    assert entry.user_id is not None and entry.at is not None
    assert number not in repr(entry.detail) and "13800001234" not in repr(entry.detail)
    # the next ordinary view is masked again
    assert number not in registrar.get(f"/registry/mediators/{mediator.id}").get_data(as_text=True)


def test_register_a_studio_and_its_rules_on_the_form(registrar, make_org, make_mediator):
    host, other = make_org(region_code="130602"), make_org(region_code="130602")
    lead, outsider = make_mediator(organization=host), make_mediator(organization=other)
    bureau = make_org(kind=OrgKind.justice_bureau, region_code="130600")
    db.session.commit()
    data = {
        "name": "表单工作室",
        "organization_id": str(host.id),
        "lead_mediator_id": str(outsider.id),
        "named_by_id": str(other.id),
        "named_on": "2024-05-01",
        "specialties": "邻里",
    }
    response = registrar.post("/registry/studios/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "领衔调解员须是该组织的调解员" in field_errors(html, "lead_mediator_id")
    assert "司法局" in field_errors(html, "named_by_id")
    response = registrar.post(
        "/registry/studios/new", data={**data, "lead_mediator_id": str(lead.id), "named_by_id": str(bureau.id)}
    )
    assert response.status_code == 302
    studio = db.session.scalar(sa.select(Studio).where(Studio.name == "表单工作室"))
    assert studio.named_by_id == bureau.id and studio.named_on.isoformat() == "2024-05-01"
    html = registrar.get("/registry/studios?region_code=130602").get_data(as_text=True)
    assert "表单工作室" in html and lead.name in html


def test_detail_and_edit_pages_render(registrar, make_studio):
    studio = make_studio()
    db.session.commit()
    org_id = studio.organization_id
    for url in (
        f"/registry/organizations/{org_id}",
        f"/registry/organizations/{org_id}/edit",
        f"/registry/studios/{studio.id}",
        f"/registry/studios/{studio.id}/edit",
        f"/registry/mediators/{studio.lead_mediator_id}/edit",
        "/registry/studios/new",
        f"/registry/mediators/new?organization_id={org_id}",
    ):
        response = registrar.get(url)
        assert response.status_code == 200, url
        assert 'style="' not in response.get_data(as_text=True) and "<script>" not in response.get_data(as_text=True)
