"""Cases that reach this hub from another one (federation): the copy a request brings, and the file after it.

A transfer (or joint request) from another hub arrives with the minimum view of its case. The receiving hub keeps
that as a copy handled by the sender's organisation as it knows it (a remote organisation): numbers masked only,
no event of its own (it was registered on the other hub, which counts it), so the copy counts in this hub's rates
only from the moment a transfer accepted here moves it to a local organisation. Once accepted, the file
(``case.handover``) replaces the parties: their numbers are encrypted here with this hub's keys."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ...registry.models import Organization
from ..models import Case, CaseStatus, Party, PartyKind, PartyRole
from .registration import party_columns


def find_case_copy(organization: Organization, number: str) -> Case | None:
    """The copy of a case of another hub already kept here (a second request for the same case)."""
    return db.session.scalar(
        sa.select(Case).where(Case.number == number, Case.source_system == f"hub:{organization.hub_id}")
    )


def create_case_copy(organization: Organization, view: dict[str, Any]) -> Case:
    """A copy of another hub's case from its minimum view, handled by ``organization`` (remote); flushed."""
    received_on: date = view["received_on"]
    case = Case(
        number=view["number"],
        organization_id=organization.id,
        category_code=view["category_code"],
        source_code=view["source_code"],
        summary=view["summary"],
        received_on=received_on,
        occurred_region_code=view["occurred_region_code"],
        major=bool(view.get("major")),
        cross_region=True,
        status=CaseStatus(view["status"]),
        accepted_on=view.get("accepted_on") or received_on,
        due_on=view.get("due_on"),
        last_step_on=view.get("accepted_on") or received_on,
        source_system=f"hub:{organization.hub_id}",
        source_number=view["number"],
    )
    case.parties = [
        Party(
            position=i,
            role=PartyRole(p["role"]),
            kind=PartyKind(p["kind"]),
            name=p["name"],
            region_code=p.get("region_code"),
            id_number_masked=p.get("id_number_masked"),
            phone_masked=p.get("phone_masked"),
        )
        for i, p in enumerate(view["parties"])
    ]
    db.session.add(case)
    db.session.flush()
    return case


def receive_case_file(case: Case, *, summary: str, amount_yuan: Decimal | None, parties: list[dict[str, Any]]) -> None:
    """Replace the minimum view of a copy with the file the other hub sent after acceptance: the parties in full
    (encrypted, masked and hashed here as a registration stores them), the summary and the amount."""
    case.summary = summary
    case.amount_yuan = amount_yuan
    for party in list(case.parties):
        case.parties.remove(party)
    db.session.flush()
    for i, data in enumerate(parties):
        columns = dict(data)
        if PartyKind(columns["kind"]) != PartyKind.person:
            columns["uscc"] = columns.pop("id_number", None)
        case.parties.append(Party(**party_columns(i, columns)))
    db.session.flush()
