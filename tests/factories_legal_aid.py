"""Factories for the legal_aid domain (fixtures returning builder callables)."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.legal_aid import service
from mediation_hub.legal_aid.models import ApplicationStatus
from mediation_hub.registry.models import OrgKind
from tests.factories import valid_id_number, valid_phone

_seq = itertools.count(1)

# The dates a made application moves on: received by a centre on 2025-09-10 (Wed), decide_by 2025-09-17.
FILED_ON = date(2025, 9, 10)
# The states reachable through the service, and the path to each from filing at a non-competent centre.
PATHS = {
    ApplicationStatus.filed: [],
    ApplicationStatus.transferred: ["transfer"],
    ApplicationStatus.accepted: ["transfer", "accept"],
    ApplicationStatus.granted: ["transfer", "accept", "grant"],
    ApplicationStatus.refused: ["transfer", "accept", "refuse"],
    ApplicationStatus.assigned: ["transfer", "accept", "grant", "assign"],
    ApplicationStatus.closed: ["transfer", "accept", "grant", "assign", "close"],
}


@pytest.fixture
def make_centre(make_org):
    """A legal-aid centre in a region (default 保定市竞秀区 130602)."""

    def build(region_code="130602", name=None, **kwargs):
        return make_org(
            name=name or f"测试法律援助中心{next(_seq)}",
            kind=OrgKind.legal_aid_centre,
            region_code=region_code,
            **kwargs,
        )

    return build


@pytest.fixture
def make_officer(make_user):
    """A legal-aid officer of a centre."""

    def build(centre, **kwargs):
        return make_user(role=Role.legal_aid_officer, organization=centre, **kwargs)

    return build


def application_data(
    centre_id=None,
    *,
    matter_region_code="130602",
    hardship="declaration",
    exempt_group=None,
    received_on=FILED_ON,
    **overrides,
) -> dict:
    """A valid filing payload (API shape) for an applicant from 保定."""
    data = {
        "centre_id": centre_id,
        "applicant": {
            "name": "李秀英",
            "id_number": valid_id_number("130602", date(1990, 4, 2)),
            "phone": valid_phone(),
            "region_code": "130602",
        },
        "matter_category": "labour_remuneration",
        "matter_region_code": matter_region_code,
        "hardship": hardship,
        "exempt_group": exempt_group,
        "summary": "在天津务工被拖欠工资，用人单位在保定竞秀区，拟申请仲裁",
        "received_on": received_on,
    }
    data.update(overrides)
    return data


@pytest.fixture
def tongban_pair(make_centre):
    """A Tianjin centre (和平区 120101) that receives applications and the competent 保定 centre (130602)."""

    def build():
        return make_centre("120101", name=f"天津市和平区法律援助中心{next(_seq)}"), make_centre(
            "130602", name=f"保定市竞秀区法律援助中心{next(_seq)}"
        )

    return build


@pytest.fixture
def make_application(tongban_pair):
    """``make_application(status)``: an application filed at a Tianjin centre for a 保定 matter and moved
    through the service (as the system) to ``status``. Returns (application, tianjin_centre, baoding_centre)."""

    def build(status=ApplicationStatus.filed, **data_overrides):
        tianjin, baoding = tongban_pair()
        application = service.file_application(SYSTEM, application_data(tianjin.id, **data_overrides))
        steps = {
            "transfer": lambda a: service.transfer_application(
                SYSTEM, a.id, to_centre_id=baoding.id, transferred_on=date(2025, 9, 11)
            ),
            "accept": lambda a: service.accept_application(SYSTEM, a.id, accepted_on=date(2025, 9, 12)),
            "grant": lambda a: service.decide_application(SYSTEM, a.id, granted=True, decided_on=date(2025, 9, 15)),
            "refuse": lambda a: service.decide_application(
                SYSTEM, a.id, granted=False, reason="不符合经济困难标准", decided_on=date(2025, 9, 15)
            ),
            "assign": lambda a: service.assign_lawyer(
                SYSTEM, a.id, lawyer_name="张律师", assigned_on=date(2025, 9, 16)
            ),
            "close": lambda a: service.close_application(SYSTEM, a.id, closed_on=date(2025, 12, 1)),
        }
        for step in PATHS[ApplicationStatus(status)]:
            application = steps[step](application)
        assert application.status == ApplicationStatus(status)
        return application, tianjin, baoding

    return build
