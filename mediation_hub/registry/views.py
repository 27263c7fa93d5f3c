"""Registry pages: organisations, mediators and studios. Views translate; the service decides."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..regions.models import Region
from . import service
from .forms import KIND_LABELS, MediatorForm, OrganizationForm, StudioForm
from .models import MEDIATING_KINDS, OrgKind
from .policy import POLICY

bp = Blueprint("registry", __name__, url_prefix="/registry", template_folder="templates")


@bp.app_template_filter("kind_label")
def kind_label(kind) -> str:
    return str(KIND_LABELS.get(OrgKind(kind), kind))


@bp.app_template_filter("region_name")
def region_name(code: str | None) -> str:
    region = db.session.get(Region, code) if code else None
    return region.full_name if region else ""


# --- helpers -------------------------------------------------------------------------------------------


def _require_writer():
    """The current actor, if it may change the registry (``POLICY "edit"``), else a 403."""
    actor = current_actor()
    POLICY.require(actor, "edit")
    return actor


def _page_args() -> tuple[int, int]:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = request.args.get("per_page", 20, type=int) or 20
    return page, min(max(per_page, 1), 100)


def _listing(build_stmt, template: str, **context):
    """Run a list query with the filters of the query string; an unknown region is a filter error."""
    region_code = (request.args.get("region_code") or "").strip() or None
    try:
        stmt = build_stmt(region_code)
        filter_error = None
    except NotFound:
        stmt, filter_error = build_stmt(None), _("未知的行政区划代码")
    page = paginate(stmt, *_page_args())
    return render_template(
        template,
        page=page,
        region_code=region_code or "",
        filter_error=filter_error,
        can_edit=POLICY.allows(current_actor(), "edit"),
        **context,
    )


def _save(form, action, template: str, done, **context):
    """Validate the form, call the service, commit once; on any failure show the form again with 422."""
    leftover: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            record = action(form)
        except ValidationFailed as exc:
            db.session.rollback()
            leftover = form.attach_errors(exc.errors)
        else:
            flash(_("已保存"), "success")
            return redirect(done(record))
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, leftover=leftover, **context), status


@bp.app_template_filter("region_path")
def _region_path(code: str | None) -> str:
    """The ancestry of a region ('130000/130600/'), for the region picker to show the chosen levels."""
    region = db.session.get(Region, code) if code else None
    return region.path if region else ""


# --- organisations -------------------------------------------------------------------------------------


def _organization_form(actor, obj=None) -> OrganizationForm:
    form = OrganizationForm(obj=obj)
    form.parent_id.choices = [("", "—")] + [
        (o.id, o.name) for o in service.organization_choices(actor) if obj is None or o.id != obj.id
    ]
    if obj is not None and request.method == "GET":
        form.specialties.data = "、".join(obj.specialties or [])
        form.kind.data = obj.kind.value
    return form


@bp.get("/organizations")
def organization_list():
    actor = current_actor()
    kind = request.args.get("kind") or None
    kind = kind if kind in {k.value for k in OrgKind} else None
    q = (request.args.get("q") or "").strip() or None

    def build(region_code):
        return service.list_organizations(actor, region_code=region_code, kind=OrgKind(kind) if kind else None, q=q)

    return _listing(
        build,
        "registry/organization_list.html",
        kind=kind or "",
        q=q or "",
        kinds=KIND_LABELS,
        region_path=_region_path(request.args.get("region_code")),
    )


@bp.get("/organizations/<int:organization_id>")
def organization_detail(organization_id: int):
    actor = current_actor()
    org = service.get_organization(actor, organization_id)
    mediators = db.session.scalars(service.list_mediators(actor, organization_id=org.id).limit(200)).all()
    studios = db.session.scalars(service.list_studios(actor, organization_id=org.id).limit(200)).all()
    return render_template(
        "registry/organization_detail.html",
        org=org,
        mediators=mediators,
        studios=studios,
        can_edit=POLICY.allows(actor, "edit"),
        mediating=org.kind in MEDIATING_KINDS,
    )


@bp.route("/organizations/new", methods=["GET", "POST"])
def organization_create():
    actor = _require_writer()
    form = _organization_form(actor)
    return _save(
        form,
        lambda f: service.create_organization(actor, f.to_data()),
        "registry/organization_form.html",
        lambda org: url_for("registry.organization_detail", organization_id=org.id),
        org=None,
        region_path=_region_path(form.region_code.data),
    )


@bp.route("/organizations/<int:organization_id>/edit", methods=["GET", "POST"])
def organization_edit(organization_id: int):
    actor = current_actor()
    org = service.get_organization(actor, organization_id)
    _require_writer()
    form = _organization_form(actor, org)
    return _save(
        form,
        lambda f: service.update_organization(actor, org.id, f.to_data()),
        "registry/organization_form.html",
        lambda o: url_for("registry.organization_detail", organization_id=o.id),
        org=org,
        region_path=_region_path(form.region_code.data),
    )


# --- mediators -----------------------------------------------------------------------------------------


def _mediator_form(actor, obj=None) -> MediatorForm:
    form = MediatorForm(obj=obj)
    form.organization_id.choices = [("", "—")] + [
        (o.id, o.name) for o in service.organization_choices(actor, kinds=MEDIATING_KINDS)
    ]
    if request.method == "GET":
        form.id_number.data = form.phone.data = ""  # never echo stored numbers into a form
        if obj is not None:
            form.specialties.data = "、".join(obj.specialties or [])
        else:
            form.organization_id.data = request.args.get("organization_id", type=int)
    return form


@bp.get("/mediators")
def mediator_list():
    actor = current_actor()
    organization_id = request.args.get("organization_id", type=int)
    q = (request.args.get("q") or "").strip() or None

    def build(region_code):
        return service.list_mediators(actor, organization_id=organization_id, region_code=region_code, q=q)

    return _listing(
        build,
        "registry/mediator_list.html",
        q=q or "",
        organization_id=organization_id,
        region_path=_region_path(request.args.get("region_code")),
    )


def _render_mediator(mediator_id: int, revealed: dict | None = None):
    actor = current_actor()
    mediator = service.get_mediator(actor, mediator_id)
    studios = [
        s
        for s in db.session.scalars(service.list_studios(actor, organization_id=mediator.organization_id))
        if s.lead_mediator_id == mediator.id
    ]
    response = make_response(
        render_template(
            "registry/mediator_detail.html",
            mediator=mediator,
            studios=studios,
            revealed=revealed,
            can_edit=POLICY.allows(actor, "edit"),
        )
    )
    if revealed:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/mediators/<int:mediator_id>")
def mediator_detail(mediator_id: int):
    return _render_mediator(mediator_id)


@bp.post("/mediators/<int:mediator_id>/reveal")
def mediator_reveal(mediator_id: int):
    """查看完整号码: the full numbers on this response only; the reveal is in the audit log."""
    numbers = service.reveal_mediator_numbers(current_actor(), mediator_id, remote_addr=request.remote_addr)
    response = _render_mediator(mediator_id, revealed=numbers)
    response.headers["X-Personal-Data"] = "revealed"  # marks the audited reveal (tests/pii_guard.py)
    return response


@bp.route("/mediators/new", methods=["GET", "POST"])
def mediator_create():
    actor = _require_writer()
    form = _mediator_form(actor)
    return _save(
        form,
        lambda f: service.create_mediator(actor, f.to_data()),
        "registry/mediator_form.html",
        lambda m: url_for("registry.mediator_detail", mediator_id=m.id),
        mediator=None,
    )


@bp.route("/mediators/<int:mediator_id>/edit", methods=["GET", "POST"])
def mediator_edit(mediator_id: int):
    actor = current_actor()
    mediator = service.get_mediator(actor, mediator_id)
    _require_writer()
    form = _mediator_form(actor, mediator)
    return _save(
        form,
        lambda f: service.update_mediator(actor, mediator.id, f.to_data(editing=True)),
        "registry/mediator_form.html",
        lambda m: url_for("registry.mediator_detail", mediator_id=m.id),
        mediator=mediator,
    )


# --- studios -------------------------------------------------------------------------------------------


def _studio_form(actor, obj=None) -> StudioForm:
    form = StudioForm(obj=obj)
    orgs = service.organization_choices(actor, kinds=MEDIATING_KINDS)
    form.organization_id.choices = [("", "—")] + [(o.id, o.name) for o in orgs]
    mediators = service.mediator_choices(actor)
    form.lead_mediator_id.choices = [("", "—")] + [
        (
            m.id,
            _("%(name)s（%(organization)s）", name=m.name, organization=m.organization.name),
            {"data-organization": m.organization_id},
        )
        for m in mediators
    ]
    form.named_by_id.choices = [("", "—")] + [(o.id, o.name) for o in service.naming_bureau_choices(actor)]
    if request.method == "GET":
        if obj is not None:
            form.specialties.data = "、".join(obj.specialties or [])
        else:
            form.organization_id.data = request.args.get("organization_id", type=int)
    return form


@bp.get("/studios")
def studio_list():
    actor = current_actor()
    organization_id = request.args.get("organization_id", type=int)

    def build(region_code):
        return service.list_studios(actor, organization_id=organization_id, region_code=region_code)

    return _listing(
        build,
        "registry/studio_list.html",
        organization_id=organization_id,
        region_path=_region_path(request.args.get("region_code")),
    )


@bp.get("/studios/<int:studio_id>")
def studio_detail(studio_id: int):
    actor = current_actor()
    studio = service.get_studio(actor, studio_id)
    return render_template("registry/studio_detail.html", studio=studio, can_edit=POLICY.allows(actor, "edit"))


@bp.route("/studios/new", methods=["GET", "POST"])
def studio_create():
    actor = _require_writer()
    form = _studio_form(actor)
    return _save(
        form,
        lambda f: service.create_studio(actor, f.to_data()),
        "registry/studio_form.html",
        lambda s: url_for("registry.studio_detail", studio_id=s.id),
        studio=None,
    )


@bp.route("/studios/<int:studio_id>/edit", methods=["GET", "POST"])
def studio_edit(studio_id: int):
    actor = current_actor()
    studio = service.get_studio(actor, studio_id)
    _require_writer()
    form = _studio_form(actor, studio)
    return _save(
        form,
        lambda f: service.update_studio(actor, studio.id, f.to_data()),
        "registry/studio_form.html",
        lambda s: url_for("registry.studio_detail", studio_id=s.id),
        studio=studio,
    )
