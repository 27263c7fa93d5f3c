"""Shapes of transfer and routing input and output (business rules live in the service)."""

from marshmallow import Schema, fields, validate

from ..core.calendar import provisional_field
from ..core.pagination import PageArgs, page_schema
from ..reference.fields import CodeOrName
from .models import DeclineReason, TransferMode, TransferStatus

ROUTE_REASON_CODES = [
    "agreement_covers",
    "specialty_match",
    "general_organization",
    "off_specialty",
    "mediator_specialty",
    "same_county",
    "same_city",
    "same_province",
    "open_cases",
]


class RouteOut(Schema):
    """A partner organisation a case may go to (ranking rule: ``transfers.routing``)."""

    organization_id = fields.Integer()
    organization_name = fields.String()
    hub_id = fields.String(
        allow_none=True, metadata={"description": "the hub the organisation lives on when it is another one"}
    )
    region_code = fields.String()
    region_name = fields.String()
    agreement_code = fields.String()
    agreement_name = fields.String()
    score = fields.Float(metadata={"description": "specialty fit + closeness - load; the list is sorted by it"})
    specialty_fit = fields.String(
        metadata={
            "enum": ["match", "general", "off_specialty"],
            "description": "match: the organisation specialises in the case's category; general: it declares no "
            "specialty; off_specialty: its specialties are all other categories (ranked last)",
        }
    )
    open_cases = fields.Integer()
    reasons = fields.List(
        fields.String(), metadata={"description": "why it is suggested, one sentence each, in the request's language"}
    )
    reason_codes = fields.List(
        fields.String(metadata={"enum": ROUTE_REASON_CODES}),
        metadata={"description": "the machine code of each reason, in the same order as ``reasons``"},
    )


class RoutesOut(Schema):
    routes = fields.List(fields.Nested(RouteOut))
    reason = fields.String(allow_none=True, metadata={"description": "why ``routes`` is empty"})
    reason_code = fields.String(
        allow_none=True,
        metadata={
            "enum": ["not_cross_region", "no_agreement", "no_partner"],
            "description": "the machine code of ``reason``",
        },
    )


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
    reason_code = CodeOrName("decline-reasons", required=True, validate=validate.Length(max=40))
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
    id_number = fields.String(allow_none=True)  # masked
    phone = fields.String(allow_none=True)  # masked
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
