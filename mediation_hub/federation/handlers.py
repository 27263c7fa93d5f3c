"""What each message does when it is applied on the receiving hub (``service.receive`` calls one per message, in
its conversation's order, inside the transaction that stores it). A handler raises a domain error when the message
cannot apply here; the message is then refused and nothing of it stays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from ..agreements.models import Agreement
from ..cases import service as cases
from ..core.db import utcnow
from ..core.messages import coded
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..legal_aid import service as legal_aid
from ..legal_aid.models import LegalAidApplication
from ..registry import service as registry
from ..registry.models import Organization
from ..transfers import service as transfers
from ..transfers.models import Transfer, TransferMode, TransferStatus
from .models import FederatedLink, LinkKind
from .service import federation_actor

Handler = Callable[[str, str, dict[str, Any]], None]


# --- the directory -----------------------------------------------------------------------------------------------


def remote_organization(peer: str, ref: dict[str, Any]) -> Organization:
    """The local record of a peer's organisation (created from the reference when no snapshot brought it yet)."""
    return registry.upsert_remote_organization(peer, ref)


def apply_directory(peer: str, conversation_id: str, payload: dict[str, Any]) -> None:
    """``directory.snapshot``: the peer's organisations that take cross-region work, replacing the last snapshot:
    new ones appear in routing with their hub named, changed ones change, missing ones are made inactive."""
    for ref in payload["organizations"]:
        registry.upsert_remote_organization(peer, ref)
    registry.deactivate_remote_organizations(peer, [ref["id"] for ref in payload["organizations"]])


# --- transfers and joint mediation -------------------------------------------------------------------------------


def _local_organization(org_id: int, field: str) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None or org.is_remote:
        raise ValidationFailed({field: [coded("unknown_organization", "未知的组织")]})
    return org


def _link(peer: str, conversation_id: str) -> FederatedLink:
    link = db.session.scalar(
        sa.select(FederatedLink).where(FederatedLink.peer_hub == peer, FederatedLink.conversation_id == conversation_id)
    )
    if link is None:
        raise NotFound("conversation")
    return link


def apply_transfer_offered(peer: str, conversation_id: str, payload: dict[str, Any]) -> None:
    """``transfer.offered``: the request appears here with the minimum view of its case, pending, for the receiving
    organisation's mediators to accept or decline by ``respond_by`` (expired and escalated here otherwise)."""
    actor = federation_actor(peer)
    sender = remote_organization(peer, payload["from_organization"])
    receiver = _local_organization(payload["to_organization_id"], "to_organization_id")
    view = payload["case"]
    if db.session.get(Agreement, payload["agreement_code"]) is None:
        raise ValidationFailed({"agreement_code": [coded("unknown_agreement", "未知的协议")]})
    case = cases.find_case_copy(sender, view["number"])
    if case is None:
        case = cases.create_case_copy(sender, view)
    elif case.organization_id != sender.id:
        raise ValidationFailed({"case": [coded("case_moved", "该案件已由其他组织承办")]})
    transfer = transfers.receive_remote_request(
        actor,
        case,
        to_organization=receiver,
        agreement_code=payload["agreement_code"],
        mode=TransferMode(payload["mode"]),
        requested_on=payload["requested_on"],
        respond_by=payload["respond_by"],
        note=payload.get("note"),
    )
    db.session.add(
        FederatedLink(
            kind=LinkKind.transfer,
            peer_hub=peer,
            conversation_id=conversation_id,
            outgoing=False,
            transfer_id=transfer.id,
            case_id=case.id,
            remote_id=payload["transfer_id"],
        )
    )


def apply_transfer_answered(peer: str, conversation_id: str, payload: dict[str, Any]) -> None:
    """``transfer.answered``. On the sending hub: the receiver's answer, mirrored (accepted moves the case and sends
    the file). On the receiving hub: ``withdrawn`` is the sender asking to withdraw; applied if still pending (the
    answer goes back either way: the withdrawal, or the answer that won first)."""
    link = _link(peer, conversation_id)
    transfer = db.session.get_one(Transfer, link.transfer_id)
    outcome = TransferStatus(payload["outcome"])
    actor = federation_actor(peer)
    if link.outgoing:
        transfers.mirror_answer(
            actor,
            transfer,
            outcome,
            payload["answered_on"],
            reason_code=payload.get("reason_code"),
            reason_text=payload.get("reason_text"),
        )
        return
    if outcome == TransferStatus.withdrawn and transfer.status == TransferStatus.pending:
        transfers.mirror_answer(actor, transfer, outcome, payload["answered_on"])


def apply_case_handover(peer: str, conversation_id: str, payload: dict[str, Any]) -> None:
    """``case.handover``: the file of a case whose request was accepted here replaces its minimum view."""
    link = _link(peer, conversation_id)
    transfer = db.session.get_one(Transfer, link.transfer_id)
    if link.outgoing or transfer.status != TransferStatus.accepted:
        raise ValidationFailed({"transfer_id": [coded("not_accepted_here", "该请求未在本平台接收")]})
    case = transfer.case
    cases.receive_case_file(
        case, summary=payload["summary"], amount_yuan=payload.get("amount_yuan"), parties=payload["parties"]
    )
    link.handed_over_at = utcnow()
    link.outcome = {**(link.outcome or {}), "history": _json_history(payload.get("history") or [])}


def _json_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**entry, "on_date": entry["on_date"].isoformat()} for entry in history]


def apply_case_outcome(peer: str, conversation_id: str, payload: dict[str, Any]) -> None:
    """``case.outcome``: the result of the case on the other hub, kept with the link and shown beside the request."""
    link = _link(peer, conversation_id)
    concluded = payload.get("concluded_on")
    link.outcome = {
        **(link.outcome or {}),
        "status": payload["status"],
        "outcome": payload.get("outcome"),
        "concluded_on": concluded.isoformat() if concluded else None,
        "organization": payload.get("organization"),
    }


# --- legal aid 通办 ----------------------------------------------------------------------------------------------


def apply_legal_aid_forwarded(peer: str, conversation_id: str, payload: dict[str, Any]) -> None:
    """``legal_aid.forwarded``: the application arrives at this hub's competent centre, received that day."""
    actor = federation_actor(peer)
    from_centre = remote_organization(peer, payload["from_centre"])
    filed_centre = (
        from_centre
        if payload["filed_centre"]["id"] == payload["from_centre"]["id"]
        else remote_organization(peer, payload["filed_centre"])
    )
    centre = db.session.get(Organization, payload["to_centre_id"])
    if centre is None:
        raise ValidationFailed({"to_centre_id": [coded("unknown_organization", "未知的组织")]})
    application = legal_aid.receive_forwarded_application(
        actor,
        payload,
        number=f"{payload['number']}@{peer}"[:40],
        centre=centre,
        from_centre=from_centre,
        filed_centre=filed_centre,
        agreement_code=payload["agreement_code"],
        forwarded_on=payload["forwarded_on"],
    )
    db.session.add(
        FederatedLink(
            kind=LinkKind.legal_aid,
            peer_hub=peer,
            conversation_id=conversation_id,
            outgoing=False,
            application_id=application.id,
            remote_id=payload["application_id"],
        )
    )


def apply_legal_aid_decided(peer: str, conversation_id: str, payload: dict[str, Any]) -> None:
    """``legal_aid.decided``: the competent centre's decision, kept with the link on the hub it came from."""
    link = _link(peer, conversation_id)
    db.session.get_one(LegalAidApplication, link.application_id)
    link.outcome = {
        "status": payload["status"],
        "decided_on": payload["decided_on"].isoformat(),
        "granted": payload["granted"],
        "refusal_reason": payload.get("refusal_reason"),
        "centre": payload.get("centre"),
    }


HANDLERS: dict[str, Handler] = {
    "directory.snapshot": apply_directory,
    "transfer.offered": apply_transfer_offered,
    "transfer.answered": apply_transfer_answered,
    "case.handover": apply_case_handover,
    "case.outcome": apply_case_outcome,
    "legal_aid.forwarded": apply_legal_aid_forwarded,
    "legal_aid.decided": apply_legal_aid_decided,
}
