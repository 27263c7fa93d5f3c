"""Agreement pages: the list and detail every signed-in role may read, and the forms admins and
coordinators use to keep agreements. Views translate; the service decides."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..errors import PermissionDenied, StateConflict, ValidationFailed
from ..extensions import db
from . import service
from .forms import KIND_LABELS, SCOPE_LABELS, AgreementForm
from .models import AgreementKind, AgreementScope

bp = Blueprint("agreements", __name__, url_prefix="/agreements", template_folder="templates")


@bp.app_template_filter("agreement_kind")
def agreement_kind_label(kind) -> str:
    return str(KIND_LABELS.get(AgreementKind(kind), kind))


@bp.app_template_filter("agreement_scope")
def agreement_scope_label(scope) -> str:
    return str(SCOPE_LABELS.get(AgreementScope(scope), scope))


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
    return render_template("agreements/agreement_list.html", page=page, names=names, scope=scope, kind=kind,
                           active=request.args.get("active", ""), kinds=KIND_LABELS, scopes=SCOPE_LABELS,
                           can_create=service.can_keep_agreement(actor))


@bp.get("/<code>")
def agreement_detail(code: str):
    actor = current_actor()
    agreement = service.get_agreement(actor, code)
    return render_template("agreements/agreement_detail.html", agreement=agreement,
                           names=service.region_names(agreement.member_codes),
                           can_edit=service.can_keep_agreement(actor, agreement.member_codes))


def _save(form: AgreementForm, action, agreement=None):
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
            db.session.commit()
            flash(_("协议已保存"), "success")
            return redirect(url_for("agreements.agreement_detail", code=saved.code))
    if request.method == "POST" and status == 200:
        status = 422
    names = service.region_names(_codes_of(form))
    return render_template("agreements/agreement_form.html", form=form, agreement=agreement, leftover=leftover,
                           names=names), status


def _codes_of(form: AgreementForm) -> list[str]:
    from .forms import split_codes

    return split_codes(form.member_codes.data)


@bp.route("/new", methods=["GET", "POST"])
def agreement_create():
    actor = current_actor()
    if not service.can_keep_agreement(actor):
        raise PermissionDenied(_("只有管理员和协调人员可维护协议"))
    form = AgreementForm()
    return _save(form, lambda f: service.create_agreement(actor, f.to_data()))


@bp.route("/<code>/edit", methods=["GET", "POST"])
def agreement_edit(code: str):
    actor = current_actor()
    agreement = service.get_agreement(actor, code)
    if not service.can_keep_agreement(actor, agreement.member_codes):
        raise PermissionDenied(_("只有管理员和协调人员可维护涉及其辖区的协议"))
    form = AgreementForm(obj=agreement)
    del form.code
    if request.method == "GET":
        form.kind.data, form.scope.data = agreement.kind.value, agreement.scope.value
        form.member_codes.data = " ".join(agreement.member_codes)
    return _save(form, lambda f: service.update_agreement(actor, code, f.to_data(with_code=False)), agreement)


@bp.post("/<code>/deactivate")
def agreement_deactivate(code: str):
    service.deactivate_agreement(current_actor(), code)
    db.session.commit()
    flash(_("协议已停止执行"), "success")
    return redirect(url_for("agreements.agreement_detail", code=code))


@bp.post("/<code>/reactivate")
def agreement_reactivate(code: str):
    service.reactivate_agreement(current_actor(), code)
    db.session.commit()
    flash(_("协议已恢复执行"), "success")
    return redirect(url_for("agreements.agreement_detail", code=code))
