"""Factories for the transfers domain (fixtures returning builder callables).

``make_routed_case`` builds a case that is already being handled (accepted by default) with parties in
given regions, straight from the models, so routing and transfer tests do not depend on the registration
form; ``request_transfer_as`` sends a request through the service as a user of the handling organisation."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from mediation_hub.cases.models import Case, CaseStatus, Outcome, Party, PartyKind, PartyRole
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind
from tests.factories import valid_id_number, valid_phone

_seq = itertools.count(1)


@pytest.fixture
def make_routed_case(make_org):
    """``make_routed_case(org, applicant="130602", respondent="110105", occurred="130602", ...)``."""

    def build(
        organization=None,
        *,
        applicant="130602",
        respondent="110105",
        occurred=None,
        category="medical",
        status=CaseStatus.accepted,
        received_on=date(2025, 9, 1),
        summary=None,
        studio_id=None,
        third_party=None,
    ):
        organization = organization or make_org(region_code=applicant, kind=OrgKind.people_mediation_committee)
        n = next(_seq)
        accepted = status in (CaseStatus.accepted, CaseStatus.in_mediation, CaseStatus.concluded)
        case = Case(
            number=f"TR-{n:06d}",
            organization_id=organization.id,
            category_code=category,
            source_code="party_application",
            summary=summary or f"跨区域纠纷{n}",
            received_on=received_on,
            occurred_region_code=occurred or applicant,
            cross_region=True,
            status=status,
            accepted_on=received_on if accepted else None,
            due_on=received_on + timedelta(days=30) if accepted else None,
            last_step_on=received_on,
            studio_id=studio_id,
        )
        if status == CaseStatus.concluded:
            case.outcome, case.concluded_on = Outcome.agreement, received_on
        if status == CaseStatus.declined:
            case.declined_on = received_on
        sides = [(PartyRole.applicant, applicant), (PartyRole.respondent, respondent)]
        if third_party:
            sides.append((PartyRole.third_party, third_party))
        for position, (role, region) in enumerate(sides):
            party = Party(
                position=position, role=role, kind=PartyKind.person, name=f"当事人{n}-{position}", region_code=region
            )
            party.set_id_number(valid_id_number(region if region[2:] != "0000" else "110105"))
            party.set_phone(valid_phone())
            case.parties.append(party)
        db.session.add(case)
        db.session.flush()
        return case

    return build


@pytest.fixture
def request_transfer_as():
    """``request_transfer_as(user, case, to_org, agreement_code="JJJ-MEDIATION", mode="transfer", ...)``."""
    from mediation_hub.transfers.service import request_transfer

    def build(user, case, to_org, agreement_code="JJJ-MEDIATION", mode="transfer", **kwargs):
        return request_transfer(
            user.to_actor(), case.id, to_organization_id=to_org.id, agreement_code=agreement_code, mode=mode, **kwargs
        )

    return build
