"""GET /api/v1/regions?parent=CODE and GET /api/v1/regions/CODE (reference data, every role)."""

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from ..core.pagination import paginate
from .models import Region
from .schemas import RegionPage, RegionQuery, RegionSchema
from .service import children_of, get_region

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
