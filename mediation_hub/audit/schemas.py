"""Shapes of the audit log as the API gives it, and of its filters."""

from marshmallow import Schema, fields, validate

from ..core.pagination import PageArgs, page_schema
from .service import ACTION_LABELS, ACTIONS


class AuditEntryOut(Schema):
    id = fields.Integer()
    at = fields.DateTime(metadata={"description": "when, UTC"})
    user_id = fields.Integer(
        allow_none=True, metadata={"description": "the acting account; null for the system and for failed sign-ins"}
    )
    username = fields.String(metadata={"description": "the acting account's name, or the name a failed sign-in tried"})
    action = fields.String(metadata={"description": "one of the registered action codes"})
    action_label = fields.Function(
        lambda entry: ACTION_LABELS.get(entry.action, entry.action),
        metadata={"description": "the action's Chinese name"},
    )
    target_type = fields.String(allow_none=True)
    target_id = fields.String(allow_none=True)
    detail = fields.Dict(
        metadata={"description": "what changed (before/after for account changes); never personal data"}
    )
    remote_addr = fields.String(allow_none=True)


class AuditQuery(PageArgs):
    user = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=60),
        metadata={
            "description": "a username: entries made by that account, sign-ins tried under that name, and changes "
            "made to that account"
        },
    )
    action = fields.String(load_default=None, validate=validate.OneOf(sorted(ACTIONS)))
    date_from = fields.Date(load_default=None, metadata={"description": "first day (Asia/Shanghai), included"})
    date_to = fields.Date(load_default=None, metadata={"description": "last day (Asia/Shanghai), included"})


AuditEntryPage = page_schema(AuditEntryOut, "AuditEntryPage")
