"""Legal-aid pages: the centre's queue, the filing form, and an application with its history and actions.

Views translate form data, call the service and commit once; a broken rule comes back as messages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ..auth.current import current_actor
from ..core.actor import Role
from ..core.pagination import paginate
from ..core.shanghai import today_shanghai
from ..documents import service as documents
from ..errors import StateConflict, ValidationFailed
from ..extensions import db
from ..federation.models import FederatedLink
from ..regions.models import Region
from ..registry.models import Organization, OrgKind
from . import service
from .events import EVENT_CODES
from .forms import (
    AcceptForm,
    AssignForm,
    CloseForm,
    DecideForm,
    FileApplicationForm,
    SupplementReceivedForm,
    SupplementRequestForm,
    TransferForm,
)
from .models import ApplicationStatus
from .policy import POLICY

bp = Blueprint("legal_aid", __name__, url_prefix="/legal-aid", template_folder="templates")

# form field -> service field, so a service message lands beside the right input
FILE_FIELDS = {
    "centre_id": "centre_id",
    "applicant.name": "applicant_name",
    "applicant.id_number": "id_number",
    "applicant.phone": "phone",
    "applicant.region_code": "applicant_region_code",
    "applicant.gender": "applicant_gender",
    "applicant.ethnicity": "applicant_ethnicity",
    "applicant.address": "applicant_address",
    "applicant.occupation": "applicant_occupation",
    "matter_category": "matter_category",
    "matter_region_code": "matter_region_code",
    "hardship": "hardship",
    "exempt_group": "exempt_group",
    "summary": "summary",
    "received_on": "received_on",
}


def _regions(codes) -> dict[str, Region]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return {r.code: r for r in db.session.scalars(sa.select(Region).where(Region.code.in_(codes)))}


def _region_names(codes) -> dict[str, str]:
    return {code: region.full_name for code, region in _regions(codes).items()}


def _centre_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    return {centre_id: name for centre_id, name in rows}


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


@bp.get("/applications")
def application_list():
    """The officer's queue (what the centre holds, incoming transfers first; refused, assigned and closed ones
    apart, under 已办理); everyone else's visible list."""
    actor = current_actor()
    page = paginate(service.queue_for(actor), _page_number(), 50)
    passed_on = db.session.scalars(service.passed_on_by(actor).limit(50)).all()
    rows = list(page["items"]) + list(passed_on)
    waiting = [a for a in page["items"] if a.status not in service.HANDLED]
    handled = [a for a in page["items"] if a.status in service.HANDLED]
    return render_template(
        "legal_aid/application_list.html",
        page=page,
        waiting=waiting,
        handled=handled,
        passed_on=passed_on,
        today=today_shanghai(),
        centres=_centre_names([a.centre_id for a in rows] + [a.filed_centre_id for a in rows]),
        regions=_region_names(a.matter_region_code for a in rows),
        can_file=POLICY.allows(actor, "file"),
        is_officer=actor.role == Role.legal_aid_officer,
    )


def _centre_choices(actor) -> list[tuple[int, str]]:
    stmt = sa.select(Organization).where(Organization.kind == OrgKind.legal_aid_centre, Organization.active)
    if not POLICY.everywhere(actor, "file_at"):  # an officer files at its own centre only
        stmt = stmt.where(Organization.id == actor.organization_id)
    return [
        (c.id, c.name)
        for c in db.session.scalars(stmt.order_by(Organization.region_code, Organization.name).limit(500))
    ]


def _filing_data(form: FileApplicationForm) -> dict:
    return {
        "centre_id": form.centre_id.data or None,
        "applicant": {
            "name": form.applicant_name.data,
            "id_number": (form.id_number.data or "").strip(),
            "phone": (form.phone.data or "").strip() or None,
            "region_code": (form.applicant_region_code.data or "").strip() or None,
            "gender": form.applicant_gender.data or None,
            "ethnicity": form.applicant_ethnicity.data,
            "address": form.applicant_address.data,
            "occupation": form.applicant_occupation.data,
        },
        "matter_category": form.matter_category.data,
        "matter_region_code": (form.matter_region_code.data or "").strip(),
        "hardship": form.hardship.data,
        "exempt_group": form.exempt_group.data or None,
        "summary": form.summary.data,
        "received_on": form.received_on.data,
    }


@bp.route("/applications/new", methods=["GET", "POST"])
def file_application():
    """The filing form: an application received at the officer's centre."""
    actor = current_actor()
    POLICY.require(actor, "file")
    form = FileApplicationForm()
    form.centre_id.choices = _centre_choices(actor)
    leftover: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            application = service.file_application(actor, _filing_data(form))
        except ValidationFailed as exc:
            db.session.rollback()
            for field, messages in (exc.errors or {}).items():
                target = getattr(form, FILE_FIELDS.get(field, ""), None)
                if target is not None:
                    target.errors = list(target.errors) + messages
                else:
                    leftover[field] = messages
        else:
            flash(_("已登记法律援助申请 %(number)s", number=application.number), "success")
            return redirect(url_for(".application_detail", application_id=application.id))
    status = 422 if request.method == "POST" else 200
    regions = _regions([form.matter_region_code.data, form.applicant_region_code.data])
    return render_template(
        "legal_aid/application_form.html",
        form=form,
        leftover=leftover,
        regions={c: r.full_name for c, r in regions.items()},
        paths={c: r.path for c, r in regions.items()},
    ), status


# action -> its form class; each posts with the action as its field prefix
ACTION_FORMS: dict[str, type[FlaskForm]] = {
    "transfer": TransferForm,
    "accept": AcceptForm,
    "decide": DecideForm,
    "assign": AssignForm,
    "close": CloseForm,
    "request_supplement": SupplementRequestForm,
    "receive_supplement": SupplementReceivedForm,
}


def _action_forms(application) -> dict:
    forms = {action: form(prefix=action) for action, form in ACTION_FORMS.items()}
    targets = service.transfer_targets(application)
    forms["transfer"].to_centre_id.choices = [(c.id, f"{c.name}（{c.region.full_name}）") for c in targets]
    suggested = service.competent_centre(application.matter_region_code)
    if suggested is not None and suggested.id != application.centre_id:
        forms["transfer"].to_centre_id.data = suggested.id
    return forms


@bp.get("/applications/<int:application_id>")
def application_detail(application_id: int):
    """One application: facts, clocks, hand-overs and events, and the actions the viewer may take now."""
    actor = current_actor()
    application = service.get_application(actor, application_id)
    actions = service.allowed_actions(actor, application)
    suggested = service.competent_centre(application.matter_region_code)
    competent_here = service.is_competent(application.centre_id, application.matter_region_code)
    if competent_here and not any(
        c.id != application.centre_id for c in service.competent_centres(application.matter_region_code)
    ):
        # the competent centre has nobody to pass it on to (and may never send it back)
        actions = [a for a in actions if a != "transfer"]
    centre_ids = (
        [application.centre_id, application.filed_centre_id]
        + [h.from_centre_id for h in application.handovers]
        + [h.to_centre_id for h in application.handovers]
        + [e.centre_id for e in application.events]
    )
    return render_template(
        "legal_aid/application_detail.html",
        application=application,
        actions=actions,
        forms=_action_forms(application) if actions else {},
        today=today_shanghai(),
        centres=_centre_names(centre_ids),
        event_labels=EVENT_CODES,
        suggested=suggested,
        competent_here=competent_here,
        regions=_region_names([application.matter_region_code, application.applicant_region_code]),
        Status=ApplicationStatus,
        documents=documents.list_documents(actor, documents.LEGAL_AID, application.id),
        federation=_federation_facts(application.id),
    )


def _federation_facts(application_id: int) -> dict | None:
    """An application handed over between hubs: the other hub and the decision its centre fed back (None until
    one came; its ``status`` is granted or refused, which ``granted`` says); None for an application that never
    left this hub."""
    link = db.session.scalar(sa.select(FederatedLink).where(FederatedLink.application_id == application_id))
    if link is None:
        return None
    fed_back = link.outcome or {}
    decision = None
    if fed_back.get("decided_on"):
        decision = {
            "decided_on": fed_back["decided_on"],
            "granted": bool(fed_back.get("granted")),
            "refusal_reason": fed_back.get("refusal_reason"),
            "centre": fed_back.get("centre"),
        }
    return {"hub": link.peer_hub, "outgoing": link.outgoing, "decision": decision}


def _act(application_id: int, action: str, call):
    """Run one transition from a posted form; broken rules and conflicts come back as messages."""
    actor = current_actor()
    service.get_application(actor, application_id)  # 404 before anything else
    form = ACTION_FORMS[action](prefix=action)
    if action == "transfer":
        form.to_centre_id.choices = []
    if not form.validate_on_submit():
        for field, messages in form.errors.items():
            label = getattr(form, field).label.text if hasattr(form, field) else field
            flash(_("%(label)s：%(messages)s", label=label, messages=_("；").join(messages)), "error")
        return redirect(url_for(".application_detail", application_id=application_id), code=303)
    try:
        application = call(actor, form)
    except (ValidationFailed, StateConflict) as exc:
        db.session.rollback()
        messages = [m for msgs in (exc.errors or {}).values() for m in msgs] or [exc.message]
        for message in messages:
            flash(message, "error")
    else:
        flash(
            _("申请 %(number)s：%(status)s", number=application.number, status=_(application.status_label)), "success"
        )
    return redirect(url_for(".application_detail", application_id=application_id), code=303)


@bp.post("/applications/<int:application_id>/transfer")
def transfer(application_id: int):
    return _act(
        application_id,
        "transfer",
        lambda actor, form: service.transfer_application(
            actor, application_id, to_centre_id=form.to_centre_id.data, transferred_on=form.transferred_on.data
        ),
    )


@bp.post("/applications/<int:application_id>/accept")
def accept(application_id: int):
    return _act(
        application_id,
        "accept",
        lambda actor, form: service.accept_application(
            actor, application_id, received_on=form.received_on.data, accepted_on=form.accepted_on.data
        ),
    )


@bp.post("/applications/<int:application_id>/decide")
def decide(application_id: int):
    return _act(
        application_id,
        "decide",
        lambda actor, form: service.decide_application(
            actor,
            application_id,
            granted=form.decision.data == "grant",
            reason=form.reason.data,
            decided_on=form.decided_on.data,
        ),
    )


@bp.post("/applications/<int:application_id>/assign")
def assign(application_id: int):
    return _act(
        application_id,
        "assign",
        lambda actor, form: service.assign_lawyer(
            actor, application_id, lawyer_name=form.lawyer_name.data, assigned_on=form.assigned_on.data
        ),
    )


@bp.post("/applications/<int:application_id>/close")
def close(application_id: int):
    return _act(
        application_id,
        "close",
        lambda actor, form: service.close_application(
            actor, application_id, closed_on=form.closed_on.data, note=form.note.data
        ),
    )


@bp.post("/applications/<int:application_id>/supplement-request")
def request_supplement(application_id: int):
    return _act(
        application_id,
        "request_supplement",
        lambda actor, form: service.request_supplement(
            actor, application_id, items=form.items.data, requested_on=form.requested_on.data, due_on=form.due_on.data
        ),
    )


@bp.post("/applications/<int:application_id>/supplement-received")
def receive_supplement(application_id: int):
    return _act(
        application_id,
        "receive_supplement",
        lambda actor, form: service.record_supplement_received(
            actor, application_id, received_on=form.received_on.data
        ),
    )
