"""Shapes of the personal-data requests (the service checks the ID number itself)."""

from marshmallow import Schema, fields, validate


class PersonRequestIn(Schema):
    id_number = fields.String(
        required=True,
        validate=validate.Length(min=1, max=30),
        metadata={"description": "the person's resident ID number (18 characters)"},
    )


class PartyRecordOut(Schema):
    case_id = fields.Integer()
    case_number = fields.String()
    case_category = fields.String()
    case_status = fields.String()
    case_outcome = fields.String(allow_none=True)
    received_on = fields.String()
    concluded_on = fields.String(allow_none=True)
    declined_on = fields.String(allow_none=True)
    organization = fields.String()
    role = fields.String()
    kind = fields.String()
    name = fields.String()
    id_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)


class MediatorRecordOut(Schema):
    mediator_id = fields.Integer()
    name = fields.String()
    organization = fields.String()
    id_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    specialties = fields.List(fields.String())
    active = fields.Boolean()


class ApplicationRecordOut(Schema):
    application_id = fields.Integer()
    number = fields.String()
    status = fields.String()
    centre = fields.String()
    name = fields.String()
    id_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    matter_category = fields.String()
    matter_region_code = fields.String()
    summary = fields.String()
    filed_on = fields.String()
    decided_on = fields.String(allow_none=True)
    granted = fields.Boolean(allow_none=True)
    closed_on = fields.String(allow_none=True)


class PersonExportOut(Schema):
    id_number = fields.String()
    generated_at = fields.String()
    parties = fields.List(fields.Nested(PartyRecordOut))
    mediators = fields.List(fields.Nested(MediatorRecordOut))
    legal_aid_applications = fields.List(fields.Nested(ApplicationRecordOut))


class PersonErasedOut(Schema):
    parties = fields.Integer()
    cases = fields.Integer()
    mediators = fields.Integer()
    legal_aid_applications = fields.Integer()
