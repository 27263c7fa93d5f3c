"""Shapes of case input and output (business rules live in the service). Personal numbers go out masked."""

from marshmallow import Schema, ValidationError, fields, validate

from ..calendars.schemas import provisional_field
from ..core.pagination import PageArgs, page_schema
from .events import EVENT_CODES
from .models import CaseStatus, ConfirmationStatus, Outcome, PartyKind, PartyRole
from .rules import OUTCOME_LABELS, STATUS_LABELS, allowed_actions, is_overdue
from .service.scope import PERSON_HASH, carries_personal_number

_date = {"load_default": None, "allow_none": True}
_version = fields.Integer(load_default=None, allow_none=True,
                          metadata={"description": "the version the caller last read; a stale one is a 409"})
# The minimum is stated as a number: from the validator apispec would write the Decimal "0.00", a string,
# which makes the OpenAPI document invalid (schemathesis refused to generate bodies from it).
# No ``places``: marshmallow would round the value before the service's rule (rules.to_amount) could refuse it.
_amount = fields.Decimal(load_default=None, allow_none=True, validate=validate.Range(min=0),
                         metadata={"description": "yuan, at most two decimals (more are refused, never rounded)",
                                   "minimum": 0})


def _amount_out() -> fields.Decimal:
    """An amount as it reads: a string with two decimals ("1200.00"), documented as such (not as a number)."""
    return fields.Decimal(places=2, as_string=True, allow_none=True,
                          metadata={"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$",
                                    "description": "yuan, two decimals, as a string"})


class PartyIn(Schema):
    role = fields.Enum(PartyRole, by_value=True, required=True)
    kind = fields.Enum(PartyKind, by_value=True, load_default=PartyKind.person)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    id_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30),
                              metadata={"description": "resident ID number of a person"})
    uscc = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30),
                         metadata={"description": "unified social credit code of an organisation"})
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    region_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=12))


class CaseIn(Schema):
    organization_id = fields.Integer(load_default=None, allow_none=True,
                                     metadata={"description": "defaults to the caller's organisation"})
    category = fields.String(required=True, validate=validate.Length(min=1, max=40))
    source = fields.String(required=True, validate=validate.Length(min=1, max=40))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    received_on = fields.Date(**_date)
    occurred_region_code = fields.String(required=True, validate=validate.Length(min=2, max=12))
    amount_yuan = _amount
    major = fields.Boolean(load_default=False)
    studio_id = fields.Integer(load_default=None, allow_none=True)
    mediator_ids = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=10))
    parties = fields.List(fields.Nested(PartyIn), required=True, validate=validate.Length(min=1, max=50))


class PartyOut(Schema):
    id = fields.Integer()
    position = fields.Integer()
    role = fields.Enum(PartyRole, by_value=True)
    kind = fields.Enum(PartyKind, by_value=True)
    name = fields.String()
    id_number = fields.Function(lambda p: p.id_number_masked if p.kind == PartyKind.person else None,
                                metadata={"description": "masked"})
    uscc = fields.Function(lambda p: p.id_number_masked if p.kind == PartyKind.organization else None,
                           metadata={"description": "masked"})
    phone = fields.String(attribute="phone_masked", allow_none=True, metadata={"description": "masked"})
    region_code = fields.String(allow_none=True)


class SessionOut(Schema):
    id = fields.Integer()
    held_on = fields.Date()
    summary = fields.String()
    mediator_id = fields.Integer(allow_none=True)


class FollowUpOut(Schema):
    id = fields.Integer()
    visited_on = fields.Date()
    summary = fields.String()
    performed = fields.Boolean(allow_none=True)


class CaseOut(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.Enum(CaseStatus, by_value=True)
    status_label = fields.Function(lambda c: STATUS_LABELS[c.status])
    outcome = fields.Enum(Outcome, by_value=True, allow_none=True)
    outcome_label = fields.Function(lambda c: OUTCOME_LABELS.get(c.outcome) if c.outcome else None)
    organization_id = fields.Integer()
    organization_name = fields.Function(lambda c: c.organization.name)
    studio_id = fields.Integer(allow_none=True)
    mediator_ids = fields.Function(lambda c: [m.mediator_id for m in c.mediators])
    category = fields.String(attribute="category_code")
    category_name = fields.Function(lambda c: c.category.name)
    source = fields.String(attribute="source_code")
    source_name = fields.Function(lambda c: c.source.name)
    summary = fields.String()
    received_on = fields.Date()
    occurred_region_code = fields.String()
    amount_yuan = _amount_out()
    accepted_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    due_on_provisional = provisional_field()
    declined_on = fields.Date(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    concluded_on = fields.Date(allow_none=True)
    cross_region = fields.Boolean()
    major = fields.Boolean()
    overdue = fields.Function(lambda c: is_overdue(c))
    agreement_amount_yuan = _amount_out()
    agreement_terms = fields.String(allow_none=True)
    agreement_performed = fields.Boolean(allow_none=True)
    confirmation_status = fields.Enum(ConfirmationStatus, by_value=True)
    confirmation_deadline = fields.Date(allow_none=True)
    confirmation_deadline_provisional = provisional_field()
    confirmation_applied_on = fields.Date(allow_none=True)
    confirmation_decided_on = fields.Date(allow_none=True)
    follow_up_due_on = fields.Date(allow_none=True)
    follow_up_due_on_provisional = provisional_field()
    allowed_actions = fields.Function(lambda c: allowed_actions(c))
    parties = fields.List(fields.Nested(PartyOut))
    version = fields.Integer()


class CaseDetailOut(CaseOut):
    sessions = fields.List(fields.Nested(SessionOut))
    follow_ups = fields.List(fields.Nested(FollowUpOut))


class WarningOut(Schema):
    code = fields.String()
    case_id = fields.Integer()
    number = fields.String()
    organization_id = fields.Integer()
    visible = fields.Boolean(metadata={"description": "whether the caller may open that case"})
    message = fields.String()


class CaseCreatedOut(CaseDetailOut):
    warnings = fields.List(fields.Nested(WarningOut), attribute="registration_warnings")


NUMBER_IN_URL = ("身份证号码和电话号码不能放在网址中，请改用 POST /api/v1/cases/search 在请求体中查询 "
                 "(an ID number or phone may not travel in a URL: send it in the body of POST /api/v1/cases/search)")


def _not_a_personal_number(value: str) -> None:
    if carries_personal_number(value):
        raise ValidationError(NUMBER_IN_URL)


class CaseFilters(PageArgs):
    """The case list's filters and page, the same in a query string and in a search body."""

    status = fields.Enum(CaseStatus, by_value=True, load_default=None)
    category = fields.String(load_default=None, validate=validate.Length(max=40))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    region_code = fields.String(load_default=None, validate=validate.Length(max=12))
    studio_id = fields.Integer(load_default=None)
    organization_id = fields.Integer(load_default=None)
    overdue = fields.Boolean(load_default=None, allow_none=True)
    q = fields.String(load_default=None, validate=validate.Length(max=60), metadata={
        "description": "a fragment of the case number, summary or a party's name; or a party's full ID number, "
                       "phone or USCC (matched through the keyed hash)"})
    person_hash = fields.String(
        data_key="pid", load_default=None, validate=validate.Regexp(rf"^{PERSON_HASH.pattern}$"),
        metadata={"description": "the keyed hash of a party's ID number or phone, as the list page's links "
                                 "carry it instead of the number"})


class CaseQuery(CaseFilters):
    q = fields.String(load_default=None, validate=[validate.Length(max=60), _not_a_personal_number], metadata={
        "description": "a fragment of the case number, summary or a party's name, or a USCC. A full ID number or "
                       "phone is refused here (422 naming q): it would be written into access logs and browser "
                       "history; search by it with POST /api/v1/cases/search"})


class CaseSearchIn(CaseFilters):
    """The list's filters in a request body, where a full ID number or phone in ``q`` may be sent."""


class AcceptIn(Schema):
    mediator_id = fields.Integer(load_default=None, allow_none=True)
    accepted_on = fields.Date(**_date)
    version = _version


class DeclineIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    declined_on = fields.Date(**_date)
    version = _version


class SessionIn(Schema):
    held_on = fields.Date(**_date)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    mediator_id = fields.Integer(load_default=None, allow_none=True)
    version = _version


class ConcludeIn(Schema):
    outcome = fields.Enum(Outcome, by_value=True, required=True)
    concluded_on = fields.Date(**_date)
    agreement_amount_yuan = _amount
    terms = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    performed = fields.Boolean(load_default=None, allow_none=True)
    version = _version


class ExtendIn(Schema):
    days = fields.Integer(required=True)
    consent_note = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                                 metadata={"description": "how the parties consented (人民调解工作若干规定 art. 33)"})
    extended_on = fields.Date(**_date)
    version = _version


class ConfirmationIn(Schema):
    applied_on = fields.Date(**_date)
    court = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=120))
    version = _version


class ConfirmationResultIn(Schema):
    confirmed = fields.Boolean(required=True)
    decided_on = fields.Date(**_date)
    version = _version


class FollowUpIn(Schema):
    visited_on = fields.Date(**_date)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    performed = fields.Boolean(load_default=None, allow_none=True)
    version = _version


class EventOut(Schema):
    id = fields.Integer()
    code = fields.String()
    label = fields.Function(lambda e: EVENT_CODES.get(e.code, e.code))
    on_date = fields.Date()
    at = fields.DateTime()
    organization_id = fields.Integer()
    region_code = fields.String()
    studio_id = fields.Integer(allow_none=True)
    actor_name = fields.String()
    data = fields.Dict()


class EventList(Schema):
    items = fields.List(fields.Nested(EventOut))


class PartyRevealOut(Schema):
    party_id = fields.Integer()
    id_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


CasePage = page_schema(CaseOut, "CasePage")
