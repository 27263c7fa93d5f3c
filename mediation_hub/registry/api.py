"""Registry API: organisations, mediators, studios. Views translate; the service decides."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..core.uow import as_committed
from . import service
from .schemas import (
    MediatorIn,
    MediatorOut,
    MediatorPage,
    MediatorPatch,
    MediatorQuery,
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
    OrganizationQuery,
    RevealOut,
    StudioIn,
    StudioOut,
    StudioPage,
    StudioPatch,
    StudioQuery,
)

blp = Blueprint("registry_api", __name__, url_prefix="/api/v1", description="Organisations, mediators, studios")


@blp.route("/organizations")
class Organizations(MethodView):
    @blp.arguments(OrganizationQuery, location="query")
    @blp.response(200, OrganizationPage)
    def get(self, args):
        """Organisations in the caller's scope, filtered by region subtree and kind."""
        stmt = service.list_organizations(
            current_actor(), region_code=args["region_code"], kind=args["kind"], q=args["q"]
        )
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(OrganizationIn)
    @blp.response(201, OrganizationOut)
    def post(self, data):
        """Register an organisation."""
        org = service.create_organization(current_actor(), data)
        return as_committed(org)


@blp.route("/organizations/<int:organization_id>")
class OrganizationItem(MethodView):
    @blp.response(200, OrganizationOut)
    def get(self, organization_id):
        return service.get_organization(current_actor(), organization_id)

    @blp.arguments(OrganizationPatch)
    @blp.response(200, OrganizationOut)
    def patch(self, data, organization_id):
        org = service.update_organization(current_actor(), organization_id, data)
        return as_committed(org)


@blp.route("/mediators")
class Mediators(MethodView):
    @blp.arguments(MediatorQuery, location="query")
    @blp.response(200, MediatorPage)
    def get(self, args):
        """Mediators in the caller's scope; ID numbers and phones masked."""
        stmt = service.list_mediators(
            current_actor(), organization_id=args["organization_id"], region_code=args["region_code"], q=args["q"]
        )
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(MediatorIn)
    @blp.response(201, MediatorOut)
    def post(self, data):
        mediator = service.create_mediator(current_actor(), data)
        return as_committed(mediator)


@blp.route("/mediators/<int:mediator_id>")
class MediatorItem(MethodView):
    @blp.response(200, MediatorOut)
    def get(self, mediator_id):
        return service.get_mediator(current_actor(), mediator_id)

    @blp.arguments(MediatorPatch)
    @blp.response(200, MediatorOut)
    def patch(self, data, mediator_id):
        mediator = service.update_mediator(current_actor(), mediator_id, data)
        return as_committed(mediator)


@blp.route("/mediators/<int:mediator_id>/reveal")
class MediatorReveal(MethodView):
    @blp.response(200, RevealOut)
    def post(self, mediator_id):
        """The full ID number and phone; recorded in the audit log."""
        numbers = service.reveal_mediator_numbers(current_actor(), mediator_id, remote_addr=request.remote_addr)
        return numbers, {"X-Personal-Data": "revealed"}  # marks the audited reveal (tests/pii_guard.py)


@blp.route("/studios")
class Studios(MethodView):
    @blp.arguments(StudioQuery, location="query")
    @blp.response(200, StudioPage)
    def get(self, args):
        stmt = service.list_studios(
            current_actor(), organization_id=args["organization_id"], region_code=args["region_code"]
        )
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(StudioIn)
    @blp.response(201, StudioOut)
    def post(self, data):
        studio = service.create_studio(current_actor(), data)
        return as_committed(studio)


@blp.route("/studios/<int:studio_id>")
class StudioItem(MethodView):
    @blp.response(200, StudioOut)
    def get(self, studio_id):
        return service.get_studio(current_actor(), studio_id)

    @blp.arguments(StudioPatch)
    @blp.response(200, StudioOut)
    def patch(self, data, studio_id):
        studio = service.update_studio(current_actor(), studio_id, data)
        return as_committed(studio)
