"""Shapes of registry input and output (business rules live in the service)."""

from marshmallow import Schema, fields, validate

from ..core.pagination import PageArgs, page_schema
from .models import OrgKind

_name = fields.String(required=True, validate=validate.Length(min=2, max=120))
_specialties = fields.List(
    fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=20), load_default=list
)


class OrganizationIn(Schema):
    name = _name
    kind = fields.Enum(OrgKind, by_value=True, required=True)
    region_code = fields.String(required=True, validate=validate.Length(min=2, max=12))
    uscc = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    parent_id = fields.Integer(load_default=None, allow_none=True)
    specialties = _specialties
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    document_code = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=12),
        metadata={
            "description": "文书代字: the short name in the organisation's document "
            "numbers, 保竞 in （2026）保竞调字第 12 号 (default: the "
            "first two characters of the name)"
        },
    )


class OrganizationPatch(Schema):
    name = fields.String(validate=validate.Length(min=2, max=120))
    kind = fields.Enum(OrgKind, by_value=True)
    region_code = fields.String(validate=validate.Length(min=2, max=12))
    uscc = fields.String(allow_none=True, validate=validate.Length(max=30))
    parent_id = fields.Integer(allow_none=True)
    specialties = fields.List(fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=20))
    address = fields.String(allow_none=True, validate=validate.Length(max=200))
    document_code = fields.String(allow_none=True, validate=validate.Length(max=12))
    active = fields.Boolean()


class OrganizationOut(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(OrgKind, by_value=True)
    kind_label = fields.String()
    region_code = fields.String()
    region_name = fields.Function(lambda o: o.region.full_name)
    uscc = fields.String(allow_none=True)
    parent_id = fields.Integer(allow_none=True)
    specialties = fields.List(fields.String())
    address = fields.String(allow_none=True)
    document_code = fields.String(allow_none=True)
    active = fields.Boolean()
    hub_id = fields.String(
        allow_none=True, metadata={"description": "another hub's organisation (federation directory); null: this hub's"}
    )


class OrganizationQuery(PageArgs):
    region_code = fields.String(load_default=None)
    kind = fields.Enum(OrgKind, by_value=True, load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=60))


class MediatorIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    organization_id = fields.Integer(required=True)
    id_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    specialties = _specialties


class MediatorPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=60))
    organization_id = fields.Integer()
    id_number = fields.String(allow_none=True, validate=validate.Length(max=30))
    phone = fields.String(allow_none=True, validate=validate.Length(max=30))
    specialties = fields.List(fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=20))
    active = fields.Boolean()


class MediatorOut(Schema):
    id = fields.Integer()
    name = fields.String()
    organization_id = fields.Integer()
    organization_name = fields.Function(lambda m: m.organization.name)
    id_number = fields.String(attribute="id_number_masked", allow_none=True)
    phone = fields.String(attribute="phone_masked", allow_none=True)
    specialties = fields.List(fields.String())
    active = fields.Boolean()


class MediatorQuery(PageArgs):
    organization_id = fields.Integer(load_default=None)
    region_code = fields.String(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=60))


class RevealOut(Schema):
    id_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class StudioIn(Schema):
    name = _name
    organization_id = fields.Integer(required=True)
    lead_mediator_id = fields.Integer(required=True)
    named_by_id = fields.Integer(load_default=None, allow_none=True)
    named_on = fields.Date(load_default=None, allow_none=True)
    specialties = _specialties


class StudioPatch(Schema):
    name = fields.String(validate=validate.Length(min=2, max=120))
    organization_id = fields.Integer()
    lead_mediator_id = fields.Integer()
    named_by_id = fields.Integer(allow_none=True)
    named_on = fields.Date(allow_none=True)
    specialties = fields.List(fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=20))
    active = fields.Boolean()


class StudioOut(Schema):
    id = fields.Integer()
    name = fields.String()
    organization_id = fields.Integer()
    organization_name = fields.Function(lambda s: s.organization.name)
    region_code = fields.Function(lambda s: s.organization.region_code)
    lead_mediator_id = fields.Integer()
    lead_mediator_name = fields.Function(lambda s: s.lead_mediator.name)
    named_by_id = fields.Integer(allow_none=True)
    named_on = fields.Date(allow_none=True)
    specialties = fields.List(fields.String())
    active = fields.Boolean()


class StudioQuery(PageArgs):
    organization_id = fields.Integer(load_default=None)
    region_code = fields.String(load_default=None)


OrganizationPage = page_schema(OrganizationOut, "OrganizationPage")
MediatorPage = page_schema(MediatorOut, "MediatorPage")
StudioPage = page_schema(StudioOut, "StudioPage")
