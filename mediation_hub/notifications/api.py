"""Notifications API: the caller's notices (own, organisation's, region's for coordinators), marked read."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..core.uow import as_committed
from . import service
from .schemas import NotificationOut, NotificationPage, NotificationQuery

blp = Blueprint("notifications_api", __name__, url_prefix="/api/v1", description="Notifications")


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQuery, location="query")
    @blp.response(200, NotificationPage)
    def get(self, args):
        """The caller's notifications, newest first; ``unread=true`` for the unread ones only."""
        return paginate(
            service.notifications_for(current_actor(), unread_only=args["unread"]), args["page"], args["per_page"]
        )


@blp.route("/notifications/<int:notification_id>/read")
class NotificationRead(MethodView):
    @blp.response(200, NotificationOut)
    def post(self, notification_id):
        """Mark a notification read (again: no change)."""
        note = service.mark_read(current_actor(), notification_id)
        return as_committed(note)
