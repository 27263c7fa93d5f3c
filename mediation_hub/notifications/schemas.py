"""Shapes of notification output and list filters."""

from marshmallow import Schema, fields

from ..core.pagination import PageArgs, page_schema


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    message = fields.String()
    link = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    organization_id = fields.Integer(allow_none=True)
    region_code = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    read = fields.Function(lambda n: n.read_at is not None)


class NotificationQuery(PageArgs):
    unread = fields.Boolean(load_default=False)


NotificationPage = page_schema(NotificationOut, "NotificationPage")
