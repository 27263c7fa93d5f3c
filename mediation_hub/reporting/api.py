"""Reporting API: rates (JSON, xlsx, csv), transfer flows, overdue work, subscriptions, deliveries and
the pull of frozen snapshots. Views translate; the services decide."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..core.shanghai import today_shanghai
from ..core.uow import as_committed
from . import service, subscriptions
from .export import report_download
from .models import ReportDelivery, ReportSnapshot, ReportSubscription
from .schemas import (
    DeliveryOut,
    DeliveryPage,
    DeliveryQuery,
    FlowsOut,
    FlowsQuery,
    OverdueOut,
    OverdueQuery,
    RatesQuery,
    RatesReportOut,
    SnapshotOut,
    SnapshotPage,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
    SubscriptionQuery,
)

blp = Blueprint("reporting_api", __name__, url_prefix="/api/v1", description="Rates, flows, report delivery")
DOWNLOAD = {"type": "string", "format": "binary"}
DOWNLOADS = "The report; with format=xlsx or csv the same figures as a download"


@blp.route("/reports/rates")
class Rates(MethodView):
    @blp.arguments(RatesQuery, location="query")
    @blp.response(200, RatesReportOut)
    # A download documents a body (a binary string): without one flask-smorest leaves its content type out of the
    # spec, and the fuzzing found an xlsx answer the document did not list.
    @blp.alt_response(
        200,
        description=DOWNLOADS,
        schema=DOWNLOAD,
        success=True,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    @blp.alt_response(200, description=DOWNLOADS, schema=DOWNLOAD, content_type="text/csv", success=True)
    def get(self, args):
        """Rates for a region subtree, an organisation or a studio over a period (DESIGN.md "Rates"), on the
        handled basis (承办) or the occurred one (属地: region scopes only); the answer names its ``basis`` and
        ``counted_to``, with the ``case_flows`` that reconcile the counts."""
        fmt = args.pop("format")
        args["date_from"], args["date_to"] = service.default_period(args["date_from"], args["date_to"])
        report = service.rates_report(current_actor(), **args)
        return report_download(report, fmt) if fmt in ("xlsx", "csv") else report


@blp.route("/reports/flows")
class Flows(MethodView):
    @blp.arguments(FlowsQuery, location="query")
    @blp.response(200, FlowsOut)
    def get(self, args):
        """Cross-region transfers (sent, received, accepted, declined, expired, acceptance rate, median
        working days to answer) and legal-aid figures for the caller's scope.

        Transfers have no basis: a transfer is between two organisations, so it counts for both sides where
        they are. ``counted_to`` is the earlier of ``to`` and today (Asia/Shanghai): the transfers sent in the
        period up to that day, each with its answer as it stands today (the flows have no ``as_of``)."""
        args["date_from"], args["date_to"] = service.default_period(args["date_from"], args["date_to"])
        report = service.transfer_flows_report(current_actor(), **args)
        return {**report, "counted_to": min(args["date_to"], today_shanghai())}


@blp.route("/reports/overdue")
class Overdue(MethodView):
    @blp.arguments(OverdueQuery, location="query")
    @blp.response(200, OverdueOut)
    def get(self, args):
        """Open cases past their time limit and transfers past their answer-by date."""
        return service.overdue_report(current_actor(), **args)


@blp.route("/report-subscriptions")
class Subscriptions(MethodView):
    @blp.arguments(SubscriptionQuery, location="query")
    @blp.response(200, SubscriptionPage)
    def get(self, args):
        """Subscriptions of the governance centres in the caller's scope."""
        stmt = subscriptions.subscriptions_visible_to(current_actor()).order_by(ReportSubscription.id)
        return paginate(stmt, args["page"], args["per_page"])

    @blp.arguments(SubscriptionIn)
    @blp.response(201, SubscriptionCreatedOut)
    def post(self, data):
        """Subscribe a governance centre; the answer carries the signing secret, once."""
        sub, secret = subscriptions.create_subscription(current_actor(), data)
        sub.secret_once = secret  # not a column: the clear secret only travels in this answer
        return as_committed(sub)


@blp.route("/report-subscriptions/<int:subscription_id>")
class SubscriptionItem(MethodView):
    @blp.response(200, SubscriptionOut)
    def get(self, subscription_id):
        return subscriptions.get_subscription(current_actor(), subscription_id)

    @blp.arguments(SubscriptionPatch)
    @blp.response(200, SubscriptionOut)
    def patch(self, data, subscription_id):
        """Pause (``active: false``) or resume a subscription."""
        sub = subscriptions.set_subscription_active(current_actor(), subscription_id, data["active"])
        return as_committed(sub)


@blp.route("/report-deliveries")
class Deliveries(MethodView):
    @blp.arguments(DeliveryQuery, location="query")
    @blp.response(200, DeliveryPage)
    def get(self, args):
        """Deliveries with their attempts, newest first."""
        stmt = subscriptions.deliveries_visible_to(current_actor())
        if args["status"]:
            stmt = stmt.where(ReportDelivery.status == args["status"])
        if args["subscription_id"]:
            stmt = stmt.where(ReportSnapshot.subscription_id == args["subscription_id"])
        return paginate(stmt.order_by(ReportDelivery.id.desc()), args["page"], args["per_page"])


@blp.route("/report-deliveries/<int:delivery_id>/redeliver")
class Redeliver(MethodView):
    @blp.response(200, DeliveryOut)
    def post(self, delivery_id):
        """重新投递: a failed delivery goes back to the outbox."""
        delivery = subscriptions.redeliver(current_actor(), delivery_id)
        return as_committed(delivery)


@blp.route("/reports/snapshots")
class Snapshots(MethodView):
    @blp.arguments(SubscriptionQuery, location="query")
    @blp.response(200, SnapshotPage)
    def get(self, args):
        """Pull: the frozen reports of the caller's own governance centre (an administrator sees all)."""
        stmt = subscriptions.snapshots_visible_to(current_actor()).order_by(
            ReportSnapshot.period_start.desc(), ReportSnapshot.id.desc()
        )
        return paginate(stmt, args["page"], args["per_page"])


@blp.route("/reports/snapshots/<int:snapshot_id>")
class SnapshotItem(MethodView):
    @blp.response(200, SnapshotOut)
    def get(self, snapshot_id):
        """One frozen report with its payload (the same JSON that was pushed)."""
        return subscriptions.get_snapshot(current_actor(), snapshot_id)
