"""Factories for the cases domain (fixtures returning builder callables).

``make_case(org, status=...)`` registers a case through the real service and drives it with the real
transitions until it reaches the wanted state, so every case a test sees went through the same rules as a
user's. ``person`` / ``organization_party`` build party dicts in the API shape; ``case_data`` a whole
registration payload."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from stdnum.cn import uscc

from mediation_hub.cases.models import CaseStatus, ConfirmationStatus, Outcome
from mediation_hub.core.actor import SYSTEM
from tests.factories import valid_id_number, valid_phone

_seq = itertools.count(1)

# A Monday in a year the seeded calendar covers; every step of a made case is dated from here.
RECEIVED_ON = date(2026, 3, 2)


def valid_uscc(body: str | None = None) -> str:
    """A unified social credit code with a correct check digit."""
    body = body or f"9111010{next(_seq) % 10_000_000_000:010d}"
    return body + uscc.calc_check_digit(body)


def person(
    role: str = "applicant",
    name: str | None = None,
    region_code: str = "110105",
    *,
    id_number: str | None = None,
    phone: str | None = None,
    with_number: bool = True,
) -> dict:
    """A natural-person party in the API shape (an ID number with a correct check digit by default)."""
    party = {
        "role": role,
        "kind": "person",
        "name": name or f"当事人{next(_seq)}",
        "region_code": region_code,
        "phone": phone or valid_phone(),
    }
    if with_number:
        # The ID number's prefix is where the person was first registered, not where they live now, and
        # python-stdnum only accepts a prefix that existed at the birth date: 110105 (朝阳区) always did.
        party["id_number"] = id_number or valid_id_number()
    return party


def organization_party(
    role: str = "respondent", name: str | None = None, region_code: str = "110105", *, code: str | None = None
) -> dict:
    """An organisation party (company, association) identified by its USCC."""
    return {
        "role": role,
        "kind": "organization",
        "name": name or f"测试有限公司{next(_seq)}",
        "region_code": region_code,
        "uscc": code or valid_uscc(),
    }


def case_data(organization_id: int, *, parties: list[dict] | None = None, **fields) -> dict:
    """A registration payload in the API shape (service input: dates as ``date``)."""
    data = {
        "organization_id": organization_id,
        "category": "neighbour",
        "source": "party_application",
        "summary": "邻里之间因漏水发生纠纷",
        "received_on": RECEIVED_ON,
        "occurred_region_code": "110105",
        "amount_yuan": None,
        "major": False,
        "parties": parties if parties is not None else [person("applicant"), person("respondent")],
    }
    data.update(fields)
    return data


@pytest.fixture
def make_case(make_org):
    """``make_case(org=None, status=CaseStatus.registered, outcome=Outcome.agreement, confirmation=None, ...)``.

    Registers through ``service.register_case`` and moves the case on with the real transitions: accepted
    on ``received_on``, a session the next day, concluded the day after (dates overridable)."""
    from mediation_hub.cases import service
    from mediation_hub.extensions import db

    def build(
        org=None,
        status=CaseStatus.registered,
        *,
        outcome=Outcome.agreement,
        confirmation=None,
        actor=None,
        parties=None,
        received_on=RECEIVED_ON,
        accepted_on=None,
        held_on=None,
        concluded_on=None,
        with_session=True,
        agreement_form=None,
        **fields,
    ):
        org = org or make_org()
        actor = actor or SYSTEM
        status, outcome = CaseStatus(status), Outcome(outcome)
        case, _ = service.register_case(actor, case_data(org.id, parties=parties, received_on=received_on, **fields))
        accepted_on = accepted_on or received_on
        held_on = held_on or accepted_on + timedelta(days=1)
        concluded_on = concluded_on or (held_on if with_session else accepted_on) + timedelta(days=1)
        if status == CaseStatus.declined:
            service.decline_case(actor, case.id, reason="不属于人民调解受理范围", declined_on=received_on)
        if status in (CaseStatus.accepted, CaseStatus.in_mediation, CaseStatus.concluded):
            service.accept_case(actor, case.id, accepted_on=accepted_on)
        if status == CaseStatus.in_mediation or (status == CaseStatus.concluded and with_session):
            service.record_session(actor, case.id, held_on=held_on, summary="双方到场，陈述事实")
        if status == CaseStatus.concluded:
            amount = "1200.00" if outcome == Outcome.agreement else None
            service.conclude_case(
                actor,
                case.id,
                outcome=outcome,
                concluded_on=concluded_on,
                agreement_amount_yuan=amount,
                agreement_form=agreement_form,
                terms="被申请人赔偿维修费" if outcome == Outcome.agreement else None,
            )
        if confirmation is not None:
            confirmation = ConfirmationStatus(confirmation)
            service.apply_for_confirmation(actor, case.id, applied_on=concluded_on, court="朝阳区人民法院")
            if confirmation in (ConfirmationStatus.confirmed, ConfirmationStatus.rejected):
                confirmed = confirmation == ConfirmationStatus.confirmed
                service.record_confirmation_result(actor, case.id, confirmed=confirmed, decided_on=concluded_on)
        db.session.flush()
        return case

    return build
