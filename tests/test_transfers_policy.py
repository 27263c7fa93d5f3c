"""Who may send a case (issue 15, item 4): the case page's transfer panel and the transfers API both read
``transfers.POLICY "send"``, so the page offers the send form to exactly the users the endpoint lets send.

Every role is tried as a user of the organisation handling the case (the region-scoped roles with the case's
province as well, so each of them reads the case): the page's form and the API's answer must both follow the
policy. Before the policy the page let only a mediator send and the service any user of the organisation: a
legal-aid officer or a coordinator attached to the committee saw no form but the API answered 201."""

from __future__ import annotations

import pytest

from mediation_hub.core.actor import Role
from mediation_hub.transfers.models import Transfer
from mediation_hub.transfers.policy import POLICY

SEND_FORM = 'action="/transfers/request"'
REGION_SCOPED = (Role.registry_admin, Role.coordinator)


@pytest.fixture
def scene(make_org, make_routed_case):
    """A 保定 committee handling a medical case whose respondent lives in 朝阳区, and a 朝阳 partner on the route."""
    hebei = make_org(name="竞秀区发送规则测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区发送规则测试调解委员会", region_code="110105")
    return hebei, beijing, make_routed_case(hebei, applicant="130602", respondent="110105")


def _user_of(make_user, role: Role, organization):
    """A user of ``organization`` in ``role`` (an administrator belongs to none); region-scoped roles also get the
    province, so that they read the case."""
    return make_user(
        role=role,
        organization=None if role == Role.admin else organization,
        region_code="130000" if role in REGION_SCOPED else None,
    )


def test_the_policy_lets_a_mediator_of_the_handling_organisation_and_an_admin_send():
    """DESIGN "Who uses it": the mediator sends a cross-region case or asks for joint mediation."""
    cells = {(cell.role, cell.scope) for cell in POLICY.table() if cell.action == "send"}
    assert cells == {(Role.admin, "any"), (Role.mediator, "handling_organization")}


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_the_page_offers_the_send_form_to_exactly_whom_the_api_lets_send(role, scene, make_user, signed_in, api_as):
    hebei, beijing, case = scene
    user = _user_of(make_user, role, hebei)
    allowed = POLICY.allows(user.to_actor(), "send", case)
    assert allowed == (role in (Role.admin, Role.mediator))

    page = signed_in(user).get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert (SEND_FORM in page.get_data(as_text=True)) == allowed

    response = api_as(user).post(
        "/api/v1/transfers",
        json={"case_id": case.id, "to_organization_id": beijing.id, "agreement_code": "JJJ-MEDIATION"},
    )
    assert response.status_code == (201 if allowed else 403), response.get_data(as_text=True)
    if not allowed:
        assert response.json["error"] == "not_handling_organization"
    assert Transfer.query.filter_by(case_id=case.id).count() == (1 if allowed else 0)


@pytest.mark.parametrize("role", [Role.legal_aid_officer, Role.coordinator], ids=lambda role: role.value)
def test_the_send_page_refuses_whom_the_panel_does_not_offer_the_form(role, scene, make_user, signed_in):
    """The page's own endpoint (the panel's form posted anyway) refuses them too, before any rule of the route."""
    hebei, beijing, case = scene
    client = signed_in(_user_of(make_user, role, hebei))
    response = client.post(
        "/transfers/request",
        data={"case_id": case.id, "to_organization_id": beijing.id, "agreement_code": "JJJ-MEDIATION", "mode": "joint"},
    )
    assert response.status_code == 403
    assert Transfer.query.filter_by(case_id=case.id).count() == 0
