"""Who is told of a lifecycle step: the notices written when a transfer, a legal-aid application or a case moves.

Each listener runs in the transaction of the step (``core.events``), so a step and its notice commit together,
as ``notifications.service.notify`` promises. The notices of periodic checks (overdue clocks, reminders) and
of the calendar's deadline recounts are written by those jobs themselves."""

from __future__ import annotations

from ..cases.events import CaseConcluded
from ..cases.models import Case
from ..core.events import Listeners
from ..extensions import db
from ..legal_aid.events import LegalAidTransferred
from ..legal_aid.models import LegalAidApplication
from ..transfers.events import (
    TransferAnswered,
    TransferEscalated,
    TransferExpired,
    TransferRequested,
    TransferStep,
    TransferWithdrawn,
)
from ..transfers.feedback import notify_senders_of_conclusion
from ..transfers.models import Transfer
from .service import notify

listeners = Listeners("notifications")


def _transfer(event: TransferStep) -> Transfer:
    """The request the event is about (emitted after its step was flushed in this transaction: it is there)."""
    return db.session.get_one(Transfer, event.transfer_id)


@listeners.on(TransferRequested)
def tell_the_receiver_of_a_request(event: TransferRequested) -> None:
    """The receiving organisation is asked to answer by the answer-by date."""
    transfer = _transfer(event)
    case = transfer.case
    notify(
        kind=event.code("requested"),
        organization_id=event.to_organization_id,
        link=event.link,
        message=f"{case.organization.name} 请求{transfer.mode_label}案件 {case.number}（{case.category.name}），"
        f"请于 {event.respond_by.isoformat()} 前答复",
    )


@listeners.on(TransferAnswered)
def tell_the_sender_of_the_answer(event: TransferAnswered) -> None:
    """The sending organisation hears that its request was accepted, or declined and why."""
    transfer = _transfer(event)
    receiver, number = transfer.to_organization.name, transfer.case.number
    if event.accepted:
        message = f"{receiver} 已接收{transfer.mode_label}案件 {number}"
    else:
        message = f"{receiver} 退回了{transfer.mode_label}案件 {number}：{transfer.reason_label}"
    notify(
        kind=event.code("accepted" if event.accepted else "declined"),
        organization_id=event.from_organization_id,
        link=event.link,
        message=message,
    )


@listeners.on(TransferWithdrawn)
def tell_the_receiver_of_a_withdrawal(event: TransferWithdrawn) -> None:
    """The receiving organisation no longer has to answer."""
    transfer = _transfer(event)
    notify(
        kind=event.code("withdrawn"),
        organization_id=event.to_organization_id,
        link=event.link,
        message=f"{transfer.from_organization.name} 撤回了{transfer.mode_label}案件 {transfer.case.number}",
    )


@listeners.on(TransferExpired)
def tell_both_sides_of_an_expiry(event: TransferExpired) -> None:
    """Tell the sending and the receiving organisation, once each, that the request expired unanswered: the
    sender keeps the case and may send it elsewhere; the receiver can no longer answer."""
    transfer = _transfer(event)
    number, day, label = transfer.case.number, event.respond_by.isoformat(), transfer.mode_label
    notify(
        kind=event.code("expired"),
        organization_id=event.from_organization_id,
        link=event.link,
        dedupe_key=f"transfer-expired:{event.transfer_id}",
        message=f"您发往{transfer.to_organization.name}的{label}请求 #{event.transfer_id}（案件 "
        f"{number}）未在 {day} 前得到答复，已超期失效；案件仍由本组织承办，可另选组织发送。",
    )
    notify(
        kind=event.code("expired"),
        organization_id=event.to_organization_id,
        link=event.link,
        dedupe_key=f"transfer-expired:{event.transfer_id}:receiver",
        message=f"{transfer.from_organization.name}发来的{label}请求 #{event.transfer_id}（案件 "
        f"{number}）未在 {day} 前答复，已超期失效，不能再接收或退回；已报双方协调人员。",
    )


@listeners.on(TransferEscalated)
def tell_the_coordinators_of_an_expiry(event: TransferEscalated) -> None:
    """The coordinators of the sender's and the receiver's province hear of it, once each province."""
    transfer = _transfer(event)
    sender, receiver = transfer.from_organization, transfer.to_organization
    message = (
        f"{transfer.mode_label}请求 #{event.transfer_id}（案件 {transfer.case.number}，{sender.name} → "
        f"{receiver.name}）未在 {event.respond_by.isoformat()} 前答复，已超期"
    )
    for province in dict.fromkeys(p for p in (sender.region.province_code, receiver.region.province_code) if p):
        notify(
            kind="transfer_escalated",
            region_code=province,
            message=message,
            link="/transfers/escalations",
            dedupe_key=f"transfer-escalated:{event.transfer_id}:{province}",
        )


@listeners.on(LegalAidTransferred)
def tell_the_receiving_centre(event: LegalAidTransferred) -> None:
    """The competent centre that received a 通办 application is told to decide by its deadline."""
    application = db.session.get_one(LegalAidApplication, event.application_id)
    notify(
        kind="legal_aid_incoming",
        organization_id=event.centre_id,
        link=f"/legal-aid/applications/{event.application_id}",
        message=f"收到通办转交的法律援助申请 {application.number}（{application.matter_category_label}），"
        f"请于 {event.data['decide_by']} 前作出是否给予法律援助的决定",
    )


@listeners.on(CaseConcluded)
def tell_the_senders_of_a_conclusion(event: CaseConcluded) -> None:
    """联防联调: the organisations that handed the case over hear the result (``transfers.feedback``)."""
    notify_senders_of_conclusion(db.session.get_one(Case, event.case_id))
