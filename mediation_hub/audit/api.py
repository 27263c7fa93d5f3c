"""GET /api/v1/audit-log: the audit log for administrators (sign-ins, reveals, exports, account changes)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import paginate
from . import service
from .schemas import AuditEntryPage, AuditQuery

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1", description="Audit log (administrators)")


@blp.route("/audit-log")
class AuditLog(MethodView):
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditEntryPage)
    def get(self, args):
        """Audit entries, newest first, filtered by user, action and Asia/Shanghai dates (both included).
        403 for anyone but an administrator."""
        stmt = service.list_entries(
            current_actor(),
            user=args["user"],
            action=args["action"],
            date_from=args["date_from"],
            date_to=args["date_to"],
        )
        return paginate(stmt, args["page"], args["per_page"])
