"""Case pages: the mediator's worklist, registration, the case page with its allowed actions, the searchable
list and its export. Views read the form, call one service function and redirect; the request commits once."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from ..auth.current import current_actor
from ..core.actor import Actor
from ..core.export import file_response
from ..core.filters import provisional_mark
from ..core.i18n import N_
from ..core.pagination import paginate
from ..core.shanghai import today_shanghai
from ..core.uow import writing
from ..documents import service as documents
from ..errors import StateConflict, ValidationFailed
from ..exports import service as exports
from ..exports.models import ExportJob
from ..extensions import db
from ..notifications import service as notifications
from ..notifications.models import Notification
from ..regions.models import Region
from ..registry.models import MEDIATING_KINDS, Mediator, Organization, Studio
from ..registry.service import studios_visible_to
from . import service
from .events import EVENT_CODES, event_actor
from .export import FORMATS, audit_filters
from .forms import (
    ACTION_FORMS,
    PARTY_KIND_LABELS,
    PARTY_ROLE_LABELS,
    ActionForm,
    CaseFilterForm,
    PartyForm,
    RegisterCaseForm,
    RevealForm,
)
from .models import Case, CaseCategory, CaseSource, ConfirmationStatus, Outcome
from .policy import POLICY
from .rules import (
    ACTION_LABELS,
    AGREEMENT_FORM_LABELS,
    DUPLICATE_WINDOW_DAYS,
    FOLLOW_UP_METHOD_LABELS,
    GENDER_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
)
from .service.scope import PERSON_HASH
from .service.transitions import unavailable_actions

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")

CONFIRMATION_LABELS = {
    ConfirmationStatus.none: _l("未申请"),
    ConfirmationStatus.applied: _l("已申请"),
    ConfirmationStatus.confirmed: _l("已确认"),
    ConfirmationStatus.rejected: _l("已驳回"),
}


@bp.context_processor
def _labels():
    return {
        "status_labels": STATUS_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "action_labels": ACTION_LABELS,
        "event_labels": EVENT_CODES,
        "event_actor": event_actor,
        "party_role_labels": PARTY_ROLE_LABELS,
        "party_kind_labels": PARTY_KIND_LABELS,
        "confirmation_labels": CONFIRMATION_LABELS,
        "region_path": _region_path,
        "region_full_name": _region_full_name,
        "yuan": _yuan,
        "gender_labels": GENDER_LABELS,
        "agreement_form_labels": AGREEMENT_FORM_LABELS,
        "follow_up_method_labels": FOLLOW_UP_METHOD_LABELS,
    }


def _yuan(value) -> str:
    """An amount in yuan with two decimals (values may still be strings before a reload)."""
    return "" if value is None else f"{Decimal(str(value)):.2f}"


def _region_path(code: str | None) -> str:
    region = db.session.get(Region, code) if code else None
    return region.path if region else ""


def _region_full_name(code: str | None) -> str:
    region = db.session.get(Region, code) if code else None
    return region.full_name if region else (code or "")


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


# --- worklist ------------------------------------------------------------------------------------------


def _unread_notifications(actor: Actor, limit: int = 5) -> tuple[list[Notification], int]:
    """The newest unread notices addressed to the user (or their organisation), and how many there are."""
    rows = db.session.scalars(notifications.notifications_for(actor, unread_only=True).limit(limit)).all()
    return list(rows), notifications.unread_count(actor)


@bp.get("/worklist")
def worklist():
    """Open cases of the user's organisation, nearest deadline first, overdue ones marked."""
    actor = current_actor()
    page = paginate(service.worklist(actor).options(*service.LIST_LOADING), _page_number(), 50)
    notes, unread = _unread_notifications(actor)
    notifications_url = (
        url_for("notifications.notification_list")
        if "notifications.notification_list" in current_app.view_functions
        else None
    )
    today = today_shanghai()
    rows = [
        {"case": c, "overdue": service.is_overdue(c, today), "days_left": (c.due_on - today).days if c.due_on else None}
        for c in page["items"]
    ]
    return render_template(
        "cases/worklist.html",
        page=page,
        rows=rows,
        notifications=notes,
        unread=unread,
        notifications_url=notifications_url,
    )


# --- registration --------------------------------------------------------------------------------------


def _with_organization(name: str, organization: Organization) -> str:
    """老王调解工作室（保定市竞秀区人民调解委员会）: a choice named with its organisation."""
    return _("%(name)s（%(organization)s）", name=name, organization=organization.name)


def _registration_choices(form: RegisterCaseForm, actor: Actor) -> None:
    form.category.choices = [
        (c.code, c.name) for c in db.session.scalars(sa.select(CaseCategory).order_by(CaseCategory.position))
    ]
    form.source.choices = [
        (s.code, s.name) for s in db.session.scalars(sa.select(CaseSource).order_by(CaseSource.position))
    ]
    anywhere = POLICY.everywhere(actor, "register_for")  # else only for the actor's own organisation
    if anywhere:
        orgs = db.session.scalars(
            sa.select(Organization)
            .where(Organization.kind.in_(MEDIATING_KINDS), Organization.active)
            .order_by(Organization.name)
        ).all()
        form.organization_id.choices = [("", _("请选择"))] + [(o.id, o.name) for o in orgs]
        org_filter: sa.ColumnElement[bool] = sa.true()
    else:
        form.organization_id.choices = []
        org_filter = Studio.organization_id == actor.organization_id
    studios = db.session.scalars(sa.select(Studio).where(org_filter, Studio.active).order_by(Studio.name)).all()
    mediator_filter = sa.true() if anywhere else Mediator.organization_id == actor.organization_id
    mediators = db.session.scalars(
        sa.select(Mediator).where(mediator_filter, Mediator.active).order_by(Mediator.organization_id, Mediator.name)
    ).all()
    if anywhere:  # choices from every organisation: name the organisation too
        form.studio_id.choices = [("", _("无"))] + [(s.id, _with_organization(s.name, s.organization)) for s in studios]
        form.mediator_ids.choices = [(m.id, _with_organization(m.name, m.organization)) for m in mediators]
    else:
        form.studio_id.choices = [("", _("无"))] + [(s.id, s.name) for s in studios]
        form.mediator_ids.choices = [(m.id, m.name) for m in mediators]


def _attach_registration_errors(form: RegisterCaseForm, errors: dict, positions: list[int]) -> dict:
    """Put each ``field`` / ``parties.N.field`` message next to its input; return the ones with no input."""
    leftover: dict[str, list[str]] = {}
    for key, messages in errors.items():
        parts = key.split(".")
        field = None
        if parts[0] == "parties" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(positions):
            party_form = form.parties.entries[positions[int(parts[1])]].form
            name = "number" if parts[2] in ("id_number", "uscc") else parts[2]
            field = party_form._fields.get(name)
        elif key != "parties" and key in form:
            field = form[key]
        if field is None:
            leftover[key] = messages
        else:
            field.errors = list(field.errors) + list(messages)
    return leftover


SPARE_PARTY_FIELDSETS = 4


def _party_slots(form: RegisterCaseForm) -> list[dict]:
    """The party fieldsets with the index in their field names (a re-shown form keeps the submitted
    numbering, gaps included), then spare ones numbered after them for "添加当事人"."""
    entries = form.parties.entries
    indices = [int(entry.name.rsplit("-", 1)[1]) for entry in entries]
    slots: list[dict] = [
        {"form": entry.form, "index": index, "spare": False} for entry, index in zip(entries, indices, strict=True)
    ]
    start = max(indices) + 1
    for index in range(start, start + SPARE_PARTY_FIELDSETS):
        slots.append({"form": PartyForm(prefix=f"{form.parties.name}-{index}-"), "index": index, "spare": True})
    return slots


def _render_registration(
    form: RegisterCaseForm,
    actor: Actor,
    leftover: dict | None = None,
    status: int = 200,
    duplicates: service.DuplicateCheck | None = None,
    duplicates_changed: bool = False,
):
    own = db.session.get(Organization, actor.organization_id) if actor.organization_id else None
    return render_template(
        "cases/register.html",
        form=form,
        own_organization=own,
        leftover=leftover or {},
        choose_organization=POLICY.everywhere(actor, "register_for"),
        party_slots=_party_slots(form),
        duplicates=duplicates,
        duplicate_days=DUPLICATE_WINDOW_DAYS,
        duplicates_seen=_duplicates_digest(duplicates) if duplicates else "",
        duplicates_changed=duplicates_changed,
    ), status


def _duplicates_digest(check: service.DuplicateCheck) -> str:
    """What the duplicate warning showed, as the page carries it back with "仍然登记": a keyed digest of the
    candidate case ids (another organisation's included, which the page only counts; keyed, so the digest does
    not tell those ids)."""
    ids = ",".join(str(case_id) for case_id in sorted(check.case_ids))
    return hmac.new(_secret_key(), f"duplicates:{ids}".encode(), hashlib.sha256).hexdigest()


def _secret_key() -> bytes:
    """The app's SECRET_KEY as bytes (Flask takes either str or bytes)."""
    secret = current_app.secret_key
    if secret is None:
        raise RuntimeError("SECRET_KEY is not set")
    return secret.encode() if isinstance(secret, str) else secret


def _register(actor: Actor, data: dict, seen: str | None) -> tuple[Case, list[dict]]:
    """Register, stopping at a possible duplicate unless ``seen`` (the digest the person confirmed with
    "仍然登记") names exactly the candidates found now: a candidate that appeared (or went) meanwhile shows the
    warning again. The stop happens before anything is written, so registering after it is the same attempt."""
    try:
        return service.register_case(actor, data, stop_on_duplicate=True)
    except service.PossibleDuplicate as exc:
        if not seen or not hmac.compare_digest(seen, _duplicates_digest(exc.check)):
            raise
    return service.register_case(actor, data)


@bp.route("/new", methods=["GET", "POST"])
def register_case():
    """One form for the dispute and its parties. A possible duplicate (an open case of the last 90 days with one
    of the parties) is shown before anything is saved (409, the form kept), with "仍然登记" to go on for the
    candidates shown: if they changed meanwhile, the warning is shown again."""
    actor = current_actor()
    if request.method == "GET":
        form = RegisterCaseForm(data={"parties": [{"role": "applicant"}, {"role": "respondent"}]})
        _registration_choices(form, actor)
        return _render_registration(form, actor)
    form = RegisterCaseForm()
    _registration_choices(form, actor)
    if not form.validate():
        return _render_registration(form, actor, status=422)
    data, positions = form.to_data()
    seen = (request.form.get("duplicates_seen") or "").strip() if form.confirm_duplicate.data else None
    try:
        case, warnings = _register(actor, data, seen)
    except service.PossibleDuplicate as exc:
        db.session.rollback()
        return _render_registration(form, actor, status=409, duplicates=exc.check, duplicates_changed=bool(seen))
    except ValidationFailed as exc:
        db.session.rollback()
        leftover = _attach_registration_errors(form, exc.errors or {}, positions)
        flash(_("登记未成功，请按提示修改"), "error")
        return _render_registration(form, actor, leftover, status=422)
    number, case_id = case.number, case.id
    flash(_("已登记案件 %(number)s", number=number) + (_("（跨区域纠纷）") if case.cross_region else ""), "success")
    for warning in warnings:
        if warning.get("visible"):
            link = url_for("cases.case_detail", case_id=warning["case_id"])
            number_link = Markup('<a href="{}">{}</a>').format(link, warning["number"])
            # the translated sentence is escaped, then the link (built safely above) takes its number's place
            flash(
                escape(_("可能重复：未结案件 %(number)s 涉及同一当事人，请核实。", number="\x00")).replace(
                    "\x00", number_link
                ),
                "warning",
            )
        else:
            flash(warning["message"], "warning")
    return redirect(url_for("cases.case_detail", case_id=case_id))


# --- the case page -------------------------------------------------------------------------------------


def _mediator_choices(case: Case) -> list[tuple]:
    mediators = db.session.scalars(
        sa.select(Mediator)
        .where(Mediator.organization_id == case.organization_id, Mediator.active)
        .order_by(Mediator.name)
    ).all()
    return [("", "—")] + [(m.id, m.name) for m in mediators]


def _session_mediator(case: Case, choices: list[tuple]) -> int | None:
    """Who held the session, as first offered: the signed-in mediator when registered with the handling
    organisation, otherwise the case's lead mediator."""
    offered = {value for value, _label in choices}
    lead = next((m.mediator_id for m in case.mediators if m.lead), None)
    for candidate in (getattr(current_user, "mediator_id", None), lead):
        if candidate in offered:
            return candidate
    return None


def _signed_in_name() -> str | None:
    """The signed-in person's name as the 回访记录 names them (回访人), offered on the form to keep or change:
    the account's display name, else the name of the mediator it is linked to; None when it names nobody."""
    if not current_user.is_authenticated:
        return None
    name = (current_user.display_name or "").strip()
    if not name and current_user.mediator_id:
        mediator = db.session.get(Mediator, current_user.mediator_id)
        name = mediator.name if mediator is not None else ""
    return name or None


def _action_forms(case: Case, actions: list[str], bound: tuple[str, ActionForm] | None) -> dict[str, ActionForm]:
    forms = {}
    for action in actions:
        form: ActionForm
        if bound is not None and bound[0] == action:
            fresh, form = False, bound[1]
        else:
            fresh, form = True, ACTION_FORMS[action](prefix=action, formdata=None)
            form.version.data = str(case.version)  # a hidden field's data is text, as a posted form gives it back
        if action in ("accept", "record_session"):
            form.mediator_id.choices = _mediator_choices(case)
        if action == "record_session" and fresh:
            form.mediator_id.data = _session_mediator(case, form.mediator_id.choices)
        if action == "record_follow_up" and fresh:
            form.visitor.data = _signed_in_name()
        forms[action] = form
    return forms


def _reminders(case: Case) -> list[dict]:
    """The judicial-confirmation window and the follow-up visit, while they are still to be done."""
    today, reminders = today_shanghai(), []
    if (
        case.outcome == Outcome.agreement
        and case.confirmation_status == ConfirmationStatus.none
        and case.confirmation_deadline
    ):
        left = (case.confirmation_deadline - today).days
        reminders.append(
            {
                "kind": "confirmation",
                "late": left < 0,
                "text": (
                    _(
                        "司法确认申请截止 %(day)s%(mark)s，",
                        day=case.confirmation_deadline.isoformat(),
                        mark=provisional_mark(case.confirmation_deadline_provisional),
                    )
                    + (_("剩余 %(days)s 天", days=left) if left >= 0 else _("已过期 %(days)s 天", days=-left))
                ),
            }
        )
    if case.follow_up_due_on and not case.follow_ups:
        left = (case.follow_up_due_on - today).days
        reminders.append(
            {
                "kind": "follow_up",
                "late": left < 0,
                "text": (
                    _(
                        "回访截止 %(day)s%(mark)s，",
                        day=case.follow_up_due_on.isoformat(),
                        mark=provisional_mark(case.follow_up_due_on_provisional),
                    )
                    + (_("剩余 %(days)s 天", days=left) if left >= 0 else _("已过期 %(days)s 天", days=-left))
                ),
            }
        )
    return reminders


def _render_case(
    case_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    bound: tuple[str, ActionForm] | None = None,
    revealed: dict | None = None,
):
    actor = current_actor()
    case = service.get_case(actor, case_id, page=True)
    # An organisation that handed the case over reads it only: a banner, no actions, no reminders of work.
    read_only = service.only_reads(actor, case)
    handover = service.handovers(actor, [case.id]).get(case.id) if read_only else None
    actions = service.allowed_actions(case) if POLICY.allows(actor, "handle", case) else []
    mediator_names = {m.mediator_id: m.mediator.name for m in case.mediators}
    if case.sessions:
        ids = {s.mediator_id for s in case.sessions if s.mediator_id} - set(mediator_names)
        mediator_names.update(
            {m.id: m.name for m in db.session.scalars(sa.select(Mediator).where(Mediator.id.in_(ids)))} if ids else {}
        )
    response = render_template(
        "cases/detail.html",
        case=case,
        actions=actions,
        forms=_action_forms(case, actions, bound),
        events=case.events,
        reminders=[] if read_only else _reminders(case),
        error=error,
        revealed=revealed or {},
        read_only=read_only,
        handover=handover,
        can_reveal=POLICY.allows(actor, "reveal_party", case),
        reveal_form=RevealForm(),
        overdue=service.is_overdue(case, today_shanghai()),
        mediator_names=mediator_names,
        unavailable=unavailable_actions(case) if actions else [],
        documents=documents.list_documents(actor, documents.CASE, case.id),
    )
    return response, status


@bp.get("/<int:case_id>")
def case_detail(case_id: int):
    """Facts, parties (masked), timeline, sessions, follow-ups and the actions allowed now."""
    return _render_case(case_id)


@bp.post("/<int:case_id>/parties/<int:party_id>/reveal")
def reveal_party(case_id: int, party_id: int):
    """Show one party's full numbers once, on this response only (audited by the service)."""
    if not RevealForm().validate_on_submit():
        abort(400)
    revealed = service.reveal_party_numbers(current_actor(), case_id, party_id, remote_addr=request.remote_addr)
    body, status = _render_case(case_id, revealed={party_id: revealed})
    return body, status, {"X-Personal-Data": "revealed"}  # marks the audited reveal (tests/pii_guard.py)


@dataclass(frozen=True)
class CaseAction:
    """How one page action reaches its one service function."""

    slug: str
    call: Callable
    done: str


def _bool_or_none(value):
    return value if isinstance(value, bool) else None


def _agreement_form(form) -> str | None:
    """The conclusion form's 协议形式, read only with an agreement: the select always holds a choice (书面 first),
    and cases.js hides it for another outcome, but a page without scripts still sends it."""
    return (form.agreement_form.data or None) if form.outcome.data == Outcome.agreement.value else None


CASE_ACTIONS: dict[str, CaseAction] = {
    "accept": CaseAction(
        "accept",
        lambda a, cid, f: service.accept_case(
            a, cid, mediator_id=f.mediator_id.data, accepted_on=f.accepted_on.data, version=f.version_value()
        ),
        N_("已受理"),
    ),
    "decline": CaseAction(
        "decline",
        lambda a, cid, f: service.decline_case(
            a, cid, reason=f.reason.data or "", declined_on=f.declined_on.data, version=f.version_value()
        ),
        N_("已决定不予受理"),
    ),
    "record_session": CaseAction(
        "sessions",
        lambda a, cid, f: service.record_session(
            a,
            cid,
            held_on=f.held_on.data,
            summary=f.summary.data or "",
            mediator_id=f.mediator_id.data,
            place=f.place.data,
            attendees=f.attendees.data,
            recorder=f.recorder.data,
            version=f.version_value(),
        ),
        N_("已记录调解情况"),
    ),
    "conclude": CaseAction(
        "conclude",
        lambda a, cid, f: service.conclude_case(
            a,
            cid,
            outcome=f.outcome.data,
            concluded_on=f.concluded_on.data,
            agreement_amount_yuan=f.agreement_amount_yuan.data,
            terms=(f.terms.data or "").strip() or None,
            performed=_bool_or_none(f.performed.data),
            agreement_form=_agreement_form(f),
            version=f.version_value(),
        ),
        N_("已办结"),
    ),
    "extend_time_limit": CaseAction(
        "extend",
        lambda a, cid, f: service.extend_time_limit(
            a, cid, days=f.days.data, consent_note=f.consent_note.data or "", version=f.version_value()
        ),
        N_("已延长办理期限"),
    ),
    "apply_for_confirmation": CaseAction(
        "confirmation",
        lambda a, cid, f: service.apply_for_confirmation(
            a, cid, applied_on=f.applied_on.data, court=f.court.data, version=f.version_value()
        ),
        N_("已记录司法确认申请"),
    ),
    "record_confirmation_result": CaseAction(
        "confirmation-result",
        lambda a, cid, f: service.record_confirmation_result(
            a, cid, confirmed=f.confirmed.data, decided_on=f.decided_on.data, version=f.version_value()
        ),
        N_("已记录司法确认结果"),
    ),
    "record_follow_up": CaseAction(
        "follow-ups",
        lambda a, cid, f: service.record_follow_up(
            a,
            cid,
            visited_on=f.visited_on.data,
            summary=f.summary.data or "",
            performed=_bool_or_none(f.performed.data),
            method=f.method.data or None,
            visitor=f.visitor.data,
            version=f.version_value(),
        ),
        N_("已记录回访"),
    ),
}


def _attach_action_errors(form, errors: dict) -> list[str]:
    leftover: list[str] = []
    for key, messages in errors.items():
        if key in form and key != "version":
            form[key].errors = list(form[key].errors) + list(messages)
        else:
            leftover.extend(f"{key}: {m}" for m in messages)
    return leftover


def _perform(action: str, case_id: int):
    """Read the action's form, call its service function (the request commits); a 409 or 422 shows the case page
    again."""
    spec = CASE_ACTIONS[action]
    form = ACTION_FORMS[action](prefix=action)
    if action in ("accept", "record_session"):
        form.mediator_id.choices = [("", "—")]
    if not form.validate_on_submit():
        return _render_case(case_id, status=422, error=_("输入有误，请按提示修改"), bound=(action, form))
    try:
        spec.call(current_actor(), case_id, form)
    except ValidationFailed as exc:
        db.session.rollback()
        leftover = _attach_action_errors(form, exc.errors or {})
        message = _("输入有误，请按提示修改") + (_("：") + _("；").join(leftover) if leftover else "")
        return _render_case(case_id, status=422, error=message, bound=(action, form))
    except StateConflict as exc:
        db.session.rollback()
        return _render_case(case_id, status=409, error=exc.message)
    flash(_(spec.done), "success")
    return redirect(url_for("cases.case_detail", case_id=case_id) + f"#{action}-done")


def _register_action_routes() -> None:
    for action, spec in CASE_ACTIONS.items():

        def view(case_id: int, _action=action):
            return _perform(_action, case_id)

        view.__name__ = action
        view.__doc__ = f"{ACTION_LABELS[action]} ({action})."
        bp.add_url_rule(f"/<int:case_id>/{spec.slug}", endpoint=action, view_func=view, methods=["POST"])


_register_action_routes()


# --- list, search, export ------------------------------------------------------------------------------


def _filter_form(actor: Actor) -> CaseFilterForm:
    form = CaseFilterForm(request.args)
    form.category.choices = [("", _("全部"))] + [
        (c.code, c.name) for c in db.session.scalars(sa.select(CaseCategory).order_by(CaseCategory.position))
    ]
    studios = db.session.scalars(studios_visible_to(actor).order_by(Studio.name)).all()
    form.studio_id.choices = [("", _("全部"))] + [(s.id, s.name) for s in studios]
    form.validate()
    return form


def _transferred_out() -> bool:
    """The "已转出" tab: the cases the user's organisation handed over (``transferred_out=1``)."""
    return request.args.get("transferred_out") in ("1", "true")


def _list_filters(form: CaseFilterForm) -> dict:
    return {**form.filters(), "transferred_out": _transferred_out() or None}


def _filtered_cases(actor: Actor, form: CaseFilterForm) -> sa.Select:
    """The search for the form's filters; an unknown region is shown next to its field and ignored."""
    filters = _list_filters(form)
    try:
        return service.search_cases(actor, **filters)
    except ValidationFailed as exc:
        db.session.rollback()
        for key, messages in (exc.errors or {}).items():
            if key in form:
                form[key].errors = list(form[key].errors) + list(messages)
            filters[key] = None
        return service.search_cases(actor, **filters)


# The query-string names of the list's filters (the form's fields); ``q`` and ``pid`` are handled apart.
LIST_FILTERS = ("status", "category", "date_from", "date_to", "region_code", "studio_id", "overdue", "transferred_out")
LISTS_BY_QUERY = ("cases.case_list", "cases.export_case_list")


def _list_args(data, *, signed_in: bool = True) -> dict:
    """The list's query string for filters read from ``data`` (a posted form or a query string), with a full
    ID number or phone in ``q`` replaced by its keyed hash ``pid`` and shown masked in ``q``. A ``pid`` already
    there is kept while ``q`` still shows a masked number (the box left as the last search filled it); a number
    in any other filter is no filter value and is left out."""
    args = {
        name: data[name] for name in LIST_FILTERS if data.get(name) and not service.carries_personal_number(data[name])
    }
    q, pid = (data.get("q") or "").strip(), (data.get("pid") or "").strip()
    searched = service.searched_number(q)
    if searched and not signed_in:  # the keyed hash is computed for signed-in users only: no oracle for others
        return args
    if searched:
        args.update(q=searched.masked, pid=searched.hash)
    elif q:
        args["q"] = service.masked_text(q)
        if "*" in q and PERSON_HASH.fullmatch(pid):
            args["pid"] = pid
    return args


@bp.before_app_request
def _no_personal_number_in_list_urls():
    """A list or export URL with a full ID number or phone in ``q`` (an old link, a typed address) is answered
    with a redirect to the same URL carrying the keyed hash instead, before anything else sees it: not the
    sign-in redirect's ``next``, the page, its links, the audit log or an export job. (The web server's own
    access log has already written the address once.)"""
    if request.method != "GET" or request.endpoint not in LISTS_BY_QUERY:
        return None
    if not any(service.carries_personal_number(value) for value in request.args.values()):
        return None
    args = _list_args(request.args, signed_in=current_user.is_authenticated)
    args.update({name: request.args[name] for name in ("page", "per_page") if request.args.get(name, "").isdigit()})
    return redirect(url_for(request.endpoint, **(request.view_args or {}), **args), 303)


@bp.post("")
def search_case_list():
    """The filter form, posted so that an ID number or phone typed into it never enters a URL: answered with
    a redirect (303) to the list, bookmarkable, where the number is its keyed hash and shows masked."""
    return redirect(url_for("cases.case_list", **_list_args(request.form)), 303)


@bp.get("")
def case_list():
    """All cases the user may see, filtered and paginated, with export links carrying the same filters."""
    actor = current_actor()
    form = _filter_form(actor)
    stmt = _filtered_cases(actor, form)
    page = paginate(stmt.options(*service.LIST_LOADING), _page_number(), request.args.get("per_page", 20, type=int))
    today = today_shanghai()
    transferred_out = _transferred_out()
    handed = service.handovers(actor, [c.id for c in page["items"]]) if transferred_out else {}
    rows = [{"case": c, "overdue": service.is_overdue(c, today), "handover": handed.get(c.id)} for c in page["items"]]
    export_args = {k: v for k, v in request.args.items() if k not in ("page", "per_page", "pid") and v}
    if form.searched_hash():
        export_args["pid"] = form.searched_hash()
    return render_template(
        "cases/list.html", form=form, page=page, rows=rows, export_args=export_args, transferred_out=transferred_out
    )


def _export_filters(actor: Actor, form: CaseFilterForm) -> dict:
    """The filters as the list passes them to the search (``_filtered_cases``): one the search refuses (an
    unknown region) left out, as the list leaves it out."""
    filters = _list_filters(form)
    try:
        service.search_cases(actor, **filters)
    except ValidationFailed as exc:
        db.session.rollback()
        filters.update(dict.fromkeys(exc.errors or {}, None))
    return filters


@bp.get("/export.<fmt>")
def export_case_list(fmt: str):
    """The filtered list (same query string as the list page) as xlsx or csv, recorded in the audit log once
    the file is complete. Up to ``EXPORT_STREAM_ROWS`` cases the finished file is the answer; a longer list is
    written by a background job, and the answer is a redirect to its progress page (the download once done)."""
    if fmt not in FORMATS:
        abort(404)
    actor = current_actor()
    filters = _export_filters(actor, _filter_form(actor))
    with writing():  # a GET that writes: the audit row, or the queued job (whose thread starts once committed)
        export = exports.export_case_list(
            actor, fmt=fmt, filters=filters, audit_filters=audit_filters(filters), remote_addr=request.remote_addr
        )
        if isinstance(export, ExportJob):
            exports.start(current_app._get_current_object(), export.id)  # type: ignore[attr-defined]  # the proxy's own method
    if isinstance(export, ExportJob):
        return redirect(url_for("exports.export_job", export_id=export.id), 303)
    return file_response(export.file, export.filename, export.mimetype)
