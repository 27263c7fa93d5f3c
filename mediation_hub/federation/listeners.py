"""What federation does when a step happens that another hub must hear of: it writes the message to the outbox in
the same transaction (sent after the commit, ``federation.delivery``).

- a request to an organisation of another hub (``transfer.requested``) → ``transfer.offered`` (the minimum view);
- the sender asking to withdraw it (``transfer.withdrawal_asked``) → ``transfer.answered`` withdrawn (a request);
- an answer, expiry or withdrawal here of a request that came from another hub → ``transfer.answered``;
- that answer mirrored on the sending hub, accepted → ``case.handover`` (the file, re-encrypted there);
- a case concluded that crossed hubs (either way) → ``case.outcome`` to the other hub;
- an application handed to a centre of another hub (``legal_aid.transferred``) → ``legal_aid.forwarded``;
- a decision here on an application that came from another hub (``legal_aid.decided``) → ``legal_aid.decided``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..cases.events import EVENT_CODES, CaseConcluded, CaseStepRecorded
from ..cases.models import Case, CaseEvent
from ..core.events import Listeners
from ..extensions import db
from ..legal_aid.events import ApplicationStep, LegalAidDecided, LegalAidTransferred
from ..legal_aid.models import LegalAidApplication
from ..registry.models import Organization
from ..transfers.events import (
    TransferAnswered,
    TransferExpired,
    TransferRequested,
    TransferStep,
    TransferWithdrawalAsked,
    TransferWithdrawn,
)
from ..transfers.models import Transfer, TransferStatus
from .models import FederatedLink, LinkKind
from .service import hub_id, queue_message

listeners = Listeners("federation")


def conversation_of(kind: str, record_id: int) -> str:
    """The conversation a record's messages belong to, named by the hub that started it."""
    return f"{kind}/{hub_id()}/{record_id}"


def _ref(org: Organization) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "kind": org.kind.value, "region_code": org.region_code}


def _start(kind: LinkKind, peer: str, record_id: int, type_: str, payload: dict[str, Any], **ids: int) -> None:
    """Open a conversation with ``peer`` about a local record (the transfer or the application ``record_id``; ``ids``
    the link's columns: ``transfer_id=…, case_id=…`` or ``application_id=…``): the link that names it, and its first
    message. The peer's id of the record is never needed here (the conversation names it), so the link keeps 0."""
    conversation = conversation_of(kind.value, record_id)
    db.session.add(
        FederatedLink(kind=kind, peer_hub=peer, conversation_id=conversation, outgoing=True, remote_id=0, **ids)
    )
    queue_message(peer, type_, conversation, payload)


def _link_for_transfer(transfer_id: int) -> FederatedLink | None:
    return db.session.scalar(sa.select(FederatedLink).where(FederatedLink.transfer_id == transfer_id))


@listeners.on(TransferRequested)
def offer_to_remote(event: TransferStep) -> None:
    """A request to a remote organisation: offer it to its hub with the minimum view of the case."""
    receiver = db.session.get_one(Organization, event.to_organization_id)
    if not receiver.is_remote:
        return
    assert receiver.hub_id is not None and receiver.remote_id is not None
    transfer = db.session.get_one(Transfer, event.transfer_id)
    case = transfer.case
    payload = {
        "transfer_id": transfer.id,
        "mode": transfer.mode.value,
        "agreement_code": transfer.agreement_code,
        "requested_on": transfer.requested_on,
        "respond_by": transfer.respond_by,
        "note": transfer.note,
        "from_organization": _ref(transfer.from_organization),
        "to_organization_id": receiver.remote_id,
        "case": {
            "id": case.id,
            "number": case.number,
            "category_code": case.category_code,
            "source_code": case.source_code,
            "summary": case.summary,
            "received_on": case.received_on,
            "accepted_on": case.accepted_on,
            "due_on": case.due_on,
            "status": case.status.value,
            "major": case.major,
            "occurred_region_code": case.occurred_region_code,
            "parties": [
                {
                    "role": p.role.value,
                    "kind": p.kind.value,
                    "name": p.name,
                    "id_number_masked": p.id_number_masked,
                    "phone_masked": p.phone_masked,
                    "region_code": p.region_code,
                }
                for p in case.parties
            ],
        },
    }
    ids = {"transfer_id": transfer.id, "case_id": case.id}
    _start(LinkKind.transfer, receiver.hub_id, transfer.id, "transfer.offered", payload, **ids)


@listeners.on(TransferWithdrawalAsked)
def ask_withdrawal(event: TransferStep) -> None:
    link = _link_for_transfer(event.transfer_id)
    if link is None or not link.outgoing:
        return
    payload = {"transfer_id": event.transfer_id, "outcome": "withdrawn", "answered_on": event.on_date}
    queue_message(link.peer_hub, "transfer.answered", link.conversation_id, payload)


@listeners.on(TransferAnswered, TransferExpired, TransferWithdrawn)
def answer_or_hand_over(event: TransferStep) -> None:
    """The receiving hub tells the sender the answer that won here; the sender, once it mirrored an acceptance,
    sends the case's file."""
    link = _link_for_transfer(event.transfer_id)
    if link is None:
        return
    transfer = db.session.get_one(Transfer, event.transfer_id)
    if not link.outgoing:
        payload = {
            "transfer_id": link.remote_id,
            "outcome": transfer.status.value,
            "answered_on": transfer.answered_on,
            "reason_code": transfer.reason_code.value if transfer.reason_code else None,
            "reason_text": transfer.reason_text,
            "answered_by": transfer.to_organization.name,
        }
        queue_message(link.peer_hub, "transfer.answered", link.conversation_id, payload)
    elif transfer.status == TransferStatus.accepted:
        queue_message(link.peer_hub, "case.handover", link.conversation_id, _file(transfer))


def _file(transfer: Transfer) -> dict[str, Any]:
    """The case's file for the hub that accepted it: the parties in full (only ever after acceptance)."""
    case = transfer.case
    history = db.session.execute(
        sa.select(CaseEvent.code, CaseEvent.on_date, Organization.name)
        .join(Organization, Organization.id == CaseEvent.organization_id)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.id)
    ).all()
    return {
        "transfer_id": transfer.id,
        "summary": case.summary,
        "amount_yuan": case.amount_yuan,
        "parties": [
            {
                "role": p.role.value,
                "kind": p.kind.value,
                "name": p.name,
                "id_number_masked": p.id_number_masked,
                "phone_masked": p.phone_masked,
                "region_code": p.region_code,
                "id_number": p.full_id_number(),
                "id_kind": "ric" if p.kind.value == "person" else "uscc",
                "phone": p.full_phone(),
                "gender": p.gender,
                "ethnicity": p.ethnicity,
                "occupation": p.occupation,
                "address": p.address,
                "representative": p.representative,
            }
            for p in case.parties
        ],
        "history": [
            {"code": code, "on_date": on_date, "organization": name}
            for code, on_date, name in history
            if code in EVENT_CODES
        ],
    }


@listeners.on(CaseConcluded)
def feed_back_outcome(event: CaseStepRecorded) -> None:
    """A concluded case that crossed hubs: its result goes to the other hub of each accepted request."""
    links = db.session.scalars(
        sa.select(FederatedLink)
        .join(Transfer, Transfer.id == FederatedLink.transfer_id)
        .where(FederatedLink.case_id == event.case_id, Transfer.status == TransferStatus.accepted)
    ).all()
    if not links:
        return
    case = db.session.get_one(Case, event.case_id)
    for link in links:
        payload = {
            "transfer_id": link.remote_id if not link.outgoing else link.transfer_id,
            "status": case.status.value,
            "outcome": case.outcome.value if case.outcome else None,
            "concluded_on": case.concluded_on,
            "organization": case.organization.name,
        }
        queue_message(link.peer_hub, "case.outcome", link.conversation_id, payload)


@listeners.on(LegalAidTransferred)
def forward_application(event: ApplicationStep) -> None:
    """An application handed to a centre of another hub: it travels there (the centre decides on it)."""
    centre = db.session.get_one(Organization, event.centre_id)
    if not centre.is_remote:
        return
    assert centre.hub_id is not None and centre.remote_id is not None
    application = db.session.get_one(LegalAidApplication, event.application_id)
    from_centre = db.session.get_one(Organization, int(event.data.get("from_centre_id") or application.filed_centre_id))
    payload = {
        "application_id": application.id,
        "number": application.number,
        "agreement_code": event.data.get("agreement_code"),
        "forwarded_on": event.on_date,
        "from_centre": _ref(from_centre),
        "filed_centre": _ref(application.filed_centre),
        "to_centre_id": centre.remote_id,
        "applicant_name": application.applicant_name,
        "applicant_id_number": application.full_id_number(),
        "applicant_phone": application.full_phone(),
        "applicant_region_code": application.applicant_region_code,
        "applicant_gender": application.applicant_gender,
        "applicant_ethnicity": application.applicant_ethnicity,
        "applicant_address": application.applicant_address,
        "applicant_occupation": application.applicant_occupation,
        "matter_category": application.matter_category,
        "matter_region_code": application.matter_region_code,
        "hardship": application.hardship.value,
        "exempt_group": application.exempt_group,
        "summary": application.summary,
        "filed_on": application.filed_on,
    }
    ids = {"application_id": application.id}
    _start(LinkKind.legal_aid, centre.hub_id, application.id, "legal_aid.forwarded", payload, **ids)


@listeners.on(LegalAidDecided)
def feed_back_decision(event: ApplicationStep) -> None:
    """A decision on an application that came from another hub goes back there."""
    link = db.session.scalar(sa.select(FederatedLink).where(FederatedLink.application_id == event.application_id))
    if link is None or link.outgoing:
        return
    application = db.session.get_one(LegalAidApplication, event.application_id)
    payload = {
        "application_id": link.remote_id,
        "status": application.status.value,
        "decided_on": application.decided_on or event.on_date,
        "granted": bool(application.granted),
        "refusal_reason": application.refusal_reason,
        "centre": application.centre.name,
    }
    queue_message(link.peer_hub, "legal_aid.decided", link.conversation_id, payload)
