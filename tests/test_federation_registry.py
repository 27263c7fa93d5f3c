"""Another hub's organisations in this hub's registry: kept by that hub's directory, never by people here."""

from __future__ import annotations

import pytest

from mediation_hub.auth.service import create_user
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.errors import StateConflict, ValidationFailed
from mediation_hub.registry.service import update_organization


def test_no_account_here_for_another_hubs_organisation(make_org):
    remote = make_org(region_code="110105", hub_id="beijing", remote_id=4)
    with pytest.raises(ValidationFailed) as refused:
        create_user(
            SYSTEM,
            username="bj-mediator",
            password="a-long-password-2026",
            role=Role.mediator,
            organization_id=remote.id,
        )
    assert refused.value.errors["organization"][0].code == "remote_organization_account"


def test_another_hubs_organisation_is_not_edited_here(make_org):
    remote = make_org(region_code="110105", hub_id="beijing", remote_id=5)
    with pytest.raises(StateConflict) as refused:
        update_organization(SYSTEM, remote.id, {"name": "改名"})
    assert refused.value.error_code == "remote_organization"
