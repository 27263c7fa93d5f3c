"""Agreements API: every signed-in role reads; admins and coordinators keep them. The service decides."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..extensions import db
from . import service
from .schemas import AgreementIn, AgreementOut, AgreementPage, AgreementPatch, AgreementQuery

blp = Blueprint("agreements_api", __name__, url_prefix="/api/v1", description="Inter-regional agreements")


@blp.route("/agreements")
class Agreements(MethodView):
    @blp.arguments(AgreementQuery, location="query")
    @blp.response(200, AgreementPage)
    def get(self, args):
        """Agreements, filtered by scope (``both`` counts for either), kind, active flag and a member region."""
        stmt = service.list_agreements(current_actor(), scope=args["scope"], kind=args["kind"],
                                       region_code=args["region_code"], active=args["active"])
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(AgreementIn)
    @blp.response(201, AgreementOut)
    def post(self, data):
        """Record an agreement with its member regions (each covers its whole subtree)."""
        agreement = service.create_agreement(current_actor(), data)
        db.session.commit()
        return agreement


@blp.route("/agreements/<code>")
class AgreementItem(MethodView):
    @blp.response(200, AgreementOut)
    def get(self, code):
        return service.get_agreement(current_actor(), code)

    @blp.arguments(AgreementPatch)
    @blp.response(200, AgreementOut)
    def patch(self, data, code):
        """Change an agreement's terms or members; ``active: false`` takes it out of force."""
        agreement = service.update_agreement(current_actor(), code, data)
        db.session.commit()
        return agreement
