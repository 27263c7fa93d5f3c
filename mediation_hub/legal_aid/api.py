"""Legal-aid API: applications and their transitions. Views translate; the service decides."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..core.shanghai import today_shanghai
from ..core.uow import flushed
from . import service
from .schemas import (
    ApplicationPage,
    LegalAidAcceptIn,
    LegalAidApplicationDetailOut,
    LegalAidApplicationIn,
    LegalAidApplicationQuery,
    LegalAidAssignIn,
    LegalAidCloseIn,
    LegalAidDecideIn,
    LegalAidSupplementReceivedIn,
    LegalAidSupplementRequestIn,
    LegalAidTransferIn,
)

blp = Blueprint(
    "legal_aid_api",
    __name__,
    url_prefix="/api/v1/legal-aid",
    description="Legal-aid applications and the 通办 hand-over to the competent centre",
)


def _detail(application):
    """The application as the caller sees it, with the actions the caller may start now (``allowed_actions``).

    Loaded with its detail (``detail=True``: its lists and the people named in them); a transition keeps it whole,
    so the answer is the state the request commits and reads nothing after the write."""
    application.allowed_actions = service.allowed_actions(current_actor(), application)
    return application


@blp.route("/applications")
class Applications(MethodView):
    @blp.arguments(LegalAidApplicationQuery, location="query")
    @blp.response(200, ApplicationPage)
    def get(self, args):
        """Applications in the caller's scope; applicant numbers masked."""
        stmt = service.list_applications(
            current_actor(),
            status=args["status"],
            centre_id=args["centre_id"],
            overdue_on=today_shanghai() if args["overdue"] else None,
        )
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(LegalAidApplicationIn)
    @blp.response(201, LegalAidApplicationDetailOut)
    def post(self, data):
        """File an application at a legal-aid centre (yours, for an officer)."""
        application = service.file_application(current_actor(), data)
        return _detail(flushed(application))  # a new row: its columns set, its hand-overs and event listed


@blp.route("/applications/<int:application_id>")
class ApplicationItem(MethodView):
    @blp.response(200, LegalAidApplicationDetailOut)
    def get(self, application_id):
        """One application with its hand-overs and events."""
        return _detail(service.get_application(current_actor(), application_id, detail=True))


@blp.route("/applications/<int:application_id>/transfer")
class TransferApplication(MethodView):
    @blp.arguments(LegalAidTransferIn)
    @blp.response(200, LegalAidApplicationDetailOut)
    def post(self, data, application_id):
        """Hand over to the competent centre under 通办 (never back to a centre that passed it on)."""
        application = service.transfer_application(current_actor(), application_id, **data, detail=True)
        return _detail(flushed(application))


@blp.route("/applications/<int:application_id>/accept")
class AcceptApplication(MethodView):
    @blp.arguments(LegalAidAcceptIn)
    @blp.response(200, LegalAidApplicationDetailOut)
    def post(self, data, application_id):
        """Accept at the competent centre; decide_by is 7 days after receipt (art. 43)."""
        application = service.accept_application(current_actor(), application_id, **data, detail=True)
        return _detail(flushed(application))


@blp.route("/applications/<int:application_id>/decide")
class DecideApplication(MethodView):
    @blp.arguments(LegalAidDecideIn)
    @blp.response(200, LegalAidApplicationDetailOut)
    def post(self, data, application_id):
        """Grant (assign_by 3 days later) or refuse with written reasons."""
        application = service.decide_application(current_actor(), application_id, **data, detail=True)
        return _detail(flushed(application))


@blp.route("/applications/<int:application_id>/assign")
class AssignLawyer(MethodView):
    @blp.arguments(LegalAidAssignIn)
    @blp.response(200, LegalAidApplicationDetailOut)
    def post(self, data, application_id):
        """Record the assigned lawyer."""
        application = service.assign_lawyer(current_actor(), application_id, **data, detail=True)
        return _detail(flushed(application))


@blp.route("/applications/<int:application_id>/close")
class CloseApplication(MethodView):
    @blp.arguments(LegalAidCloseIn)
    @blp.response(200, LegalAidApplicationDetailOut)
    def post(self, data, application_id):
        """Close an assigned application."""
        application = service.close_application(current_actor(), application_id, **data, detail=True)
        return _detail(flushed(application))


@blp.route("/applications/<int:application_id>/supplement-request")
class RequestSupplement(MethodView):
    @blp.arguments(LegalAidSupplementRequestIn)
    @blp.response(200, LegalAidApplicationDetailOut)
    def post(self, data, application_id):
        """Tell the applicant once which materials to supplement or what to explain (art. 43 para. 2)."""
        application = service.request_supplement(current_actor(), application_id, **data, detail=True)
        return _detail(flushed(application))


@blp.route("/applications/<int:application_id>/supplement-received")
class SupplementReceived(MethodView):
    @blp.arguments(LegalAidSupplementReceivedIn)
    @blp.response(200, LegalAidApplicationDetailOut)
    def post(self, data, application_id):
        """Record that the materials arrived; decide_by moves later by the days the applicant took."""
        application = service.record_supplement_received(current_actor(), application_id, **data, detail=True)
        return _detail(flushed(application))
