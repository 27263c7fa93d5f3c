"""The documents' API shapes."""

from marshmallow import Schema, fields, validate

from ..core.messages import code_of
from .service import FORMATS, RETENTION_PERIODS


class DocumentQuery(Schema):
    format = fields.String(
        load_default="pdf",
        validate=validate.OneOf(tuple(FORMATS)),
        metadata={"description": "pdf (A4, ready to print and sign) or docx (for editing)"},
    )
    session_id = fields.Integer(
        load_default=None, metadata={"description": "session_record: which session (default: the latest)"}
    )
    follow_up_id = fields.Integer(
        load_default=None, metadata={"description": "follow_up: which follow-up (default: the latest)"}
    )
    retention = fields.String(
        load_default=None,
        validate=validate.OneOf(("", *RETENTION_PERIODS)),
        metadata={
            "description": "file: the 保管期限 printed on the cover (永久, 长期 or 短期); "
            "empty or not given: a blank to write by hand"
        },
    )


class ItemOut(Schema):
    id = fields.Integer()
    on = fields.Date()


class ListedOut(Schema):
    kind = fields.String()
    title = fields.String()
    available = fields.Boolean()
    reason = fields.Function(
        lambda d: str(d.reason) if d.reason is not None else None,
        allow_none=True,
        metadata={"type": "string", "nullable": True, "description": "why the document is not available yet"},
    )
    reason_code = fields.Function(
        lambda d: code_of(d.reason, None) if d.reason is not None else None,
        allow_none=True,
        metadata={"type": "string", "nullable": True},
    )
    items = fields.List(
        fields.Nested(ItemOut),
        allow_none=True,
        metadata={
            "description": "session_record and follow_up: the sessions (follow-ups) there is one document each for"
        },
    )


class IssuedOut(Schema):
    kind = fields.String()
    item_id = fields.Integer(allow_none=True)
    number = fields.String(allow_none=True)
    version = fields.Integer()
    format = fields.String()
    full_numbers = fields.Boolean()
    digest = fields.String(
        allow_none=True,
        metadata={
            "description": "the 校验码 printed on the paper (null for a document with full numbers, outside the "
            "handling organisation)"
        },
    )
    sha256 = fields.String(allow_none=True, metadata={"description": "SHA-256 of the bytes handed out"})
    pages = fields.Integer(allow_none=True)
    size = fields.Integer()
    created_at = fields.DateTime()
    created_by = fields.String()


class DocumentListOut(Schema):
    items = fields.List(fields.Nested(ListedOut))
    issued = fields.List(
        fields.Nested(IssuedOut),
        metadata={"description": "what has been handed out so far: every version of every document, oldest first"},
    )


class DigestQuery(Schema):
    digest = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"))


class FoundOut(Schema):
    owner = fields.String(metadata={"description": "case or legal_aid"})
    owner_id = fields.Integer()
    record_number = fields.String()
    kind = fields.String()
    item_id = fields.Integer(allow_none=True)
    number = fields.String(allow_none=True)
    version = fields.Integer()
    format = fields.String()
    sha256 = fields.String()
    created_at = fields.DateTime()
