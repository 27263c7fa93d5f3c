"""Shapes of case input and output (business rules live in the service). Personal numbers go out masked."""

import enum
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from ..core.calendar import provisional_field
from ..core.i18n import N_
from ..core.messages import coded
from ..core.pagination import PageArgs, page_schema
from ..errors import ErrorSchema
from ..reference.fields import CodeOrName
from .events import EVENT_CODES, event_actor
from .models import (
    AgreementForm,
    CaseStatus,
    ConfirmationStatus,
    FollowUpMethod,
    Gender,
    Outcome,
    PartyKind,
    PartyRole,
)
from .rules import OUTCOME_LABELS, STATUS_LABELS, SUMMARY_MAX_LENGTH, allowed_actions, is_overdue
from .service.scope import PERSON_HASH, carries_personal_number

_date: dict[str, Any] = {"load_default": None, "allow_none": True}
_version = fields.Integer(
    load_default=None,
    allow_none=True,
    metadata={"description": "the version the caller last read; a stale one is a 409"},
)


class AmountIn(fields.Field):
    """A yuan amount as a JSON number or as text the way people write it (``"3,500.00"``, ``"3，500。00"``,
    ``"￥3500"``, ``"3500元"``, full-width digits): passed on as given, so that the one money rule
    (``rules.to_amount``: greater than 0, at most two decimals, never rounded) reads it and says exactly what is
    wrong. The bounds are stated as numbers (apispec would write a Decimal as a string: an invalid document)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError(coded("invalid_amount", "金额只能填写数字，如 3500 或 3500.00"))
        return value


class ChoiceIn(fields.String):
    """One value of ``choices``, documented as their enum. A value not among them is passed on, so that the
    service refuses it with its own message in Chinese naming the choices, as the page shows it."""

    def __init__(self, choices: type[enum.Enum], **kwargs):
        metadata = dict(kwargs.pop("metadata", {}) or {})
        metadata.setdefault("enum", [choice.value for choice in choices])
        super().__init__(metadata=metadata, **kwargs)


_amount = AmountIn(
    load_default=None,
    allow_none=True,
    metadata={
        "description": "yuan, greater than 0, at most two decimals (more are refused, never rounded); a number or "
        'a string such as "3,500.00", "3，500。00", "￥3500" or "3500元"',
        "minimum": 0,
        "exclusiveMinimum": True,
        "example": "3500.00",
    },
)


def _amount_out() -> fields.Decimal:
    """An amount as it reads: a string with two decimals ("1200.00"), documented as such (not as a number)."""
    return fields.Decimal(
        places=2,
        as_string=True,
        allow_none=True,
        metadata={
            "type": "string",
            "format": "decimal",
            "pattern": r"^-?\d+\.\d{2}$",
            "description": "yuan, two decimals, as a string",
        },
    )


class PartyIn(Schema):
    role = fields.Enum(PartyRole, by_value=True, required=True)
    kind = fields.Enum(PartyKind, by_value=True, load_default=PartyKind.person)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    id_number = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=30),
        metadata={"description": "resident ID number of a person"},
    )
    uscc = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=30),
        metadata={"description": "unified social credit code of an organisation"},
    )
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    region_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=12))
    gender = ChoiceIn(
        Gender,
        load_default=None,
        allow_none=True,
        metadata={"description": "性别 of a person: male (男) or female (女); not for an organisation"},
    )
    ethnicity = CodeOrName(
        "ethnicities",
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"description": "民族 of a person, returned as its Chinese name (e.g. 汉族); not for an organisation"},
    )
    occupation = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=60),
        metadata={"description": "职业或工作单位 of a person; not for an organisation"},
    )
    address = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "住址 of a person, 住所地 of an organisation; printed in full on the documents"},
    )
    representative = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=60),
        metadata={"description": "法定代表人或主要负责人 of an organisation (a name); not for a person"},
    )


class CaseIn(Schema):
    organization_id = fields.Integer(
        load_default=None, allow_none=True, metadata={"description": "defaults to the caller's organisation"}
    )
    category = CodeOrName("case-categories", required=True, validate=validate.Length(min=1, max=40))
    source = CodeOrName("case-sources", required=True, validate=validate.Length(min=1, max=40))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=SUMMARY_MAX_LENGTH))
    received_on = fields.Date(**_date)
    occurred_region_code = fields.String(required=True, validate=validate.Length(min=2, max=12))
    amount_yuan = _amount
    major = fields.Boolean(load_default=False)
    studio_id = fields.Integer(load_default=None, allow_none=True)
    mediator_ids = fields.List(fields.Integer(), load_default=list, validate=validate.Length(max=10))
    parties = fields.List(fields.Nested(PartyIn), required=True, validate=validate.Length(min=1, max=50))
    confirm_duplicate = fields.Boolean(
        load_default=False,
        metadata={
            "description": "register even though an open case registered in the last 90 days has one of the parties "
            "(same ID number or USCC). Without it such a registration is answered 409 with error "
            "possible_duplicate and the candidates in duplicates (see POST /api/v1/cases/check-duplicates)"
        },
    )


class PartyOut(Schema):
    id = fields.Integer()
    position = fields.Integer()
    role = fields.Enum(PartyRole, by_value=True)
    kind = fields.Enum(PartyKind, by_value=True)
    name = fields.String()
    id_number = fields.Function(
        lambda p: p.id_number_masked if p.kind == PartyKind.person else None, metadata={"description": "masked"}
    )
    uscc = fields.Function(
        lambda p: p.id_number_masked if p.kind == PartyKind.organization else None, metadata={"description": "masked"}
    )
    phone = fields.String(attribute="phone_masked", allow_none=True, metadata={"description": "masked"})
    region_code = fields.String(allow_none=True)
    gender = fields.String(
        allow_none=True, metadata={"enum": [g.value for g in Gender], "description": "male (男) or female (女)"}
    )
    ethnicity = fields.String(allow_none=True, metadata={"description": "民族, its Chinese name"})
    occupation = fields.String(allow_none=True)
    address = fields.String(allow_none=True, metadata={"description": "in full (no personal number)"})
    representative = fields.String(allow_none=True, metadata={"description": "法定代表人或主要负责人"})


class SessionOut(Schema):
    id = fields.Integer()
    held_on = fields.Date()
    summary = fields.String()
    mediator_id = fields.Integer(allow_none=True)
    place = fields.String(allow_none=True, metadata={"description": "调解地点"})
    attendees = fields.String(allow_none=True, metadata={"description": "参加人员, one per line"})
    recorder = fields.String(allow_none=True, metadata={"description": "记录人"})


class FollowUpOut(Schema):
    id = fields.Integer()
    visited_on = fields.Date()
    summary = fields.String()
    performed = fields.Boolean(allow_none=True)
    method = fields.String(
        allow_none=True,
        metadata={
            "enum": [m.value for m in FollowUpMethod],
            "description": "visit (上门回访), phone (电话回访) or other",
        },
    )
    visitor = fields.String(allow_none=True, metadata={"description": "回访人"})


class HandoverOut(Schema):
    transfer_id = fields.Integer()
    to_organization_id = fields.Integer()
    to_organization_name = fields.String()
    accepted_on = fields.Date()


class CaseOut(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.Enum(CaseStatus, by_value=True)
    status_label = fields.Function(lambda c: str(STATUS_LABELS[c.status]))
    outcome = fields.Enum(Outcome, by_value=True, allow_none=True)
    outcome_label = fields.Function(lambda c: str(OUTCOME_LABELS[c.outcome]) if c.outcome else None)
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
    agreement_form = fields.String(
        allow_none=True,
        metadata={
            "enum": [f.value for f in AgreementForm],
            "description": "written (书面协议) or oral (口头协议, recorded by the mediator); only with an agreement",
        },
    )
    confirmation_status = fields.Enum(ConfirmationStatus, by_value=True)
    confirmation_deadline = fields.Date(allow_none=True)
    confirmation_deadline_provisional = provisional_field()
    confirmation_applied_on = fields.Date(allow_none=True)
    confirmation_decided_on = fields.Date(allow_none=True)
    follow_up_due_on = fields.Date(allow_none=True)
    follow_up_due_on_provisional = provisional_field()
    allowed_actions = fields.Function(lambda c: [] if getattr(c, "read_only", False) else allowed_actions(c))
    read_only = fields.Boolean(
        dump_default=False,
        metadata={
            "description": "the caller's organisation handed this case over by an accepted transfer: it may read it "
            "(parties masked), never act on it"
        },
    )
    transferred_to = fields.Nested(
        HandoverOut,
        attribute="handover",
        allow_none=True,
        dump_default=None,
        metadata={"description": "for a case the caller's organisation handed over: to whom, and when it was accepted"},
    )
    parties = fields.List(fields.Nested(PartyOut))
    version = fields.Integer()


class CaseDetailOut(CaseOut):
    sessions = fields.List(fields.Nested(SessionOut))
    follow_ups = fields.List(fields.Nested(FollowUpOut))


class WarningOut(Schema):
    code = fields.String(
        metadata={
            "description": "possible_duplicate (a case the caller may open) or "
            "possible_duplicate_elsewhere (a count of others' cases)"
        }
    )
    case_id = fields.Integer(allow_none=True)
    number = fields.String(allow_none=True)
    organization_id = fields.Integer(allow_none=True)
    visible = fields.Boolean(metadata={"description": "whether the caller may open that case"})
    message = fields.String()


class DuplicateCandidateOut(Schema):
    """An open case with one of the parties, as the registering person may see it (parties masked)."""

    case_id = fields.Integer(attribute="id")
    number = fields.String()
    received_on = fields.Date()
    status = fields.Enum(CaseStatus, by_value=True)
    status_label = fields.Function(lambda c: str(STATUS_LABELS[c.status]))
    organization_id = fields.Integer()
    organization_name = fields.Function(lambda c: c.organization.name)
    parties = fields.List(fields.Nested(PartyOut))


class DuplicateCheckOut(Schema):
    candidates = fields.List(
        fields.Nested(DuplicateCandidateOut),
        metadata={
            "description": "open cases registered in the last 90 days with one of the parties (same ID number or "
            "USCC) that the caller may see, newest first"
        },
    )
    elsewhere = fields.Integer(
        metadata={"description": "how many more such cases other organisations handle (not shown to the caller)"}
    )


class DuplicateCheckIn(Schema):
    parties = fields.List(fields.Nested(PartyIn), required=True, validate=validate.Length(min=1, max=50))


class DuplicateConflict(ErrorSchema):
    """The 409 of a possible duplicate registration: the one error shape, with the candidates."""

    duplicates = fields.Nested(DuplicateCheckOut)


class CaseCreatedOut(CaseDetailOut):
    warnings = fields.List(fields.Nested(WarningOut), attribute="registration_warnings")


NUMBER_IN_URL = N_("身份证号码和电话号码不能放在网址中，请改用 POST /api/v1/cases/search 在请求体中查询")


def _not_a_personal_number(value: str) -> None:
    if carries_personal_number(value):
        raise ValidationError(coded("number_in_url", NUMBER_IN_URL))


class CaseFilters(PageArgs):
    """The case list's filters and page, the same in a query string and in a search body."""

    status = fields.Enum(CaseStatus, by_value=True, load_default=None)
    category = CodeOrName("case-categories", load_default=None, validate=validate.Length(max=40))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    region_code = fields.String(load_default=None, validate=validate.Length(max=12))
    studio_id = fields.Integer(load_default=None)
    organization_id = fields.Integer(load_default=None)
    overdue = fields.Boolean(load_default=None, allow_none=True)
    transferred_out = fields.Boolean(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "已转出: instead of the caller's cases, the ones its organisation handed over by an "
            "accepted transfer (read-only), with ``transferred_to``"
        },
    )
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=60),
        metadata={
            "description": "a fragment of the case number, summary or a party's name; or a party's full ID number, "
            "phone or USCC (matched through the keyed hash)"
        },
    )
    person_hash = fields.String(
        data_key="pid",
        load_default=None,
        validate=validate.Regexp(rf"^{PERSON_HASH.pattern}$"),
        metadata={
            "description": "the keyed hash of a party's ID number or phone, as the list page's links "
            "carry it instead of the number"
        },
    )


class CaseQuery(CaseFilters):
    q = fields.String(
        load_default=None,
        validate=[validate.Length(max=60), _not_a_personal_number],
        metadata={
            "description": "a fragment of the case number, summary or a party's name, or a USCC. A full ID number or "
            "phone is refused here (422 naming q): it would be written into access logs and browser "
            "history; search by it with POST /api/v1/cases/search"
        },
    )


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
    summary = fields.String(required=True, validate=validate.Length(min=1, max=SUMMARY_MAX_LENGTH))
    mediator_id = fields.Integer(load_default=None, allow_none=True)
    place = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={"description": "调解地点"}
    )
    attendees = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "参加人员: free text, one per line"},
    )
    recorder = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=60),
        metadata={"description": "记录人 (a name)"},
    )
    version = _version


class ConcludeIn(Schema):
    outcome = fields.Enum(Outcome, by_value=True, required=True)
    concluded_on = fields.Date(**_date)
    agreement_amount_yuan = _amount
    terms = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=SUMMARY_MAX_LENGTH),
        metadata={
            "description": "the agreement's terms: required (not blank) when outcome is "
            "agreement, else 422 with code terms_required; only with an "
            "agreement"
        },
    )
    performed = fields.Boolean(load_default=None, allow_none=True)
    agreement_form = ChoiceIn(
        AgreementForm,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "written (书面协议, the default with an agreement) or oral (口头协议: recorded by the "
            "mediator, 人民调解法 art. 28); only with an agreement, else 422 with code "
            "only_with_agreement"
        },
    )
    version = _version


class ExtendIn(Schema):
    days = fields.Integer(required=True)
    consent_note = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "how the parties consented (人民调解工作若干规定 art. 33)"},
    )
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
    summary = fields.String(required=True, validate=validate.Length(min=1, max=SUMMARY_MAX_LENGTH))
    performed = fields.Boolean(load_default=None, allow_none=True)
    method = ChoiceIn(
        FollowUpMethod,
        load_default=None,
        allow_none=True,
        metadata={"description": "回访方式: visit (上门回访), phone (电话回访) or other (其他)"},
    )
    visitor = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=60),
        metadata={"description": "回访人 (a name)"},
    )
    version = _version


class EventOut(Schema):
    id = fields.Integer()
    code = fields.String()
    label = fields.Function(lambda e: str(EVENT_CODES.get(e.code, e.code)))
    on_date = fields.Date()
    at = fields.DateTime()
    organization_id = fields.Integer()
    region_code = fields.String()
    studio_id = fields.Integer(allow_none=True)
    actor_user_id = fields.Integer(allow_none=True, metadata={"description": "the account; null for the system"})
    actor_name = fields.Function(
        lambda e: event_actor(e).name,
        metadata={
            "type": "string",
            "description": "the person who recorded it (display name, else the linked mediator's name, else the "
            "account's role; 系统 for the system), never a login name",
        },
    )
    actor_organization = fields.Function(
        lambda e: event_actor(e).organization,
        allow_none=True,
        metadata={
            "type": "string",
            "nullable": True,
            "description": "the organisation (or, for an account without one, the region) of that person",
        },
    )
    data = fields.Dict()


class EventList(Schema):
    items = fields.List(fields.Nested(EventOut))


class PartyRevealOut(Schema):
    party_id = fields.Integer()
    id_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


CasePage = page_schema(CaseOut, "CasePage")


# --- the case detail and the case list without marshmallow ----------------------------------------------------------
#
# GET /api/v1/cases/<id> and the case list build their answers here from ``service.CaseRead`` (one query, lists as
# JSON rows): exactly what ``CaseDetailOut`` and ``CaseOut`` dump from the loaded models
# (tests/test_query_counts.py compares them), at a fraction of the cost. The schemas still document the answers and
# dump the transitions' answers.


def _day(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else value.isoformat()


def _yuan(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(str(value)).quantize(_CENTS), "f")


def _flag(value: Any) -> bool | None:  # a boolean as PostgreSQL (true/false) or SQLite (1/0) writes it in JSON
    return None if value is None else bool(value)


_CENTS = Decimal("0.01")


def _party(row: dict[str, Any]) -> dict[str, Any]:
    person = row["kind"] == PartyKind.person
    return {
        "id": row["id"],
        "position": row["position"],
        "role": row["role"],
        "kind": row["kind"],
        "name": row["name"],
        "id_number": row["id_number_masked"] if person else None,
        "uscc": row["id_number_masked"] if row["kind"] == PartyKind.organization else None,
        "phone": row["phone_masked"],
        "region_code": row["region_code"],
        "gender": row["gender"],
        "ethnicity": row["ethnicity"],
        "occupation": row["occupation"],
        "address": row["address"],
        "representative": row["representative"],
    }


def case_answer(read: Any, *, detail: bool) -> dict[str, Any]:
    """``CaseOut`` (``detail``: ``CaseDetailOut``) of a ``service.CaseRead``, built by hand."""
    c = read.case
    handover = read.handover
    answer = {
        "id": c.id,
        "number": c.number,
        "status": c.status.value,
        "status_label": str(STATUS_LABELS[c.status]),
        "outcome": c.outcome.value if c.outcome else None,
        "outcome_label": str(OUTCOME_LABELS[c.outcome]) if c.outcome else None,
        "organization_id": c.organization_id,
        "organization_name": read.organization_name,
        "studio_id": c.studio_id,
        "mediator_ids": read.mediator_ids,
        "category": c.category_code,
        "category_name": read.category_name,
        "source": c.source_code,
        "source_name": read.source_name,
        "summary": c.summary,
        "received_on": _day(c.received_on),
        "occurred_region_code": c.occurred_region_code,
        "amount_yuan": _yuan(c.amount_yuan),
        "accepted_on": _day(c.accepted_on),
        "due_on": _day(c.due_on),
        "due_on_provisional": c.due_on_provisional,
        "declined_on": _day(c.declined_on),
        "decline_reason": c.decline_reason,
        "concluded_on": _day(c.concluded_on),
        "cross_region": c.cross_region,
        "major": c.major,
        "overdue": is_overdue(c),
        "agreement_amount_yuan": _yuan(c.agreement_amount_yuan),
        "agreement_terms": c.agreement_terms,
        "agreement_performed": c.agreement_performed,
        "agreement_form": c.agreement_form,
        "confirmation_status": c.confirmation_status.value,
        "confirmation_deadline": _day(c.confirmation_deadline),
        "confirmation_deadline_provisional": c.confirmation_deadline_provisional,
        "confirmation_applied_on": _day(c.confirmation_applied_on),
        "confirmation_decided_on": _day(c.confirmation_decided_on),
        "follow_up_due_on": _day(c.follow_up_due_on),
        "follow_up_due_on_provisional": c.follow_up_due_on_provisional,
        "allowed_actions": [] if read.read_only else allowed_actions(c),
        "read_only": read.read_only,
        "transferred_to": None
        if handover is None
        else {
            "transfer_id": handover.transfer_id,
            "to_organization_id": handover.to_organization_id,
            "to_organization_name": handover.to_organization_name,
            "accepted_on": _day(handover.accepted_on),
        },
        "parties": [_party(p) for p in read.parties],
        "version": c.version,
    }
    if detail:
        answer["sessions"] = read.sessions
        answer["follow_ups"] = [{**f, "performed": _flag(f["performed"])} for f in read.follow_ups]
    return answer
