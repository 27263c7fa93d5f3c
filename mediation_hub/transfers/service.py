"""Transfers and joint-mediation requests: request, accept, decline, withdraw, and who sees what.

Every answer changes the transfer with one conditional UPDATE (``WHERE id = :id AND status = 'pending'``),
so whatever the number of concurrent answers exactly one wins and the others get a 409. Before it accepts,
the receiving organisation sees only the minimum (case number, category, summary, dates, party names with
masked numbers, regions); the case itself stays out of its scope until a transfer moves it there.

Each step writes its case event and emits a declared event (``transfers.events``: ``transfer.requested``,
``transfer.answered`` …); the notices to either side and to the coordinators are written by its listeners
(``notifications.listeners``) in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..agreements.models import Agreement, AgreementScope
from ..cases.events import record_event
from ..cases.models import Case, CaseStatus
from ..cases.rules import STATUS_LABELS as CASE_STATUS_LABELS
from ..cases.service import change_handling_organization
from ..core.actor import Actor, Role
from ..core.business_dates import check_business_date
from ..core.calendar import working_days_between, working_deadline
from ..core.db import affected_rows, utcnow
from ..core.events import emit
from ..core.i18n import N_
from ..core.messages import coded
from ..core.shanghai import SHANGHAI, today_shanghai
from ..errors import NotFound, StateConflict, ValidationFailed, collect
from ..extensions import db
from ..regions.models import Region
from ..regions.service import subtree_condition
from ..registry.models import MEDIATING_KINDS, Organization
from . import routing
from .events import (
    TransferAnswered,
    TransferEscalated,
    TransferExpired,
    TransferRequested,
    TransferWithdrawalAsked,
    TransferWithdrawn,
    event_code,
    step_fields,
)
from .models import (
    ANSWERED_STATUSES,
    MODE_LABELS,
    STATUS_LABELS,
    CaseCoOrganization,
    DeclineReason,
    Transfer,
    TransferMode,
    TransferStatus,
)
from .policy import POLICY

# A case may be sent on only while it is being handled (DESIGN: accepted or in mediation).
TRANSFERABLE_CASE_STATES = frozenset({CaseStatus.accepted, CaseStatus.in_mediation})
# The one table of transitions: the states each may start from.
TRANSITIONS = {
    "accept": {TransferStatus.pending},
    "decline": {TransferStatus.pending},
    "withdraw": {TransferStatus.pending},
    "expire": {TransferStatus.pending},
}
EVENT_SUFFIX = {
    TransferStatus.accepted: "accepted",
    TransferStatus.declined: "declined",
    TransferStatus.expired: "expired",
    TransferStatus.withdrawn: "withdrawn",
}


# --- scope -----------------------------------------------------------------------------------------------


def _region_scope(region_code: str) -> sa.ColumnElement[bool]:
    """Transfers touching a region: either side's organisation lies in its subtree."""
    in_region = sa.select(Organization.id).where(subtree_condition(Organization.region_code, region_code))
    return sa.or_(Transfer.from_organization_id.in_(in_region), Transfer.to_organization_id.in_(in_region))


def transfer_scope(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL condition on Transfer for what the actor may see: its organisation's incoming and outgoing
    requests; a coordinator those touching its region; admins and the system everything."""
    if actor.sees_everything:
        return sa.true()
    if actor.organization_id is not None and actor.role != Role.coordinator:
        return sa.or_(
            Transfer.from_organization_id == actor.organization_id, Transfer.to_organization_id == actor.organization_id
        )
    if actor.region_code:
        return _region_scope(actor.region_code)
    return sa.false()


# What a transfer's answer shows beside its own columns (the case number, both organisations' names), loaded with it
# in the same statement instead of a lazy load each as the schema reads them.
ANSWER_LOADING = (
    joinedload(Transfer.case),
    joinedload(Transfer.from_organization),
    joinedload(Transfer.to_organization),
)


def transfers_visible_to(actor: Actor) -> sa.Select[tuple[Transfer]]:
    """The transfers the actor may see (``transfer_scope``), with what their answers show (``ANSWER_LOADING``)."""
    return sa.select(Transfer).where(transfer_scope(actor)).options(*ANSWER_LOADING)


def get_transfer(actor: Actor, transfer_id: int, *, minimum_case: bool = False) -> Transfer:
    """The transfer if the actor may see it, else NotFound; ``minimum_case`` loads what the minimum view of its
    case shows with it (the category, the parties)."""
    stmt = transfers_visible_to(actor).where(Transfer.id == transfer_id)
    if minimum_case:
        stmt = stmt.options(
            joinedload(Transfer.case).joinedload(Case.category), joinedload(Transfer.case).joinedload(Case.parties)
        )
    transfer = db.session.scalars(stmt).unique().first()
    if transfer is None:
        raise NotFound("transfer")
    return transfer


def list_transfers(
    actor: Actor, *, direction: str | None = None, status: TransferStatus | None = None, case_id: int | None = None
) -> sa.Select[tuple[Transfer]]:
    """Transfers the actor sees; ``direction`` incoming/outgoing is relative to its organisation (or,
    for a coordinator, to its region); oldest answer-by date first for pending queues."""
    stmt = transfers_visible_to(actor)
    if direction in ("incoming", "outgoing"):
        column = Transfer.to_organization_id if direction == "incoming" else Transfer.from_organization_id
        if actor.organization_id is not None and actor.role != Role.coordinator:
            stmt = stmt.where(column == actor.organization_id)
        elif actor.region_code:
            stmt = stmt.where(
                column.in_(
                    sa.select(Organization.id).where(subtree_condition(Organization.region_code, actor.region_code))
                )
            )
    if status is not None:
        stmt = stmt.where(Transfer.status == status)
    if case_id is not None:
        stmt = stmt.where(Transfer.case_id == case_id)
    return stmt.order_by(Transfer.status != TransferStatus.pending, Transfer.respond_by, Transfer.id.desc())


def case_transfers(case_id: int) -> list[Transfer]:
    """A case's transfer history (the caller has already checked the case is visible)."""
    return list(
        db.session.scalars(
            sa.select(Transfer)
            .where(Transfer.case_id == case_id)
            .order_by(Transfer.requested_at.desc(), Transfer.id.desc())
        )
    )


def co_organizations(case_id: int) -> list[CaseCoOrganization]:
    """The organisations co-mediating a case (the caller has already checked the case is visible)."""
    return list(db.session.scalars(sa.select(CaseCoOrganization).where(CaseCoOrganization.case_id == case_id)))


# --- the minimum view ------------------------------------------------------------------------------------


def minimum_case_view(case: Case) -> dict[str, Any]:
    """What a receiving organisation needs to decide: never a full ID number or phone."""
    involved = routing.involved_regions(case)
    return {
        "id": case.id,
        "number": case.number,
        "category": case.category.name,
        "summary": case.summary,
        "received_on": case.received_on,
        "status": case.status.value,
        "major": case.major,
        "occurred_region_code": case.occurred_region_code,
        "occurred_region_name": involved[case.occurred_region_code].name
        if case.occurred_region_code in involved
        else None,
        "parties": [
            {
                "role": p.role.value,
                "kind": p.kind.value,
                "name": p.name,
                "id_number": p.id_number_masked,
                "phone": p.phone_masked,
                "region_code": p.region_code,
                "region_name": involved[p.region_code].name if p.region_code in involved else None,
            }
            for p in case.parties
        ],
        "regions": [{"code": r.code, "name": r.name, "roles": r.roles} for r in involved.values()],
    }


def transfer_view(actor: Actor, transfer_id: int) -> dict[str, Any]:
    """A transfer with its minimum case view, for either side or a coordinator of their regions."""
    transfer = get_transfer(actor, transfer_id, minimum_case=True)
    return {"transfer": transfer, "case": minimum_case_view(transfer.case)}


# --- requesting ------------------------------------------------------------------------------------------


def _check_date(value: date | None, earliest: date, field: str, errors: dict[str, list[str]]) -> date:
    day = value or today_shanghai()
    if day > today_shanghai():
        collect(errors, field, coded("date_in_future", "日期不能晚于今天"))
    check_business_date(day, field, errors)
    if day < earliest:
        collect(errors, field, coded("before_previous_step", "日期不能早于上一步 %(day)s", day=earliest.isoformat()))
    return day


def _check_agreement(
    code: str, case: Case, receiver: Organization | None, on: date, errors: dict[str, list[str]]
) -> Agreement | None:
    agreement = db.session.get(Agreement, code)
    if agreement is None:
        collect(errors, "agreement_code", coded("unknown_agreement", "未知的协议"))
        return None
    if not agreement.active:
        collect(errors, "agreement_code", coded("agreement_inactive", "协议已停用"))
    elif not agreement.in_force_on(on):
        collect(errors, "agreement_code", coded("agreement_not_in_force", "协议在该日期不在有效期内"))
    if not agreement.covers_scope(AgreementScope.mediation):
        collect(errors, "agreement_code", coded("agreement_not_for_mediation", "协议不适用于调解"))
    involved = list(routing.involved_regions(case))
    uncovered = [c for c in involved if not _covers(agreement, c, on)]
    if uncovered:
        collect(
            errors,
            "agreement_code",
            coded(
                "agreement_does_not_cover_regions", "协议未覆盖案件所涉地区 %(regions)s", regions="、".join(uncovered)
            ),
        )
    if receiver is not None:
        if not _covers(agreement, receiver.region_code, on):
            collect(errors, "to_organization_id", coded("receiver_outside_agreement", "接收组织不在协议地区内"))
        elif not uncovered and not routing.is_partner_along(agreement, case, receiver.id):
            collect(
                errors, "to_organization_id", coded("receiver_not_in_other_region", "接收组织不在案件所涉的另一地区")
            )
    return agreement


def _covers(agreement: Agreement, region_code: str, on: date) -> bool:
    """Whether the agreement's members contain the region (status and dates are checked separately)."""
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    Region.code == region_code,
                    sa.or_(*(subtree_condition(Region.code, m) for m in agreement.member_codes)),
                )
            )
        )
    )


def _check_receiver(
    organization_id: int, case: Case, mode: TransferMode, errors: dict[str, list[str]]
) -> Organization | None:
    receiver = db.session.get(Organization, organization_id)
    if receiver is None:
        collect(errors, "to_organization_id", coded("unknown_organization", "未知的组织"))
        return None
    if receiver.id == case.organization_id:
        collect(errors, "to_organization_id", coded("receiver_is_sender", "不能转给本组织"))
    if not receiver.active or receiver.kind not in MEDIATING_KINDS:
        collect(errors, "to_organization_id", coded("not_mediation_organization", "接收方须为在册的调解组织"))
    if mode == TransferMode.joint and db.session.get(CaseCoOrganization, (case.id, receiver.id)) is not None:
        collect(errors, "to_organization_id", coded("already_co_mediating", "该组织已参与联合调解"))
    return receiver


def request_transfer(
    actor: Actor,
    case_id: int,
    *,
    to_organization_id: int,
    agreement_code: str,
    mode: TransferMode | str = TransferMode.transfer,
    note: str | None = None,
    requested_on: date | None = None,
) -> Transfer:
    """Send a case to a partner organisation (``transfer``) or ask it to co-mediate (``joint``), along a
    route only; answer-by date = the agreement's working days after the request. 422 naming each rule that
    failed; 409 when a request of that mode is already pending."""
    from ..cases.service import get_case

    mode = TransferMode(mode)
    case = get_case(actor, case_id)
    # A case the actor sees (a coordinator's region) but does not handle: forbidden, as its transitions are.
    POLICY.require(actor, "send", case)
    errors: dict[str, list[str]] = {}
    if case.status not in TRANSFERABLE_CASE_STATES:
        collect(
            errors,
            "case_id",
            coded(
                "case_not_transferable",
                "案件状态为「%(status)s」，只有已受理或调解中的案件可以转办",
                status=CASE_STATUS_LABELS[case.status],
            ),
        )
    requested_on = _check_date(requested_on, case.last_step_on, "requested_on", errors)
    receiver = _check_receiver(to_organization_id, case, mode, errors)
    agreement = _check_agreement(agreement_code, case, receiver, requested_on, errors)
    if errors or receiver is None or agreement is None:  # a missing receiver or agreement has its message in errors
        raise ValidationFailed(errors)
    _refuse_second_pending(case.id, mode)
    respond_by = working_deadline(requested_on, agreement.response_working_days, field="respond_by")
    transfer = Transfer(
        case_id=case.id,
        from_organization_id=case.organization_id,
        to_organization_id=receiver.id,
        agreement_code=agreement.code,
        mode=mode,
        status=TransferStatus.pending,
        requested_at=utcnow(),
        requested_on=requested_on,
        requested_by_id=actor.user_id,
        note=note,
        respond_by=respond_by.day,
        respond_by_provisional=respond_by.provisional,
    )
    db.session.add(transfer)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # a concurrent request of the same mode got in first
        raise StateConflict(
            coded("transfer_pending", "该案件已有待答复的%(mode)s请求", mode=gettext(MODE_LABELS[mode]))
        ) from exc
    record_event(
        case,
        event_code(mode, "requested"),
        actor,
        requested_on,
        {
            "transfer_id": transfer.id,
            "to_organization_id": receiver.id,
            "agreement_code": agreement.code,
            "respond_by": transfer.respond_by.isoformat(),
            "working_days": agreement.response_working_days,
        },
    )
    emit(TransferRequested(**step_fields(transfer, requested_on), respond_by=transfer.respond_by))
    return transfer


def _refuse_second_pending(case_id: int, mode: TransferMode) -> None:
    pending = db.session.scalar(
        sa.select(Transfer.id).where(
            Transfer.case_id == case_id, Transfer.mode == mode, Transfer.status == TransferStatus.pending
        )
    )
    if pending is not None:
        raise StateConflict(
            coded(
                "transfer_pending",
                "该案件已有待答复的%(mode)s请求 #%(id)s，请撤回或等待答复",
                mode=gettext(MODE_LABELS[mode]),
                id=pending,
            )
        )


# --- answering -------------------------------------------------------------------------------------------


def _close(transfer: Transfer, action: str, target: TransferStatus, values: dict[str, Any]) -> None:
    """Move a pending transfer to ``target`` with one conditional UPDATE; 409 when another answer won."""
    allowed = TRANSITIONS[action]
    if transfer.status not in allowed:
        raise StateConflict(_conflict_message(transfer.status, action))
    result = db.session.execute(
        sa.update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.status.in_(list(allowed)))
        .values(status=target, version=Transfer.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(result) != 1:
        db.session.expire(transfer)
        raise StateConflict(_conflict_message(transfer.status, action))
    db.session.refresh(transfer)


ACTION_LABELS = {"accept": N_("接收"), "decline": N_("退回"), "withdraw": N_("撤回"), "expire": N_("超期处理")}


def _conflict_message(status: TransferStatus, action: str) -> str:
    allowed = "、".join(gettext(STATUS_LABELS[s]) for s in TRANSITIONS[action])
    return coded(
        "transfer_state_conflict",
        "转办请求当前状态为「%(status)s」，不能%(action)s（仅限%(allowed)s状态）",
        status=gettext(STATUS_LABELS[status]),
        action=gettext(ACTION_LABELS[action]),
        allowed=allowed,
    )


def _answer_values(actor: Actor, transfer: Transfer, answered_on: date | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    day = _check_date(answered_on, transfer.requested_on, "answered_on", errors)
    if errors:
        raise ValidationFailed(errors)
    return {
        "answered_at": utcnow(),
        "answered_on": day,
        "answered_by_id": actor.user_id,
        "working_days_to_answer": working_days_between(transfer.requested_on, day, field="answered_on"),
    }


def answered_day(transfer: Transfer) -> date:
    """The day a transfer was answered (accepted, declined, withdrawn or expired)."""
    day = transfer.answered_on
    # Set on every transfer that is no longer pending (CHECK closed_has_time).
    assert day is not None, f"transfer {transfer.id} is still pending"
    return day


def accept_transfer(actor: Actor, transfer_id: int, *, answered_on: date | None = None) -> Transfer:
    """The receiving organisation accepts. ``transfer``: the case's handling organisation becomes the
    receiver (state, history and number kept). ``joint``: the receiver co-mediates, the sender leads."""
    transfer = get_transfer(actor, transfer_id)
    POLICY.require(actor, "answer", transfer)
    _require_local_receiver(transfer)
    case = transfer.case
    if transfer.status in TRANSITIONS["accept"]:
        _require_case_still_with_sender(transfer, case)
    values = _answer_values(actor, transfer, answered_on)
    _close(transfer, "accept", TransferStatus.accepted, values)
    _accepted(actor, transfer, case, answered_day(transfer))
    return transfer


def _accepted(actor: Actor, transfer: Transfer, case: Case, day: date) -> None:
    """What an acceptance does once the request is closed: ``transfer`` moves the case to the receiver, ``joint``
    makes the receiver a co-mediator; then ``transfer.answered``."""
    if transfer.mode == TransferMode.transfer:
        _move_case(actor, transfer, case)
    else:
        db.session.add(
            CaseCoOrganization(
                case_id=case.id,
                organization_id=transfer.to_organization_id,
                since=day,
                transfer_id=transfer.id,
            )
        )
        record_event(
            case,
            "joint_accepted",
            actor,
            day,
            {"transfer_id": transfer.id, "co_organization_id": transfer.to_organization_id},
        )
    emit(TransferAnswered(**step_fields(transfer, day), accepted=True))


def _require_local_receiver(transfer: Transfer) -> None:
    """A request to an organisation of another hub is answered there (it owns the answer), never here."""
    if transfer.to_organization.is_remote:
        raise StateConflict(
            coded(
                "answered_on_receiving_hub",
                "接收组织在 %(hub)s 平台，由该平台答复此请求",
                hub=transfer.to_organization.hub_id,
            )
        )


def _require_case_still_with_sender(transfer: Transfer, case: Case) -> None:
    if case.organization_id != transfer.from_organization_id or case.status not in TRANSFERABLE_CASE_STATES:
        raise StateConflict(
            coded(
                "transfer_obsolete",
                "案件已由其他组织承办或状态为「%(status)s」，请求已失效",
                status=CASE_STATUS_LABELS[case.status],
            )
        )


def _move_case(actor: Actor, transfer: Transfer, case: Case) -> None:
    receiver = transfer.to_organization
    day = answered_day(transfer)
    record_event(
        case,
        "transfer_accepted",
        actor,
        day,
        {"transfer_id": transfer.id, "to_organization_id": receiver.id},
    )
    # A co-mediating partner that takes the case over now leads it rather than co-mediating.
    co = db.session.get(CaseCoOrganization, (case.id, receiver.id))
    if co is not None:
        db.session.delete(co)
    # The case is the cases package's: it drops the sender's studio and mediators and records the change.
    change_handling_organization(actor, case, receiver, on_date=day, reason={"transfer_id": transfer.id})


def decline_transfer(
    actor: Actor,
    transfer_id: int,
    *,
    reason_code: DeclineReason | str,
    reason_text: str | None = None,
    answered_on: date | None = None,
) -> Transfer:
    """The receiving organisation declines with a reason from the list (``other`` needs a text)."""
    transfer = get_transfer(actor, transfer_id)
    POLICY.require(actor, "answer", transfer)
    _require_local_receiver(transfer)
    errors: dict[str, list[str]] = {}
    reason: DeclineReason | None = None
    try:
        reason = DeclineReason(reason_code)
    except ValueError:
        collect(errors, "reason_code", coded("unknown_reason", "未知的退回理由"))
    reason_text = (reason_text or "").strip() or None
    if reason == DeclineReason.other and not reason_text:
        collect(errors, "reason_text", coded("reason_text_required", "选择“其他”时须说明理由"))
    if errors or reason is None:  # an unknown reason has its message in errors
        raise ValidationFailed(errors)
    values = _answer_values(actor, transfer, answered_on)
    _close(transfer, "decline", TransferStatus.declined, {**values, "reason_code": reason, "reason_text": reason_text})
    _declined(actor, transfer, answered_day(transfer), reason)
    return transfer


def _declined(actor: Actor, transfer: Transfer, day: date, reason: DeclineReason) -> None:
    record_event(
        transfer.case,
        event_code(transfer.mode, "declined"),
        actor,
        day,
        {"transfer_id": transfer.id, "reason_code": reason.value},
    )
    emit(TransferAnswered(**step_fields(transfer, day), accepted=False, reason_code=reason.value))


def withdraw_transfer(actor: Actor, transfer_id: int) -> Transfer:
    """The sending organisation withdraws a request that has not been answered."""
    transfer = get_transfer(actor, transfer_id)
    POLICY.require(actor, "withdraw", transfer)
    today = today_shanghai()
    if transfer.to_organization.is_remote and transfer.status == TransferStatus.pending:
        # The receiving hub owns the answer: ask it; the request closes here when its answer comes back.
        emit(TransferWithdrawalAsked(**step_fields(transfer, max(today, transfer.requested_on))))
        return transfer
    _close(
        transfer,
        "withdraw",
        TransferStatus.withdrawn,
        {"answered_at": utcnow(), "answered_on": max(today, transfer.requested_on), "answered_by_id": actor.user_id},
    )
    _withdrawn(actor, transfer, answered_day(transfer))
    return transfer


def _withdrawn(actor: Actor, transfer: Transfer, day: date) -> None:
    record_event(transfer.case, event_code(transfer.mode, "withdrawn"), actor, day, {"transfer_id": transfer.id})
    emit(TransferWithdrawn(**step_fields(transfer, day)))


# --- expiry and escalation -------------------------------------------------------------------------------


def shanghai_date(now: datetime) -> date:
    """The calendar day in China of an aware moment."""
    return now.astimezone(SHANGHAI).date()


def expire_transfer(actor: Actor, transfer: Transfer, now: datetime) -> bool:
    """Expire one overdue pending transfer and escalate it to both regions' coordinators; False when
    another process answered or expired it first."""
    today = shanghai_date(now)
    try:
        _close(transfer, "expire", TransferStatus.expired, {"answered_at": now, "answered_on": today})
    except StateConflict:
        return False
    _expired(actor, transfer, today)
    return True


def _expired(actor: Actor, transfer: Transfer, day: date) -> None:
    record_event(
        transfer.case,
        event_code(transfer.mode, "expired"),
        actor,
        day,
        {"transfer_id": transfer.id, "respond_by": transfer.respond_by.isoformat()},
    )
    emit(TransferExpired(**step_fields(transfer, day), respond_by=transfer.respond_by))
    escalate(transfer)


def escalate(transfer: Transfer) -> None:
    """Report an expired request to the coordinators of the sender's and the receiver's province
    (``transfer.escalated``; its notices are written once each, however often it runs)."""
    emit(TransferEscalated(**step_fields(transfer, answered_day(transfer)), respond_by=transfer.respond_by))


def escalations(actor: Actor, *, today: date | None = None) -> sa.Select[tuple[Transfer]]:
    """Expired transfers and still-pending overdue ones touching the coordinator's region (most overdue
    first). Only coordinators and admins keep this list."""
    POLICY.require(actor, "see_escalations")
    today = today or today_shanghai()
    overdue = sa.or_(
        Transfer.status == TransferStatus.expired,
        sa.and_(Transfer.status == TransferStatus.pending, Transfer.respond_by < today),
    )
    stmt = sa.select(Transfer).where(overdue).options(*ANSWER_LOADING)
    if not actor.sees_everything:
        stmt = stmt.where(_region_scope(actor.region_code) if actor.region_code else sa.false())
    return stmt.order_by(Transfer.respond_by, Transfer.id)


# --- requests between hubs (federation) --------------------------------------------------------------------


def receive_remote_request(
    actor: Actor,
    case: Case,
    *,
    to_organization: Organization,
    agreement_code: str,
    mode: TransferMode,
    requested_on: date,
    respond_by: date,
    note: str | None,
) -> Transfer:
    """The receiving hub's copy of a request sent from another hub (``case`` is the copy of the case, handled by
    the sender's organisation as this hub knows it): pending, answered here by ``respond_by`` (the sender's
    count under the agreement), expired and escalated here when it is not."""
    errors: dict[str, list[str]] = {}
    if not to_organization.active or to_organization.kind not in MEDIATING_KINDS or to_organization.is_remote:
        collect(errors, "to_organization_id", coded("not_mediation_organization", "接收方须为在册的调解组织"))
    if db.session.get(Agreement, agreement_code) is None:
        collect(errors, "agreement_code", coded("unknown_agreement", "未知的协议"))
    if respond_by < requested_on:
        collect(errors, "respond_by", coded("respond_by_before_request", "答复期限早于请求日期"))
    raise_if_errors(errors)
    _refuse_second_pending(case.id, mode)
    transfer = Transfer(
        case_id=case.id,
        from_organization_id=case.organization_id,
        to_organization_id=to_organization.id,
        agreement_code=agreement_code,
        mode=mode,
        status=TransferStatus.pending,
        requested_at=utcnow(),
        requested_on=requested_on,
        respond_by=respond_by,
        respond_by_provisional=False,
        note=note,
    )
    db.session.add(transfer)
    db.session.flush()
    record_event(
        case,
        event_code(mode, "requested"),
        actor,
        requested_on,
        {
            "transfer_id": transfer.id,
            "to_organization_id": to_organization.id,
            "agreement_code": agreement_code,
            "respond_by": respond_by.isoformat(),
        },
    )
    emit(TransferRequested(**step_fields(transfer, requested_on), respond_by=transfer.respond_by))
    return transfer


def raise_if_errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(errors)


def mirror_answer(
    actor: Actor,
    transfer: Transfer,
    outcome: TransferStatus,
    day: date,
    *,
    reason_code: str | None = None,
    reason_text: str | None = None,
) -> bool:
    """The sending hub records the answer the receiving hub gave (it owns it): the same steps, events and notices
    as a local answer; ``accepted`` moves the case to the receiver (or makes it a co-mediator). False when the
    request was not pending here any more (the answer is already mirrored)."""
    if transfer.status != TransferStatus.pending:
        return False
    day = max(day, transfer.requested_on)
    values: dict[str, Any] = {"answered_at": utcnow(), "answered_on": day, "answered_by_id": None}
    if outcome in ANSWERED_STATUSES:
        values["working_days_to_answer"] = working_days_between(transfer.requested_on, day, field="answered_on")
    if outcome == TransferStatus.declined:
        try:
            reason = DeclineReason(reason_code or DeclineReason.other)
        except ValueError:
            reason = DeclineReason.other
        values |= {
            "reason_code": reason,
            "reason_text": reason_text or (None if reason != DeclineReason.other else "未说明"),
        }
    action = {
        TransferStatus.accepted: "accept",
        TransferStatus.declined: "decline",
        TransferStatus.expired: "expire",
        TransferStatus.withdrawn: "withdraw",
    }[outcome]
    try:
        _close(transfer, action, outcome, values)
    except StateConflict:
        return False
    if outcome == TransferStatus.accepted:
        _accepted(actor, transfer, transfer.case, day)
    elif outcome == TransferStatus.declined:
        _declined(actor, transfer, day, values["reason_code"])
    elif outcome == TransferStatus.expired:
        _expired(actor, transfer, day)
    else:
        _withdrawn(actor, transfer, day)
    return True
