"""Retention and the requests of one person, as plain functions taking the actor.

What erasing means here: a party's (or applicant's, or former mediator's) name becomes ``PLACEHOLDER``, the
encrypted, masked and hashed ID number and phone are cleared (what ``set_id_number(None)`` and
``set_phone(None)`` do), and a party gets ``erased_at``. Everything the statistics read stays: the case row
with its category, regions, dates, state and outcome, the case's events, the legal-aid application with its
dates and decision. Free-text fields (a case's summary, session notes) are kept as recorded; the forms ask
mediators not to put ID numbers or phones in them, and the personal-data guard of the test suite checks that
no page shows one.

Privacy decides whose data goes and audits it; each package erases its own rows (``cases.service.erase_party_batch``,
``legal_aid.service.erase_applicant_batch``, ``registry.service.erase_mediator_data``, ``documents.forget_files``).

- ``erase_expired_personal_data``: personal data of cases concluded or declined, and of legal-aid applications
  closed or refused, more than ``years`` years before today (Asia/Shanghai) — the retention job;
- ``locate_person`` / ``export_person`` / ``erase_person``: everything held about one person identified by
  their ID number, found through the keyed hash (the number itself is never searched for or stored).

Both erasures and every export are written to the audit log with counts only, never a name or a number.
An active mediator's data is not erased on request: they still work in the hub (their cases, sessions and
studio name them), so ``erase_person`` refuses with a 409 until a registry administrator deactivates them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ..audit import service as audit
from ..cases.models import Case, CaseStatus, Party
from ..cases.service import erase_party_batch
from ..core.actor import Actor
from ..core.db import utcnow
from ..core.messages import coded, message_of
from ..core.pii import ERASED_NAME, lookup_hash, normalise_id_number
from ..core.shanghai import SHANGHAI
from ..documents import service as documents
from ..errors import NotFound, StateConflict, ValidationFailed
from ..extensions import db
from ..legal_aid.models import ApplicationStatus, LegalAidApplication
from ..legal_aid.service import erase_applicant_batch
from ..registry.models import Mediator
from ..registry.service import erase_mediator_data
from .policy import POLICY

PLACEHOLDER = ERASED_NAME  # the name erased rows keep (core.pii)
BATCH = 500


# --- retention -----------------------------------------------------------------------------------------


def retention_cutoff(today: date, years: int) -> date:
    """The anniversary ``years`` before ``today``: a case concluded before it was concluded more than
    ``years`` years ago (one concluded on it exactly ``years`` years ago, and is kept one day more).

    On 29 February the anniversary of a year without one is 1 March, so 28 February is already past."""
    if years < 1:
        raise ValueError("the retention period is at least one year")
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return date(today.year - years, 3, 1)


def expired_case_ids(cutoff: date) -> sa.Select[tuple[int]]:
    """Cases concluded, or declined, before ``cutoff``."""
    return sa.select(Case.id).where(
        sa.or_(
            sa.and_(Case.status == CaseStatus.concluded, Case.concluded_on < cutoff),
            sa.and_(Case.status == CaseStatus.declined, Case.declined_on < cutoff),
        )
    )


def expired_application_condition(cutoff: date) -> sa.ColumnElement[bool]:
    """Legal-aid applications closed, or refused, before ``cutoff``."""
    app = LegalAidApplication
    return sa.or_(
        sa.and_(app.status == ApplicationStatus.closed, app.closed_on < cutoff),
        sa.and_(app.status == ApplicationStatus.refused, app.decided_on < cutoff),
    )


def _erase_parties(condition: sa.ColumnElement[bool], now: datetime) -> tuple[int, int]:
    """Erase, batch by batch, the parties matching ``condition`` not erased yet; ``(parties, cases)``."""
    parties, cases = 0, set()
    while rows := erase_party_batch(condition, now, limit=BATCH):
        parties += len(rows)
        batch_cases = sorted({case_id for _, case_id in rows})
        cases.update(batch_cases)
        # the papers printed with their names go too (what was handed out stays matched by its digest)
        documents.forget_files(documents.CASE, batch_cases)
    return parties, len(cases)


def _erase_applications(condition: sa.ColumnElement[bool]) -> int:
    """Erase, batch by batch, the applicants of the applications matching ``condition`` (not erased yet)."""
    erased = 0
    while ids := erase_applicant_batch(condition, limit=BATCH):
        documents.forget_files(documents.LEGAL_AID, ids)
        erased += len(ids)
    return erased


@dataclass(frozen=True)
class RetentionRun:
    cutoff: date
    parties: int
    cases: int
    legal_aid_applications: int

    @property
    def erased(self) -> int:
        return self.parties + self.legal_aid_applications


def erase_expired_personal_data(actor: Actor, now: datetime, years: int) -> RetentionRun:
    """Erase the personal data of cases concluded or declined, and of legal-aid applications closed or
    refused, more than ``years`` years before ``now`` (its date in Asia/Shanghai). Idempotent: erased rows
    are not touched again. Audited (``personal_data_erased``, counts only) when anything was erased."""
    POLICY.require(actor, "erase_expired")
    cutoff = retention_cutoff(now.astimezone(SHANGHAI).date(), years)
    parties, cases = _erase_parties(Party.case_id.in_(expired_case_ids(cutoff)), now)
    applications = _erase_applications(expired_application_condition(cutoff))
    run = RetentionRun(cutoff, parties, cases, applications)
    if run.erased:
        audit.record(
            actor,
            "personal_data_erased",
            target_type="retention",
            detail={
                "reason": "retention",
                "years": years,
                "cutoff": cutoff.isoformat(),
                "parties": parties,
                "cases": cases,
                "legal_aid_applications": applications,
            },
        )
    return run


# --- one person's request ------------------------------------------------------------------------------


@dataclass
class PersonRecords:
    """Where one person appears. ``reference`` is a short form of the keyed hash: it lets the audit log tie
    an export to the later erasure of the same person without holding anything that identifies them."""

    id_number: str
    reference: str
    parties: list[Party]
    mediators: list[Mediator]
    applications: list[LegalAidApplication]

    @property
    def empty(self) -> bool:
        return not (self.parties or self.mediators or self.applications)

    def counts(self) -> dict[str, int]:
        return {
            "parties": len(self.parties),
            "cases": len({p.case_id for p in self.parties}),
            "mediators": len(self.mediators),
            "legal_aid_applications": len(self.applications),
        }


def _normalised(id_number: str) -> str:
    try:
        return normalise_id_number((id_number or "").strip())
    except ValueError as exc:
        raise ValidationFailed({"id_number": [message_of(exc)]}) from exc


def locate_person(actor: Actor, id_number: str) -> PersonRecords:
    """Every party, mediator and legal-aid applicant whose ID number is ``id_number`` (administrators only)."""
    POLICY.require(actor, "person_request")
    number = _normalised(id_number)
    key = lookup_hash("ric", number)
    parties = db.session.scalars(
        sa.select(Party)
        .join(Case, Case.id == Party.case_id)
        .where(Party.id_number_hash == key)
        .order_by(Case.received_on, Party.id)
    ).all()
    mediators = db.session.scalars(
        sa.select(Mediator).where(Mediator.id_number_hash == key).order_by(Mediator.id)
    ).all()
    applications = db.session.scalars(
        sa.select(LegalAidApplication)
        .where(LegalAidApplication.id_number_hash == key)
        .order_by(LegalAidApplication.filed_on, LegalAidApplication.id)
    ).all()
    return PersonRecords(number, key[:16], list(parties), list(mediators), list(applications))


def _found(actor: Actor, id_number: str) -> PersonRecords:
    records = locate_person(actor, id_number)
    if records.empty:
        raise NotFound("personal data for this ID number")
    return records


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _party_entry(party: Party) -> dict[str, Any]:
    case = party.case
    return {
        "case_id": case.id,
        "case_number": case.number,
        "case_category": case.category.name,
        "case_status": case.status.value,
        "case_outcome": case.outcome.value if case.outcome else None,
        "received_on": _iso(case.received_on),
        "concluded_on": _iso(case.concluded_on),
        "declined_on": _iso(case.declined_on),
        "organization": case.organization.name,
        "role": party.role.value,
        "kind": party.kind.value,
        "name": party.name,
        "id_number": party.full_id_number(),
        "phone": party.full_phone(),
        "region_code": party.region_code,
        "gender": party.gender,
        "ethnicity": party.ethnicity,
        "occupation": party.occupation,
        "address": party.address,
        "representative": party.representative,
    }


def _mediator_entry(mediator: Mediator) -> dict[str, Any]:
    return {
        "mediator_id": mediator.id,
        "name": mediator.name,
        "organization": mediator.organization.name,
        "id_number": mediator.full_id_number(),
        "phone": mediator.full_phone(),
        "specialties": list(mediator.specialties or []),
        "active": mediator.active,
    }


def _application_entry(application: LegalAidApplication) -> dict[str, Any]:
    return {
        "application_id": application.id,
        "number": application.number,
        "status": application.status.value,
        "centre": application.centre.name,
        "name": application.applicant_name,
        "id_number": application.full_id_number(),
        "phone": application.full_phone(),
        "region_code": application.applicant_region_code,
        "gender": application.applicant_gender,
        "ethnicity": application.applicant_ethnicity,
        "occupation": application.applicant_occupation,
        "address": application.applicant_address,
        "matter_category": application.matter_category,
        "matter_region_code": application.matter_region_code,
        "summary": application.summary,
        "filed_on": _iso(application.filed_on),
        "decided_on": _iso(application.decided_on),
        "granted": application.granted,
        "closed_on": _iso(application.closed_on),
    }


def export_person(
    actor: Actor, id_number: str, *, now: datetime | None = None, remote_addr: str | None = None
) -> dict[str, Any]:
    """A copy of everything the hub holds about one person, full numbers included (PIPL art. 45). Cases are
    described by their facts about this person only (not the other parties, nor the dispute's narrative,
    which concerns them too). Audited as ``personal_data_exported``; 404 when nothing is held."""
    records = _found(actor, id_number)
    audit.record(
        actor,
        "personal_data_exported",
        target_type="person",
        target_id=records.reference,
        detail=records.counts(),
        remote_addr=remote_addr,
    )
    return {
        "id_number": records.id_number,
        "generated_at": _iso(now or utcnow()),
        "parties": [_party_entry(p) for p in records.parties],
        "mediators": [_mediator_entry(m) for m in records.mediators],
        "legal_aid_applications": [_application_entry(a) for a in records.applications],
    }


def erase_person(
    actor: Actor, id_number: str, *, now: datetime | None = None, remote_addr: str | None = None
) -> dict[str, int]:
    """Erase everything held about one person (PIPL art. 47): as a party and a legal-aid applicant, and as a
    former mediator. Refused (409) while they are an active mediator: a registry administrator deactivates
    them first. All or nothing; audited as ``personal_data_erased`` with the counts."""
    records = _found(actor, id_number)
    active = [m.id for m in records.mediators if m.active]
    if active:
        raise StateConflict(
            coded(
                "active_mediator",
                "此人仍是在用的调解员（调解员编号 %(ids)s）；请先在登记中停用后再删除",
                ids="、".join(map(str, active)),
            )
        )
    counts = records.counts()
    parties, _cases = _erase_parties(Party.id.in_([p.id for p in records.parties]), now or utcnow())
    applications = _erase_applications(LegalAidApplication.id.in_([a.id for a in records.applications]))
    mediators = erase_mediator_data(records.mediators)
    counts.update(parties=parties, legal_aid_applications=applications, mediators=mediators)
    audit.record(
        actor,
        "personal_data_erased",
        target_type="person",
        target_id=records.reference,
        detail={"reason": "request", **counts},
        remote_addr=remote_addr,
    )
    return counts
