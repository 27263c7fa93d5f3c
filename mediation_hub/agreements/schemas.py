"""Shapes of agreement input and output (the business rules live in the service)."""

from marshmallow import Schema, fields, validate

from ..core.pagination import PageArgs, page_schema
from .models import AgreementKind, AgreementScope

_member_codes = fields.List(fields.String(validate=validate.Length(min=2, max=12)),
                            validate=validate.Length(min=1, max=40))


class AgreementIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=2, max=40))
    name = fields.String(required=True, validate=validate.Length(min=2, max=160))
    kind = fields.Enum(AgreementKind, by_value=True, required=True)
    scope = fields.Enum(AgreementScope, by_value=True, required=True)
    member_codes = fields.List(fields.String(validate=validate.Length(min=2, max=12)), required=True,
                               validate=validate.Length(min=1, max=40))
    response_working_days = fields.Integer(load_default=3)
    signed_on = fields.Date(required=True)
    effective_from = fields.Date(load_default=None, allow_none=True)
    effective_to = fields.Date(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class AgreementPatch(Schema):
    name = fields.String(validate=validate.Length(min=2, max=160))
    kind = fields.Enum(AgreementKind, by_value=True)
    scope = fields.Enum(AgreementScope, by_value=True)
    member_codes = _member_codes
    response_working_days = fields.Integer()
    signed_on = fields.Date()
    effective_from = fields.Date()
    effective_to = fields.Date(allow_none=True)
    active = fields.Boolean()
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class AgreementOut(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.Enum(AgreementKind, by_value=True)
    scope = fields.Enum(AgreementScope, by_value=True)
    member_codes = fields.List(fields.String())
    response_working_days = fields.Integer()
    signed_on = fields.Date()
    effective_from = fields.Date()
    effective_to = fields.Date(allow_none=True)
    active = fields.Boolean()
    note = fields.String(allow_none=True)


class AgreementQuery(PageArgs):
    scope = fields.Enum(AgreementScope, by_value=True, load_default=None)
    kind = fields.Enum(AgreementKind, by_value=True, load_default=None)
    region_code = fields.String(load_default=None, validate=validate.Length(max=12))
    active = fields.Boolean(load_default=None)


AgreementPage = page_schema(AgreementOut, "AgreementPage")
