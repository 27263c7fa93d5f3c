"""Shapes of legal-aid input and output (business rules live in the service)."""

from marshmallow import Schema, fields, validate

from ..auth.people import person_for_user
from ..core.calendar import provisional_field
from ..core.pagination import PageArgs, page_schema
from ..core.shanghai import today_shanghai
from ..reference.fields import CodeOrName
from .models import ApplicationStatus, Hardship
from .reference import GENDER_LABELS


class LegalAidApplicantIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    id_number = fields.String(required=True, validate=validate.Length(max=30))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    region_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=12))
    gender = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(list(GENDER_LABELS)),
        metadata={"description": "male or female (optional)"},
    )
    ethnicity = CodeOrName(
        "ethnicities",
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"description": "民族, e.g. 汉族 (optional; stored and shown as the Chinese name)"},
    )
    address = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "住址 (optional)"},
    )
    occupation = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=60),
        metadata={"description": "工作单位或职业 (optional)"},
    )


class LegalAidApplicationIn(Schema):
    centre_id = fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "the legal-aid centre where it was filed (default: yours)"},
    )
    applicant = fields.Nested(LegalAidApplicantIn, required=True)
    matter_category = CodeOrName("legal-aid-matters", required=True, validate=validate.Length(max=40))
    matter_region_code = fields.String(
        required=True,
        validate=validate.Length(max=12),
        metadata={"description": "where the matter is; decides competence (art. 38)"},
    )
    hardship = fields.Enum(Hardship, by_value=True, required=True)
    exempt_group = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    received_on = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "the day the filing centre received it (default today)"},
    )


class LegalAidTransferIn(Schema):
    to_centre_id = fields.Integer(required=True)
    transferred_on = fields.Date(load_default=None, allow_none=True)


class LegalAidAcceptIn(Schema):
    received_on = fields.Date(load_default=None, allow_none=True)
    accepted_on = fields.Date(load_default=None, allow_none=True)


class LegalAidDecideIn(Schema):
    granted = fields.Boolean(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    decided_on = fields.Date(load_default=None, allow_none=True)


class LegalAidAssignIn(Schema):
    lawyer_name = fields.String(required=True, validate=validate.Length(max=60))
    assigned_on = fields.Date(load_default=None, allow_none=True)


class LegalAidSupplementRequestIn(Schema):
    items = fields.String(
        required=True,
        validate=validate.Length(min=1, max=4000),
        metadata={"description": "the materials to supplement or the points to explain, one per line"},
    )
    requested_on = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "the day the applicant is told (default today)"}
    )
    due_on = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "the day the applicant is asked to reply by (optional)"},
    )


class LegalAidSupplementReceivedIn(Schema):
    received_on = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "the day the materials arrived (default today)"}
    )


class LegalAidCloseIn(Schema):
    closed_on = fields.Date(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class LegalAidApplicantOut(Schema):
    name = fields.String(attribute="applicant_name")
    id_number = fields.String(attribute="id_number_masked", allow_none=True)
    phone = fields.String(attribute="phone_masked", allow_none=True)
    region_code = fields.String(attribute="applicant_region_code", allow_none=True)
    gender = fields.String(attribute="applicant_gender", allow_none=True)
    ethnicity = fields.String(attribute="applicant_ethnicity", allow_none=True)
    address = fields.String(attribute="applicant_address", allow_none=True)
    occupation = fields.String(attribute="applicant_occupation", allow_none=True)


class LegalAidApplicationOut(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.Enum(ApplicationStatus, by_value=True)
    centre_id = fields.Integer()
    filed_centre_id = fields.Integer()
    matter_category = fields.String()
    matter_region_code = fields.String()
    hardship = fields.Enum(Hardship, by_value=True)
    exempt_group = fields.String(allow_none=True)
    summary = fields.String()
    filed_on = fields.Date()
    received_on = fields.Date(allow_none=True)
    decide_by = fields.Date(allow_none=True)
    decide_by_provisional = provisional_field()
    accepted_on = fields.Date(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    granted = fields.Boolean(allow_none=True)
    refusal_reason = fields.String(allow_none=True)
    assign_by = fields.Date(allow_none=True)
    assign_by_provisional = provisional_field()
    assigned_on = fields.Date(allow_none=True)
    lawyer_name = fields.String(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    supplement_items = fields.String(allow_none=True)
    supplement_requested_on = fields.Date(allow_none=True)
    supplement_due_on = fields.Date(allow_none=True)
    supplement_received_on = fields.Date(allow_none=True)
    awaiting_supplement = fields.Boolean(
        metadata={"description": "asked for further materials, not yet received: the review clock stands still"}
    )
    decide_overdue = fields.Function(lambda a: a.decide_overdue(today_shanghai()))
    assign_overdue = fields.Function(lambda a: a.assign_overdue(today_shanghai()))
    applicant = fields.Function(lambda a: LegalAidApplicantOut().dump(a))
    version = fields.Integer()


class LegalAidHandoverOut(Schema):
    from_centre_id = fields.Integer()
    to_centre_id = fields.Integer()
    agreement_code = fields.String()
    on_date = fields.Date()
    at = fields.DateTime()
    by = fields.Function(
        lambda h: person_for_user(h.by_user_id).name,
        metadata={"type": "string", "description": "the person who passed it on (name, never a login name)"},
    )
    by_organization = fields.Function(
        lambda h: person_for_user(h.by_user_id).organization,
        allow_none=True,
        metadata={"type": "string", "nullable": True},
    )


class LegalAidEventOut(Schema):
    code = fields.String()
    on_date = fields.Date()
    at = fields.DateTime()
    centre_id = fields.Integer()
    actor = fields.Function(
        lambda e: person_for_user(e.actor_user_id).name,
        metadata={
            "type": "string",
            "description": "the person who recorded it (name, never a login name; 系统 for the system)",
        },
    )
    actor_organization = fields.Function(
        lambda e: person_for_user(e.actor_user_id).organization,
        allow_none=True,
        metadata={"type": "string", "nullable": True},
    )


class LegalAidApplicationDetailOut(LegalAidApplicationOut):
    allowed_actions = fields.List(
        fields.String(),
        dump_default=[],
        metadata={
            "description": "the actions the caller may start now: transfer, accept, decide, assign, close, "
            "request_supplement, receive_supplement"
        },
    )
    handovers = fields.List(fields.Nested(LegalAidHandoverOut))
    events = fields.List(fields.Nested(LegalAidEventOut))


class LegalAidApplicationQuery(PageArgs):
    status = fields.Enum(ApplicationStatus, by_value=True, load_default=None)
    centre_id = fields.Integer(load_default=None)
    overdue = fields.Boolean(load_default=False, metadata={"description": "only those past a deadline today"})


ApplicationPage = page_schema(LegalAidApplicationOut, "LegalAidApplicationPage")
