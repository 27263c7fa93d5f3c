"""Routing and transfer API. Views translate; the service decides."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import PageArgs, paginate
from ..core.uow import flushed
from . import routing, service
from .schemas import (
    CaseTransferIn,
    RoutesOut,
    TransferAcceptIn,
    TransferDeclineIn,
    TransferDetailOut,
    TransferOut,
    TransferPage,
    TransferQuery,
)

blp = Blueprint(
    "transfers_api",
    __name__,
    url_prefix="/api/v1",
    description="Cross-region routes, transfers and joint-mediation requests",
)


class _WithMinimumCase:
    """A transfer read together with the minimum view of its case."""

    def __init__(self, transfer, minimum_case: dict):
        self._transfer, self.minimum_case = transfer, minimum_case

    def __getattr__(self, name):
        return getattr(self._transfer, name)


@blp.route("/cases/<int:case_id>/routes")
class CaseRoutes(MethodView):
    @blp.response(200, RoutesOut)
    def get(self, case_id):
        """Partner organisations the case may go to, ranked, with the agreement and the reasons."""
        return routing.routes_for_case(current_actor(), case_id)


@blp.route("/transfers")
class Transfers(MethodView):
    @blp.arguments(TransferQuery, location="query")
    @blp.response(200, TransferPage)
    def get(self, args):
        """Transfers the caller sees: ``direction`` incoming/outgoing, ``status``, ``case_id``."""
        stmt = service.list_transfers(
            current_actor(), direction=args["direction"], status=args["status"], case_id=args["case_id"]
        )
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(CaseTransferIn)
    @blp.response(201, TransferOut)
    def post(self, data):
        """Send a case along a route (``mode`` transfer) or ask a partner for joint mediation (``joint``)."""
        transfer = service.request_transfer(current_actor(), data.pop("case_id"), **data)
        return flushed(transfer)  # a new row: every column set by the service, its case and organisations loaded


@blp.route("/transfers/<int:transfer_id>")
class TransferItem(MethodView):
    @blp.response(200, TransferDetailOut)
    def get(self, transfer_id):
        """The transfer with the minimum view of its case (party numbers masked)."""
        view = service.transfer_view(current_actor(), transfer_id)
        return _WithMinimumCase(view["transfer"], view["case"])


@blp.route("/transfers/<int:transfer_id>/accept")
class TransferAccept(MethodView):
    @blp.arguments(TransferAcceptIn)
    @blp.response(200, TransferOut)
    def post(self, data, transfer_id):
        """The receiving organisation accepts; exactly one answer wins (409 for the others)."""
        transfer = service.accept_transfer(current_actor(), transfer_id, answered_on=data["answered_on"])
        return flushed(transfer)  # refreshed by the service's conditional UPDATE


@blp.route("/transfers/<int:transfer_id>/decline")
class TransferDecline(MethodView):
    @blp.arguments(TransferDeclineIn)
    @blp.response(200, TransferOut)
    def post(self, data, transfer_id):
        """The receiving organisation declines with a reason code (``other`` needs ``reason_text``)."""
        transfer = service.decline_transfer(current_actor(), transfer_id, **data)
        return flushed(transfer)  # refreshed by the service's conditional UPDATE


@blp.route("/transfers/<int:transfer_id>/withdraw")
class TransferWithdraw(MethodView):
    @blp.response(200, TransferOut)
    def post(self, transfer_id):
        """The sending organisation withdraws an unanswered request."""
        transfer = service.withdraw_transfer(current_actor(), transfer_id)
        return flushed(transfer)  # refreshed by the service's conditional UPDATE


@blp.route("/escalations")
class Escalations(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TransferPage)
    def get(self, args):
        """Expired and overdue transfers touching the coordinator's region."""
        return paginate(service.escalations(current_actor()), args["page"], args["per_page"])
