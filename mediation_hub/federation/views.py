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
