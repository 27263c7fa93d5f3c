"""Personal-data requests of one person (PIPL), for administrators: a copy of everything held, then erasure.

The ID number travels in the request body only (never in a URL, which servers and proxies log)."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from . import service
from .schemas import PersonErasedOut, PersonExportOut, PersonRequestIn

blp = Blueprint(
    "privacy_api",
    __name__,
    url_prefix="/api/v1/privacy",
    description="Personal-data requests (PIPL): export and erase one person's data",
)

REVEALED = {"X-Personal-Data": "revealed"}  # an audited reveal (see tests/pii_guard.py)


@blp.route("/person-export")
class PersonExport(MethodView):
    @blp.arguments(PersonRequestIn)
    @blp.response(200, PersonExportOut)
    def post(self, data):
        """Everything held about the person with this ID number, full numbers included; audited.
        404 when nothing is held, 403 for anyone but an administrator."""
        document = service.export_person(current_actor(), data["id_number"], remote_addr=request.remote_addr)
        return document, REVEALED


@blp.route("/person-erase")
class PersonErase(MethodView):
    @blp.arguments(PersonRequestIn)
    @blp.response(200, PersonErasedOut)
    def post(self, data):
        """Erase the person's name and numbers wherever they appear (cases and statistics stay); audited.
        409 while the person is an active mediator, 404 when nothing is held."""
        counts = service.erase_person(current_actor(), data["id_number"], remote_addr=request.remote_addr)
        return counts
