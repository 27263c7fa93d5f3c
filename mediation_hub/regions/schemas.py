from marshmallow import Schema, fields

from ..core.pagination import PageArgs, page_schema
from .models import RegionLevel


class RegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.Enum(RegionLevel, by_value=True)
    parent_code = fields.String(allow_none=True)
    full_name = fields.String()
    member_codes = fields.List(fields.String())


class RegionQuery(PageArgs):
    parent = fields.String(load_default=None)
    q = fields.String(load_default=None)


RegionPage = page_schema(RegionSchema, "RegionPage")


class PlacesImportedOut(Schema):
    added = fields.Integer(metadata={"description": "towns and villages added"})
    updated = fields.Integer(
        metadata={"description": "held towns and villages whose name changed (a row as held counts in neither)"}
    )
