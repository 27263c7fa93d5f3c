"""Shapes of agreement input and output (the business rules live in the service)."""

from marshmallow import Schema, fields, validate

from ..core.pagination import PageArgs, page_schema
from .models import AgreementKind, AgreementScope, ProposalAction, ProposalState

_member_codes = fields.List(
    fields.String(validate=validate.Length(min=2, max=12)), validate=validate.Length(min=1, max=40)
)


class AgreementIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=2, max=40))
    name = fields.String(required=True, validate=validate.Length(min=2, max=160))
    kind = fields.Enum(AgreementKind, by_value=True, required=True)
    scope = fields.Enum(AgreementScope, by_value=True, required=True)
    member_codes = fields.List(
        fields.String(validate=validate.Length(min=2, max=12)), required=True, validate=validate.Length(min=1, max=40)
    )
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


# --- proposals ----------------------------------------------------------------------------------------


class ProposedTermsOut(AgreementOut):
    """Agreement fields as a proposal carries them: all of them for a new agreement, the changed ones for a
    change (``before`` has the values those fields had when it was proposed)."""


class ProposalRegionOut(Schema):
    region_code = fields.String()
    region_name = fields.String()
    confirmed = fields.Boolean()
    confirmed_by = fields.String(allow_none=True, metadata={"description": "the username who confirmed"})
    confirmed_at = fields.DateTime(allow_none=True)


class ProposalOut(Schema):
    id = fields.Integer()
    agreement_code = fields.String()
    action = fields.Enum(ProposalAction, by_value=True, metadata={"description": "create or change"})
    state = fields.Enum(ProposalState, by_value=True)
    changes = fields.Nested(ProposedTermsOut, attribute="proposed_terms")
    before = fields.Nested(ProposedTermsOut, attribute="terms_before")
    regions = fields.List(
        fields.Nested(ProposalRegionOut),
        metadata={"description": "every member region whose coordinator must confirm, with who confirmed and when"},
    )
    awaiting = fields.List(fields.String(), metadata={"description": "regions still to confirm"})
    proposed_by = fields.String()
    proposed_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "why it was declined"})


class ProposalQuery(PageArgs):
    state = fields.Enum(ProposalState, by_value=True, load_default=None)
    agreement_code = fields.String(load_default=None, validate=validate.Length(max=40))


class ProposalDeclineIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


ProposalPage = page_schema(ProposalOut, "AgreementProposalPage")
