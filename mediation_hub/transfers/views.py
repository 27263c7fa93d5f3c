"""Transfer pages: incoming and outgoing queues, the transfer page with the minimum view and the answer
forms, the coordinators' escalation list, and the routes panel on the case page. Views read the form,
call one service function, commit once and redirect."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.current import current_actor
from ..cases.models import Case
from ..cases.rules import OUTCOME_LABELS as CASE_OUTCOME_LABELS
from ..cases.rules import STATUS_LABELS as CASE_STATUS_LABELS
from ..core.pagination import paginate
from ..core.shanghai import today_shanghai
from ..errors import NotFound, StateConflict, ValidationFailed
from ..extensions import db
from ..federation.models import FederatedLink, OutboxMessage, OutboxStatus
from . import routing, service
from .forms import AcceptTransferForm, DeclineTransferForm, RequestTransferForm, WithdrawTransferForm
from .models import DECLINE_REASON_LABELS, MODE_LABELS, STATUS_LABELS, TransferMode, TransferStatus
from .policy import POLICY

bp = Blueprint("transfers", __name__, url_prefix="/transfers", template_folder="templates")
QUEUE_SIZE = 50


@bp.context_processor
def _labels():
    return {
        "mode_labels": _translated(MODE_LABELS),
        "transfer_status_labels": _translated(STATUS_LABELS),
        "decline_reason_labels": _translated(DECLINE_REASON_LABELS),
        "today": today_shanghai(),
    }


def _translated(labels: dict) -> dict:
    return {key: _(label) for key, label in labels.items()}


@bp.app_context_processor
def _case_panel():
    """``transfer_panel_for(case)`` for the case page's included panel (routes, forms, history)."""
    return {"transfer_panel_for": transfer_panel_for}


def transfer_panel_for(case: Case) -> dict:
    """The data the case page's transfer panel shows to the current actor (the case is already visible)."""
    actor = current_actor()
    history = service.case_transfers(case.id)
    # the service's own rule (POLICY "send"), so the form shows to exactly the users the endpoint lets send
    can_send = POLICY.allows(actor, "send", case) and case.status in service.TRANSFERABLE_CASE_STATES
    pending_modes = {t.mode.value for t in history if t.status == TransferStatus.pending}
    return {
        "history": history,
        "co_organizations": service.co_organizations(case.id),
        "can_send": can_send,
        "routing": routing.routes_for(case) if can_send else None,
        "pending_modes": pending_modes,
        "modes": list(TransferMode),
        "today": today_shanghai(),
        "status_labels": STATUS_LABELS,
        "mode_labels": MODE_LABELS,
    }


# --- queues ----------------------------------------------------------------------------------------------


@bp.get("/")
def queue():
    """Incoming and outgoing requests, pending ones first by answer-by date, overdue ones marked."""
    actor = current_actor()
    status = request.args.get("status") or None
    status = TransferStatus(status) if status in TransferStatus.__members__ else None
    sections = []
    for direction, title in (("incoming", _("收到的请求")), ("outgoing", _("发出的请求"))):
        page = paginate(service.list_transfers(actor, direction=direction, status=status), 1, QUEUE_SIZE)
        sections.append({"direction": direction, "title": title, "page": page})
    return render_template(
        "transfers/queue.html",
        sections=sections,
        status=status,
        statuses=list(TransferStatus),
        may_see_escalations=POLICY.allows(actor, "see_escalations"),
    )


@bp.get("/escalations")
def escalations():
    """Expired and overdue transfers touching the coordinator's region."""
    page_number = request.args.get("page", 1, type=int) or 1
    page = paginate(service.escalations(current_actor()), max(page_number, 1))
    return render_template("transfers/escalations.html", page=page)


# --- one transfer ----------------------------------------------------------------------------------------


def _render_transfer(
    transfer_id: int, *, accept_form=None, decline_form=None, error: str | None = None, status: int = 200
):
    actor = current_actor()
    view = service.transfer_view(actor, transfer_id)
    transfer = view["transfer"]
    pending = transfer.status == TransferStatus.pending
    # a request to another hub's organisation is answered there (the service refuses a local answer: 409)
    answered_remotely = pending and transfer.to_organization.is_remote
    may_answer = pending and not answered_remotely and POLICY.allows(actor, "answer", transfer)
    may_withdraw = pending and POLICY.allows(actor, "withdraw", transfer)
    return render_template(
        "transfers/detail.html",
        transfer=transfer,
        case_view=view["case"],
        error=error,
        may_answer=may_answer,
        may_withdraw=may_withdraw,
        answered_remotely=answered_remotely,
        federation=_federation_facts(transfer),
        case_link=_case_link(actor, transfer.case_id),
        accept_form=accept_form or AcceptTransferForm(),
        decline_form=decline_form or DeclineTransferForm(),
        withdraw_form=WithdrawTransferForm(),
        overdue=transfer.overdue_on(today_shanghai()),
    ), status


def _federation_facts(transfer) -> dict | None:
    """What the page shows of a request between hubs: the other hub, whether the case's file has been handed
    over, and the result the other hub fed back; None for a request within this hub."""
    link = db.session.scalar(sa.select(FederatedLink).where(FederatedLink.transfer_id == transfer.id))
    if link is None:
        return None
    fed_back = link.outcome or {}
    outcome = None
    if fed_back.get("status"):  # the file alone (its history) is no outcome yet
        outcome = {
            "status": _label(CASE_STATUS_LABELS, fed_back["status"]),
            "outcome": _label(CASE_OUTCOME_LABELS, fed_back.get("outcome")),
            "concluded_on": fed_back.get("concluded_on"),
            "organization": fed_back.get("organization"),
        }
    return {"hub": link.peer_hub, "file": _file_handover(link, transfer), "outcome": outcome}


def _label(labels: dict, code: str | None) -> str | None:
    """The label of a code another hub sent, in the request's language (the code itself if this hub lacks it)."""
    return next((str(label) for key, label in labels.items() if key.value == code), code)


def _file_handover(link: FederatedLink, transfer) -> dict | None:
    """Where the file of an accepted request stands: ``handed_over`` (arrived on the receiving hub at ``at``, or on
    the sending hub its ``case.handover`` message delivered at ``at``), ``awaited`` (the receiving hub waits for it),
    ``sending`` (the sending hub is still sending it) or ``set_aside`` (undeliverable or refused: an administrator
    sends it again); None before acceptance."""
    if link.handed_over_at is not None:
        return {"state": "handed_over", "at": link.handed_over_at}
    if transfer.status != TransferStatus.accepted:
        return None
    if not link.outgoing:
        return {"state": "awaited"}
    message = db.session.scalar(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.to_hub == link.peer_hub,
            OutboxMessage.conversation_id == link.conversation_id,
            OutboxMessage.type == "case.handover",
        )
        .order_by(OutboxMessage.sequence.desc())
        .limit(1)
    )
    if message is None or message.status == OutboxStatus.pending:
        return {"state": "sending"}
    if message.status == OutboxStatus.delivered:
        return {"state": "handed_over", "at": message.delivered_at}
    return {"state": "set_aside"}


def _case_link(actor, case_id: int) -> str | None:
    """The full case page, only when the actor may see the case (after acceptance, for the receiver)."""
    from ..cases.service import get_case

    try:
        get_case(actor, case_id)
    except NotFound:
        return None
    return url_for("cases.case_detail", case_id=case_id) if "cases.case_detail" in current_app.view_functions else None


@bp.get("/<int:transfer_id>")
def transfer_detail(transfer_id: int):
    """The request with the minimum view of its case and, for the receiver, the answer forms."""
    return _render_transfer(transfer_id)


def _errors_into(form, errors: dict) -> list[str]:
    """Put field errors on the form's fields; return the ones no field shows."""
    leftover = []
    for name, messages in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            leftover.extend(messages)
    return leftover


@bp.post("/<int:transfer_id>/accept")
def accept(transfer_id: int):
    form = AcceptTransferForm()
    if not form.validate_on_submit():
        return _render_transfer(transfer_id, accept_form=form, status=422)
    try:
        transfer = service.accept_transfer(current_actor(), transfer_id, answered_on=form.answered_on.data)
    except ValidationFailed as exc:
        db.session.rollback()
        leftover = _errors_into(form, exc.errors)
        return _render_transfer(transfer_id, accept_form=form, error=_("；").join(leftover) or None, status=422)
    except StateConflict as exc:
        db.session.rollback()
        return _render_transfer(transfer_id, error=exc.message, status=409)
    flash(_("已接收%(mode)s案件 %(number)s", mode=_(transfer.mode_label), number=transfer.case.number), "success")
    return redirect(url_for("transfers.transfer_detail", transfer_id=transfer_id))


@bp.post("/<int:transfer_id>/decline")
def decline(transfer_id: int):
    form = DeclineTransferForm()
    if not form.validate_on_submit():
        return _render_transfer(transfer_id, decline_form=form, status=422)
    try:
        service.decline_transfer(
            current_actor(), transfer_id, reason_code=form.reason_code.data, reason_text=form.reason_text.data
        )
    except ValidationFailed as exc:
        db.session.rollback()
        leftover = _errors_into(form, exc.errors)
        return _render_transfer(transfer_id, decline_form=form, error=_("；").join(leftover) or None, status=422)
    except StateConflict as exc:
        db.session.rollback()
        return _render_transfer(transfer_id, error=exc.message, status=409)
    flash(_("已退回该请求"), "success")
    return redirect(url_for("transfers.transfer_detail", transfer_id=transfer_id))


@bp.post("/<int:transfer_id>/withdraw")
def withdraw(transfer_id: int):
    if not WithdrawTransferForm().validate_on_submit():
        return _render_transfer(transfer_id, error=_("表单已失效，请重试"), status=400)
    try:
        transfer = service.withdraw_transfer(current_actor(), transfer_id)
    except StateConflict as exc:
        db.session.rollback()
        return _render_transfer(transfer_id, error=exc.message, status=409)
    if transfer.status == TransferStatus.pending:  # another hub's organisation: that hub answers the withdrawal
        flash(_("已请对方平台撤回该请求，对方确认后状态更新"), "success")
    else:
        flash(_("已撤回该请求"), "success")
    return redirect(url_for("transfers.transfer_detail", transfer_id=transfer_id))


# --- sending from the case page ------------------------------------------------------------------------


@bp.post("/request")
def request_transfer():
    """A form of the case page's routes panel: send the case or ask for joint mediation."""
    form = RequestTransferForm()
    case_id = form.case_id.data
    if not form.validate_on_submit() or case_id is None:
        flash(_("请求无效，请从案件页重新选择"), "error")
        return redirect(url_for("cases.case_detail", case_id=case_id) if case_id else url_for("transfers.queue"))
    try:
        transfer = service.request_transfer(
            current_actor(),
            case_id,
            to_organization_id=form.to_organization_id.data,
            agreement_code=form.agreement_code.data,
            mode=form.mode.data,
            note=form.note.data or None,
        )
    except (ValidationFailed, StateConflict) as exc:
        db.session.rollback()
        messages = [m for ms in (exc.errors or {}).values() for m in ms] or [exc.message]
        flash(_("未能发出请求：") + _("；").join(messages), "error")
        return redirect(url_for("cases.case_detail", case_id=case_id, _anchor="transfers"))
    flash(
        _(
            "已向 %(organization)s 发出%(mode)s请求，答复期限 %(day)s",
            organization=transfer.to_organization.name,
            mode=_(transfer.mode_label),
            day=transfer.respond_by.isoformat(),
        ),
        "success",
    )
    return redirect(url_for("cases.case_detail", case_id=case_id, _anchor="transfers"))
