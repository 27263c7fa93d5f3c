"""GET /api/v1/regions?parent=CODE and GET /api/v1/regions/CODE (reference data, every role); an administrator
adds towns and villages in bulk with POST /api/v1/regions/places."""

import sqlalchemy as sa
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.pagination import paginate
from .models import Region
from .schemas import PlacesImportedOut, RegionPage, RegionQuery, RegionSchema
from .service import children_of, get_region, import_places_file

blp = Blueprint("regions_api", __name__, url_prefix="/api/v1/regions", description="Administrative divisions")


@blp.route("")
class Regions(MethodView):
    @blp.arguments(RegionQuery, location="query")
    @blp.response(200, RegionPage)
    def get(self, args):
        """Children of ``parent`` (provinces and custom regions without it), or a name search with ``q``."""
        if args["q"]:
            stmt = sa.select(Region).where(Region.name.contains(args["q"])).order_by(Region.code)
        else:
            if args["parent"]:
                get_region(args["parent"])
            stmt = children_of(args["parent"])
        return paginate(stmt, args["page"], args["per_page"])


@blp.route("/<code>")
class RegionItem(MethodView):
    @blp.response(200, RegionSchema)
    def get(self, code):
        """One region; a custom region lists its member codes."""
        return get_region(code)


PLACES_BODY = {
    "required": True,
    "description": "the csv itself (text/csv, UTF-8 with or without BOM), or a form with the csv as ``file``; "
    "header code,name,parent (or 代码,名称,上级代码)",
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


@blp.route("/places")
class Places(MethodView):
    @blp.doc(requestBody=PLACES_BODY)
    @blp.response(200, PlacesImportedOut)
    def post(self):
        """Add towns and villages (统计用区划代码) from a csv, administrators only: a town under a county, a village
        under a town (held or in the same file), in any order; a place already held under the same parent is
        renamed. All or nothing: a 422 lists every bad row as ``lines.N.field`` and nothing is written."""
        filename, content = _uploaded_places()
        return import_places_file(current_actor(), filename, content)


def _uploaded_places() -> tuple[str, bytes | None]:
    """The csv a request carries, with its file name: a form's ``file``, or a text/csv body (no name)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        return (upload.filename or "", upload.read()) if upload is not None else ("", None)
    if request.mimetype == "text/csv":
        return "", request.get_data()
    return "", None
