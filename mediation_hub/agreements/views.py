"""Agreement pages: the list and detail every signed-in role may read, the forms an administrator uses to keep
agreements and a coordinator uses to propose, and the proposals a coordinator confirms or declines for their
region. Views translate; the service decides."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..errors import PermissionDenied, StateConflict, ValidationFailed
from ..extensions import db
from . import proposals, service
from .forms import FIELD_LABELS, AgreementForm, ProposalActionForm, ProposalDeclineForm, split_codes
from .models import (
    KIND_LABELS,
    PROPOSAL_ACTION_LABELS,
    PROPOSAL_STATE_LABELS,
    SCOPE_LABELS,
    Agreement,
    AgreementKind,
    AgreementProposal,
    AgreementScope,
    ProposalAction,
    ProposalState,
)
from .policy import POLICY

bp = Blueprint("agreements", __name__, url_prefix="/agreements", template_folder="templates")


@bp.app_template_filter("agreement_kind")
def agreement_kind_label(kind) -> str:
    return str(KIND_LABELS.get(AgreementKind(kind), kind))


@bp.app_template_filter("agreement_scope")
def agreement_scope_label(scope) -> str:
    return str(SCOPE_LABELS.get(AgreementScope(scope), scope))


@bp.app_template_filter("proposal_state")
def proposal_state_label(state) -> str:
    return str(PROPOSAL_STATE_LABELS.get(ProposalState(state), state))


@bp.app_template_filter("proposal_action")
def proposal_action_label(action) -> str:
    return str(PROPOSAL_ACTION_LABELS.get(ProposalAction(action), action))


def _choice(value, enum_cls):
    return enum_cls(value) if value in {m.value for m in enum_cls} else None


@bp.get("/")
def agreement_list():
    actor = current_actor()
    scope = _choice(request.args.get("scope"), AgreementScope)
    kind = _choice(request.args.get("kind"), AgreementKind)
    active = {"1": True, "0": False}.get(request.args.get("active", ""))
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    page = paginate(service.list_agreements(actor, scope=scope, kind=kind, active=active), page_no, 50)
    names = service.region_names([c for a in page["items"] for c in a.member_codes])
    keeper = POLICY.allows(actor, "keep")
    pending = paginate(proposals.list_proposals(actor, state=ProposalState.pending), 1, 1)["total"] if keeper else 0
    return render_template(
        "agreements/agreement_list.html",
        page=page,
        names=names,
        scope=scope,
        kind=kind,
        active=request.args.get("active", ""),
        kinds=KIND_LABELS,
        scopes=SCOPE_LABELS,
        can_create=keeper,
        pending_proposals=pending,
    )


@bp.get("/<code>")
def agreement_detail(code: str):
    actor = current_actor()
    agreement = service.get_agreement(actor, code)
    return render_template(
        "agreements/agreement_detail.html",
        agreement=agreement,
        names=service.region_names(agreement.member_codes),
        can_edit=POLICY.allows(actor, "keep", agreement.member_codes),
        direct=POLICY.allows(actor, "change_directly"),
        pending=proposals.pending_for(actor, agreement.code),
    )


def _saved(result):
    """Where a saved form leads: the agreement, or the proposal still waiting for confirmations."""
    if isinstance(result, AgreementProposal):
        if result.state != ProposalState.applied:
            flash(_("已提交提议，待各成员区域的协调人员确认后生效"), "success")
            return redirect(url_for("agreements.proposal_detail", proposal_id=result.id))
        flash(_("您的辖区涵盖全部成员区域，提议已直接生效"), "success")
        return redirect(url_for("agreements.agreement_detail", code=result.agreement_code))
    flash(_("协议已保存"), "success")
    return redirect(url_for("agreements.agreement_detail", code=result.code))


def _save(form: AgreementForm, action, agreement=None, *, proposing: bool = False):
    """Validate, call the service, commit once; on failure show the form again beside the fields."""
    leftover: dict[str, list[str]] = {}
    status = 200
    if form.validate_on_submit():
        try:
            saved = action(form)
        except ValidationFailed as exc:
            db.session.rollback()
            leftover = form.attach_errors(exc.errors)
        except StateConflict as exc:
            db.session.rollback()
            leftover = form.attach_errors({"code": [exc.message]})
            status = 409
        else:
            return _saved(saved)
    if request.method == "POST" and status == 200:
        status = 422
    names = service.region_names(split_codes(form.member_codes.data))
    return render_template(
        "agreements/agreement_form.html",
        form=form,
        agreement=agreement,
        leftover=leftover,
        names=names,
        proposing=proposing,
    ), status


@bp.route("/new", methods=["GET", "POST"])
def agreement_create():
    actor = current_actor()
    if not POLICY.allows(actor, "keep"):
        raise PermissionDenied(_("只有管理员和协调人员可维护协议"))
    form = AgreementForm()
    if POLICY.allows(actor, "change_directly"):
        return _save(form, lambda f: service.create_agreement(actor, f.to_data()))
    return _save(form, lambda f: proposals.propose_agreement(actor, f.to_data()), proposing=True)


@bp.route("/<code>/edit", methods=["GET", "POST"])
def agreement_edit(code: str):
    actor = current_actor()
    agreement = service.get_agreement(actor, code)
    POLICY.require(actor, "keep", agreement.member_codes)
    form = AgreementForm(obj=agreement)
    del form.code
    if request.method == "GET":
        form.kind.data, form.scope.data = agreement.kind.value, agreement.scope.value
        form.member_codes.data = " ".join(agreement.member_codes)
    if POLICY.allows(actor, "change_directly"):
        return _save(form, lambda f: service.update_agreement(actor, code, f.to_data(with_code=False)), agreement)
    return _save(
        form, lambda f: proposals.propose_change(actor, code, f.to_data(with_code=False)), agreement, proposing=True
    )


def _switch(code: str, name: str, active: bool, done: str):
    """Deactivate or reactivate: at once for an administrator, as a proposal for a coordinator."""
    actor = current_actor()
    if POLICY.allows(actor, "change_directly"):
        (service.reactivate_agreement if active else service.deactivate_agreement)(actor, code)
        flash(done, "success")
        return redirect(url_for("agreements.agreement_detail", code=code))
    agreement = service.get_agreement(actor, code)
    POLICY.require(actor, "keep", agreement.member_codes)
    service.check_active_transition(agreement, name)
    proposal = proposals.propose_change(actor, code, {"active": active})
    return _saved(proposal)


@bp.post("/<code>/deactivate")
def agreement_deactivate(code: str):
    return _switch(code, "deactivate", False, _("协议已停止执行"))


@bp.post("/<code>/reactivate")
def agreement_reactivate(code: str):
    return _switch(code, "reactivate", True, _("协议已恢复执行"))


# --- proposals --------------------------------------------------------------------------------------------


@bp.get("/proposals")
def proposal_list():
    actor = current_actor()
    raw_state = request.args.get("state", ProposalState.pending.value)
    state = _choice(raw_state, ProposalState)
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    page = paginate(proposals.list_proposals(actor, state=state), page_no, 50)
    names = service.region_names([r.region_code for p in page["items"] for r in p.regions])
    codes = {p.agreement_code for p in page["items"]}
    titles = dict(db.session.execute(sa.select(Agreement.code, Agreement.name).where(Agreement.code.in_(codes))).all())
    return render_template(
        "agreements/proposal_list.html",
        page=page,
        names=names,
        titles=titles,
        state=raw_state,
        states=PROPOSAL_STATE_LABELS,
    )


def _shown(key: str, value, names: dict[str, str]) -> str:
    """A proposed or former value as a person reads it."""
    if value is None:
        return _("长期") if key == "effective_to" else "—"
    if key == "member_codes":
        return "、".join(names.get(c, c) for c in value)
    if key == "kind":
        return agreement_kind_label(value)
    if key == "scope":
        return agreement_scope_label(value)
    if key == "active":
        return _("执行中") if value else _("已停止")
    if key == "response_working_days":
        return f"{value} " + _("个工作日")
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _change_rows(proposal: AgreementProposal) -> list[dict]:
    proposed, before = proposal.proposed_terms, proposal.terms_before
    codes = [*proposed.get("member_codes", []), *before.get("member_codes", [])]
    names = service.region_names(codes)
    return [
        {
            "label": FIELD_LABELS.get(key, key),
            "before": _shown(key, before[key], names) if key in before else "",
            "after": _shown(key, value, names),
        }
        for key, value in proposed.items()
    ]


def _render_proposal(proposal_id: int, *, decline_form=None, error: str | None = None, status: int = 200):
    actor = current_actor()
    proposal = proposals.get_proposal(actor, proposal_id)
    pending = proposal.state == ProposalState.pending
    agreement = db.session.get(Agreement, proposal.agreement_code)
    return render_template(
        "agreements/proposal_detail.html",
        proposal=proposal,
        agreement=agreement,
        rows=_change_rows(proposal),
        error=error,
        may_confirm=pending
        and POLICY.allows(actor, "confirm", proposal)
        and bool(proposals.unconfirmed_for(actor, proposal)),
        may_decline=pending and POLICY.allows(actor, "decline", proposal),
        may_withdraw=pending and POLICY.allows(actor, "withdraw", proposal),
        may_apply=pending and POLICY.allows(actor, "apply"),
        decline_form=decline_form or ProposalDeclineForm(),
    ), status


@bp.get("/proposals/<int:proposal_id>")
def proposal_detail(proposal_id: int):
    return _render_proposal(proposal_id)


def _answer(proposal_id: int, act, done):
    """Run one transition for the page: a redirect back to the proposal, or the page with the conflict."""
    if not ProposalActionForm().validate_on_submit():
        return _render_proposal(proposal_id, error=_("表单已失效，请重试"), status=400)
    try:
        proposal = act(current_actor(), proposal_id)
    except StateConflict as exc:
        db.session.rollback()
        return _render_proposal(proposal_id, error=exc.message, status=409)
    flash(done(proposal), "success")
    return redirect(url_for("agreements.proposal_detail", proposal_id=proposal_id))


@bp.post("/proposals/<int:proposal_id>/confirm")
def proposal_confirm(proposal_id: int):
    return _answer(
        proposal_id,
        proposals.confirm_proposal,
        lambda p: (
            _("各成员区域均已确认，协议已生效")
            if p.state == ProposalState.applied
            else _("已确认，尚待其他成员区域确认")
        ),
    )


@bp.post("/proposals/<int:proposal_id>/withdraw")
def proposal_withdraw(proposal_id: int):
    return _answer(proposal_id, proposals.withdraw_proposal, lambda p: _("已撤回该提议"))


@bp.post("/proposals/<int:proposal_id>/apply")
def proposal_apply(proposal_id: int):
    return _answer(proposal_id, proposals.apply_proposal, lambda p: _("提议已生效"))


@bp.post("/proposals/<int:proposal_id>/decline")
def proposal_decline(proposal_id: int):
    form = ProposalDeclineForm()
    form.validate_on_submit()
    if set(form.errors) - {"reason"}:  # the CSRF token: nothing is done
        return _render_proposal(proposal_id, error=_("表单已失效，请重试"), status=400)
    try:  # the service judges the reason after who may decline and whether the proposal is still pending
        proposals.decline_proposal(current_actor(), proposal_id, reason=form.reason.data)
    except ValidationFailed as exc:
        db.session.rollback()
        leftover = form.attach_errors(exc.errors)
        return _render_proposal(proposal_id, decline_form=form, error="；".join(leftover) or None, status=422)
    except StateConflict as exc:
        db.session.rollback()
        return _render_proposal(proposal_id, error=exc.message, status=409)
    flash(_("已拒绝该提议"), "success")
    return redirect(url_for("agreements.proposal_detail", proposal_id=proposal_id))
