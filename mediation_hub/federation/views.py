"""The administrators' federation page: this hub's id and address, each peer's delivery state, and the messages
set aside (undeliverable or refused) with a button to send each again.

Peers are added only with the command line (``mediation-hub peers add``): a form here that typed an address into
the server would let a browser session make the hub call any address (SSRF), so the page only says how."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ..auth.current import current_actor
from ..core.i18n import N_
from ..errors import StateConflict
from ..extensions import db
from ..reporting.delivery_errors import shown_delivery_error
from . import service
from .policy import POLICY

bp = Blueprint("federation", __name__, url_prefix="/federation", template_folder="templates")

# What each message type carries, as the administrators read it (the type's code is shown beside it).
TYPE_LABELS = {
    "directory.snapshot": N_("机构目录"),
    "transfer.offered": N_("转办请求"),
    "transfer.answered": N_("转办答复"),
    "case.handover": N_("案卷移交"),
    "case.outcome": N_("办理结果"),
    "legal_aid.forwarded": N_("法律援助申请转交"),
    "legal_aid.decided": N_("法律援助审查决定"),
}


# Why a message was set aside, as the administrators read it: the peer's refusal code, or the sender's own.
ERROR_LABELS = {
    "peer_removed": N_("对端平台已移除"),
    "unknown_peer": N_("对方不认识本平台（请核对双方的平台标识与密钥）"),
    "bad_signature": N_("签名未通过对方校验（请核对密钥）"),
    "wrong_hub": N_("消息发往了错误的平台"),
    "not_signed_envelope": N_("对方认为消息未签名"),
    "bad_envelope": N_("消息格式不被对方接受"),
    "unknown_message_type": N_("对方不支持该消息类型或版本"),
    "bad_payload": N_("消息内容不符合对方要求的格式"),
    "cannot_apply": N_("消息无法在对方平台执行（如对方缺少协议或地区数据）"),
}


def error_label(last_error: str | None) -> str:
    """The stored error in the reader's language: a known code's label, an HTTP refusal, or the fixed Chinese text a
    failed call recorded after its code (``timeout: 超时：10 秒内无应答``, translated as report deliveries' are)."""
    if not last_error:
        return "—"
    code, _sep, text = last_error.partition(": ")
    if code in ERROR_LABELS:
        return _(ERROR_LABELS[code])
    if code.startswith("http_") and code[5:].isdigit():
        return _("对方拒收（HTTP %(status)s）", status=code[5:])
    return shown_delivery_error(text) if text else _("发送失败")


class SendAgainForm(FlaskForm):
    """Nothing but the CSRF token: the message is named by the address the form posts to."""


@bp.get("")
def overview():
    """This hub, its peers (last contact, what waits, what failed, what came in) and the messages set aside."""
    POLICY.require(current_actor(), "manage")
    return render_template(
        "federation/overview.html",
        hub_id=current_app.config["HUB_ID"],
        public_url=current_app.config["PUBLIC_URL"],
        peers=service.status(),
        set_aside=service.set_aside(),
        type_labels=TYPE_LABELS,
        error_label=error_label,
        form=SendAgainForm(),
    )


@bp.post("/messages/<message_id>/send-again")
def send_again(message_id: str):
    """Put an undeliverable or refused message back in the queue (its schedule starts afresh)."""
    POLICY.require(current_actor(), "manage")
    if not SendAgainForm().validate_on_submit():
        flash(_("表单已失效，请重试"), "error")
        return redirect(url_for("federation.overview"))
    try:
        message = service.send_again(message_id)  # an unknown id: NotFound, the 404 page
    except StateConflict as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("federation.overview"))
    flash(_("消息 %(id)s 已重新排队，将发往 %(hub)s 平台", id=message.id, hub=message.to_hub), "success")
    return redirect(url_for("federation.overview"))
