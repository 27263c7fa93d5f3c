"""GET /api/v1/reference/{case-categories,case-sources,legal-aid-matters,decline-reasons,ethnicities} (every role)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..errors import NotFound
from .lists import LISTS, items

blp = Blueprint(
    "reference_api",
    __name__,
    url_prefix="/api/v1/reference",
    description="Reference lists: the codes the API takes, with their Chinese names",
)


class ReferenceItem(Schema):
    code = fields.String(required=True, metadata={"description": "the stable code the API takes and returns"})
    name = fields.String(required=True, metadata={"description": "the Chinese name (accepted in place of the code)"})


class ReferenceList(Schema):
    items = fields.List(fields.Nested(ReferenceItem), required=True)


@blp.route(
    "/<list_name>",
    parameters=[
        {"in": "path", "name": "list_name", "required": True, "schema": {"type": "string", "enum": list(LISTS)}}
    ],
)
class Reference(MethodView):
    @blp.response(200, ReferenceList)
    def get(self, list_name):
        """One reference list in its display order: ``case-categories``, ``case-sources``, ``legal-aid-matters``,
        ``decline-reasons`` or ``ethnicities`` (民族, GB/T 3304 codes; stored and printed as the Chinese name)."""
        if list_name not in LISTS:
            raise NotFound("reference list")
        return {"items": [{"code": code, "name": name} for code, name in items(list_name)]}
