"""Shapes of transfer and routing input and output (business rules live in the service)."""

from marshmallow import Schema, fields, validate

from ..calendars.schemas import provisional_field
from ..core.pagination import PageArgs, page_schema
from .models import DeclineReason, TransferMode, TransferStatus


class RouteOut(Schema):
    organization_id = fields.Integer()
    organization_name = fields.String()
    region_code = fields.String()
    region_name = fields.String()
    agreement_code = fields.String()
    agreement_name = fields.String()
    score = fields.Float()
    open_cases = fields.Integer()
    reasons = fields.List(fields.String())


class RoutesOut(Schema):
    routes = fields.List(fields.Nested(RouteOut))
    reason = fields.String(allow_none=True)


class CaseTransferIn(Schema):
    case_id = fields.Integer(required=True)
    to_organization_id = fields.Integer(required=True)
    agreement_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    mode = fields.Enum(TransferMode, by_value=True, load_default=TransferMode.transfer)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    requested_on = fields.Date(load_default=None, allow_none=True)


class TransferAcceptIn(Schema):
    answered_on = fields.Date(load_default=None, allow_none=True)


class TransferDeclineIn(Schema):
    reason_code = fields.Enum(DeclineReason, by_value=True, required=True)
    reason_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    answered_on = fields.Date(load_default=None, allow_none=True)


class TransferOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.Function(lambda t: t.case.number)
    from_organization_id = fields.Integer()
    from_organization_name = fields.Function(lambda t: t.from_organization.name)
    to_organization_id = fields.Integer()
    to_organization_name = fields.Function(lambda t: t.to_organization.name)
    agreement_code = fields.String()
    mode = fields.Enum(TransferMode, by_value=True)
    status = fields.Enum(TransferStatus, by_value=True)
    requested_at = fields.DateTime()
    requested_on = fields.Date()
    respond_by = fields.Date()
    respond_by_provisional = provisional_field()
    answered_at = fields.DateTime(allow_none=True)
    answered_on = fields.Date(allow_none=True)
    reason_code = fields.Enum(DeclineReason, by_value=True, allow_none=True)
    reason_text = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    working_days_to_answer = fields.Integer(allow_none=True)
    version = fields.Integer()


class MinimumPartyOut(Schema):
    role = fields.String()
    kind = fields.String()
    name = fields.String()
    id_number = fields.String(allow_none=True)   # masked
    phone = fields.String(allow_none=True)       # masked
    region_code = fields.String(allow_none=True)
    region_name = fields.String(allow_none=True)


class InvolvedRegionOut(Schema):
    code = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())


class MinimumCaseOut(Schema):
    """What the receiving organisation sees before it accepts: never a full ID number or phone."""

    id = fields.Integer()
    number = fields.String()
    category = fields.String()
    summary = fields.String()
    received_on = fields.Date()
    status = fields.String()
    major = fields.Boolean()
    occurred_region_code = fields.String()
    occurred_region_name = fields.String(allow_none=True)
    parties = fields.List(fields.Nested(MinimumPartyOut))
    regions = fields.List(fields.Nested(InvolvedRegionOut))


class TransferDetailOut(TransferOut):
    case = fields.Nested(MinimumCaseOut, attribute="minimum_case")


class TransferQuery(PageArgs):
    direction = fields.String(load_default=None, validate=validate.OneOf(["incoming", "outgoing"]))
    status = fields.Enum(TransferStatus, by_value=True, load_default=None)
    case_id = fields.Integer(load_default=None)


TransferPage = page_schema(TransferOut, "TransferPage")
