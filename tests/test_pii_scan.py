"""No unmasked ID number (``\\d{17}[\\dXx]``) or full phone in any registry API response or page, except the
audited reveal; and the audit log records the reveal without ever holding the number."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from mediation_hub.audit.models import AuditEntry
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind
from tests.factories import valid_id_number

FULL_ID = re.compile(r"\d{17}[\dXx]")
ID_NUMBERS = ["11010519800105123X", valid_id_number(sequence=481), valid_id_number(region="120101", sequence=77)]
PHONES = ["13800001234", "13912345678", "15011112222"]


@pytest.fixture
def registry_data(make_org, make_mediator, make_studio):
    org = make_org(region_code="110105", uscc="91110105MA01ABCD39", specialties=["邻里"])
    bureau = make_org(kind=OrgKind.justice_bureau, region_code="110105")
    mediators = [make_mediator(organization=org, id_number=n, phone=p) for n, p in zip(ID_NUMBERS, PHONES, strict=True)]
    studio = make_studio(lead=mediators[0])
    studio.named_by_id = bureau.id
    db.session.commit()
    return org, mediators, studio


def assert_no_full_numbers(body: str, where: str) -> None:
    found = FULL_ID.findall(body)
    assert not found, f"unmasked ID number in {where}: {found}"
    for phone in PHONES:
        assert phone not in body, f"full phone in {where}"


def test_no_full_numbers_in_any_registry_api_response(api_as, registry_data):
    org, mediators, studio = registry_data
    api = api_as(role=Role.admin)
    urls = [
        "/api/v1/organizations?per_page=100",
        f"/api/v1/organizations/{org.id}",
        "/api/v1/mediators?per_page=100",
        f"/api/v1/mediators?organization_id={org.id}",
        "/api/v1/studios?per_page=100",
        f"/api/v1/studios/{studio.id}",
    ] + [f"/api/v1/mediators/{m.id}" for m in mediators]
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, url
        assert_no_full_numbers(response.get_data(as_text=True), url)
    new_number, new_phone = valid_id_number(sequence=912), "13677778888"
    created = api.post(
        "/api/v1/mediators",
        json={"name": "扫描调解员", "organization_id": org.id, "id_number": new_number, "phone": new_phone},
    )
    assert created.status_code == 201
    patched = api.patch(f"/api/v1/mediators/{created.json['id']}", json={"phone": "13677779999"})
    for response in (created, patched):
        body = response.get_data(as_text=True)
        assert_no_full_numbers(body, "mediator write")
        assert new_phone not in body and "13677779999" not in body
    # a rejected number is not echoed back either
    rejected = api.post(
        "/api/v1/mediators", json={"name": "错号", "organization_id": org.id, "id_number": ID_NUMBERS[1][:-1] + "0"}
    )
    assert rejected.status_code == 422
    assert_no_full_numbers(rejected.get_data(as_text=True), "422 answer")


def test_no_full_numbers_on_any_registry_page(signed_in, make_user, registry_data):
    org, mediators, studio = registry_data
    client = signed_in(make_user(role=Role.registry_admin))
    urls = [
        "/registry/organizations",
        f"/registry/organizations/{org.id}",
        f"/registry/organizations/{org.id}/edit",
        "/registry/mediators",
        "/registry/mediators/new",
        "/registry/studios",
        f"/registry/studios/{studio.id}",
        f"/registry/studios/{studio.id}/edit",
        "/registry/studios/new",
    ]
    urls += [f"/registry/mediators/{m.id}" for m in mediators] + [f"/registry/mediators/{m.id}/edit" for m in mediators]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_full_numbers(response.get_data(as_text=True), url)
    # a failed form gives the person back what they typed (nothing stored), and no stored number
    typed = ID_NUMBERS[1][:-1] + ("0" if ID_NUMBERS[1][-1] != "0" else "1")
    response = client.post(
        "/registry/mediators/new",
        data={"name": "x", "organization_id": str(org.id), "id_number": typed, "phone": "123"},
    )
    assert response.status_code == 422
    assert FULL_ID.findall(response.get_data(as_text=True)) == [typed]


def test_the_reveal_is_the_one_place_with_full_numbers_and_it_is_audited(api_as, signed_in, make_user, registry_data):
    _org, mediators, _studio = registry_data
    mediator = mediators[0]
    api = api_as(role=Role.registry_admin)
    revealed = api.post(f"/api/v1/mediators/{mediator.id}/reveal")
    assert revealed.status_code == 200
    assert revealed.json == {"id_number": ID_NUMBERS[0], "phone": PHONES[0]}
    assert FULL_ID.search(revealed.get_data(as_text=True))  # the scan's pattern does catch a full number
    admin = make_user(role=Role.admin)
    page = signed_in(admin).post(f"/registry/mediators/{mediator.id}/reveal")
    assert FULL_ID.search(page.get_data(as_text=True))
    entries = list(
        db.session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.action == "reveal_id_number", AuditEntry.target_id == str(mediator.id)
            )
        )
    )
    assert len(entries) == 2
    assert {e.user_id for e in entries} == {api.user.id, admin.id} and all(e.at.tzinfo for e in entries)
    for entry in db.session.scalars(sa.select(AuditEntry)):
        text = " ".join(str(v) for v in (entry.detail, entry.target_id, entry.username, entry.remote_addr))
        assert not FULL_ID.search(text) and all(p not in text for p in PHONES)


def test_mediators_may_not_reveal(api_as, registry_data):
    org, mediators, _studio = registry_data
    api = api_as(role=Role.mediator, organization=org)
    response = api.post(f"/api/v1/mediators/{mediators[0].id}/reveal")
    assert response.status_code == 403
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "reveal_id_number")
        )
        == 0
    )
