"""The registry of case event codes, the one function that appends an event row, and the events it announces.

Every lifecycle step (and every cross-region move) writes exactly one row here, carrying the handling
organisation (and its region) at that moment, so reports count each event where it happened.

Each row written is announced as a declared domain event (``core.events``) once it is flushed: a lifecycle
code has a class of its own (``STEP_EVENTS``: ``case.registered``, ``case.accepted`` …); the other codes
(transfer and joint-mediation steps, which ``transfers.events`` announces with their own payload, personal-number
access, one imported case) are announced as the generic ``case.step_recorded``, the base every step event
shares, so a listener of ``CaseStepRecorded`` hears every row. Rows written in bulk by an import are announced
once, as ``CasesImported``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from flask_babel import lazy_gettext as _l

from ..core.actor import Actor
from ..core.events import DomainEvent, emit
from ..extensions import db
from .models import Case, CaseEvent

if TYPE_CHECKING:  # for the annotation; event_actor still imports it only when called
    from ..auth.people import Person

EVENT_CODES = {
    "registered": _l("登记"),
    "accepted": _l("受理"),
    "declined": _l("不予受理"),
    "session_recorded": _l("调解记录"),
    "concluded": _l("办结"),
    "time_limit_extended": _l("延长期限"),
    "confirmation_applied": _l("申请司法确认"),
    "confirmation_decided": _l("司法确认结果"),
    "follow_up_recorded": _l("回访"),
    "party_number_revealed": _l("查看完整证件号码"),
    "document_with_numbers": _l("出具含完整证件号码的文书"),
    "transfer_requested": _l("发起转办"),
    "transfer_accepted": _l("转办接收"),
    "transfer_declined": _l("转办退回"),
    "transfer_expired": _l("转办超期"),
    "transfer_withdrawn": _l("撤回转办"),
    "joint_requested": _l("请求联合调解"),
    "joint_accepted": _l("联合调解接收"),
    "joint_declined": _l("联合调解退回"),
    "joint_expired": _l("联合调解超期"),
    "joint_withdrawn": _l("撤回联合调解"),
    "handling_organization_changed": _l("承办组织变更"),
    "imported": _l("导入"),
    "deadline_moved": _l("期限调整"),
}


class EventOrganization(Protocol):
    """What an event row reads of the handling organisation: the model, or the bulk import's plain copy."""

    @property
    def id(self) -> int: ...

    @property
    def region_code(self) -> str: ...


def event_values(
    case_id: int,
    organization: EventOrganization,
    studio_id: int | None,
    code: str,
    actor: Actor,
    on_date: date,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of one event row for a case handled by ``organization`` (record_event writes one row; the
    bulk import inserts many at once with exactly these values)."""
    if code not in EVENT_CODES:
        raise ValueError(f"unregistered case event code {code!r}")
    return {
        "case_id": case_id,
        "code": code,
        "on_date": on_date,
        "organization_id": organization.id,
        "region_code": organization.region_code,
        "studio_id": studio_id,
        "actor_user_id": actor.user_id,
        "actor_name": actor.username,
        "data": data or {},
    }


def record_event(case: Case, code: str, actor: Actor, on_date: date, data: dict[str, Any] | None = None) -> CaseEvent:
    """Append one event for ``case`` as it stands now and announce it (flush; the caller's unit of work commits)."""
    from ..registry.models import Organization

    org = case.organization if case.organization is not None else db.session.get_one(Organization, case.organization_id)
    return append_event(event_values(case.id, org, case.studio_id, code, actor, on_date, data))


def append_event(values: Mapping[str, Any]) -> CaseEvent:
    """Insert one event row (the columns ``event_values`` gives), flush, then announce it (``step_event``).

    The one way a single row enters the log, so its listeners (the rate aggregates) never miss one; bulk
    inserts bypass it and announce ``CasesImported`` instead."""
    if values["code"] not in EVENT_CODES:
        raise ValueError(f"unregistered case event code {values['code']!r}")
    event = CaseEvent(**values)
    db.session.add(event)
    db.session.flush()
    emit(step_event(event))
    return event


def event_actor(event: CaseEvent) -> Person:
    """Who recorded the event as people read it: name and organisation (``auth.people.Person``), never the
    login name ``actor_name`` keeps for the record."""
    from ..auth.people import person_for_user

    return person_for_user(event.actor_user_id)


# --- declared events -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CaseStepRecorded(DomainEvent):
    """A row appended to the case event log, as listeners need it (no ORM object: the payload is plain data).

    Announced as such for codes without a class of their own; the base of every case step event."""

    name: ClassVar[str] = "case.step_recorded"

    case_id: int
    event_id: int  # case_events.id: the rate aggregates pair a completion with the rows before it
    code: str
    on_date: date
    organization_id: int  # the handling organisation when the step happened
    region_code: str
    studio_id: int | None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CaseRegistered(CaseStepRecorded):
    """A dispute was registered (登记)."""

    name: ClassVar[str] = "case.registered"


@dataclass(frozen=True, kw_only=True)
class CaseAccepted(CaseStepRecorded):
    """The handling organisation accepted the case (受理); its time limit runs."""

    name: ClassVar[str] = "case.accepted"


@dataclass(frozen=True, kw_only=True)
class CaseDeclined(CaseStepRecorded):
    """The handling organisation declined the case (不予受理)."""

    name: ClassVar[str] = "case.declined"


@dataclass(frozen=True, kw_only=True)
class CaseSessionRecorded(CaseStepRecorded):
    """A mediation session was recorded (调解记录)."""

    name: ClassVar[str] = "case.session_recorded"


@dataclass(frozen=True, kw_only=True)
class CaseConcluded(CaseStepRecorded):
    """The case was concluded (办结); ``data["outcome"]`` says how."""

    name: ClassVar[str] = "case.concluded"


@dataclass(frozen=True, kw_only=True)
class CaseTimeLimitExtended(CaseStepRecorded):
    """The time limit was extended (延长期限)."""

    name: ClassVar[str] = "case.time_limit_extended"


@dataclass(frozen=True, kw_only=True)
class CaseConfirmationApplied(CaseStepRecorded):
    """The parties applied for judicial confirmation of the agreement (申请司法确认)."""

    name: ClassVar[str] = "case.confirmation_applied"


@dataclass(frozen=True, kw_only=True)
class CaseConfirmationDecided(CaseStepRecorded):
    """The court decided on the judicial confirmation (司法确认结果)."""

    name: ClassVar[str] = "case.confirmation_decided"


@dataclass(frozen=True, kw_only=True)
class CaseFollowUpRecorded(CaseStepRecorded):
    """A follow-up visit was recorded (回访)."""

    name: ClassVar[str] = "case.follow_up_recorded"


@dataclass(frozen=True, kw_only=True)
class CaseHandlingOrganizationChanged(CaseStepRecorded):
    """Another organisation handles the case now (a transfer was accepted)."""

    name: ClassVar[str] = "case.handling_organization_changed"


@dataclass(frozen=True, kw_only=True)
class CaseDeadlineMoved(CaseStepRecorded):
    """A deadline of the case (or of its transfer) was counted again after a calendar year changed."""

    name: ClassVar[str] = "case.deadline_moved"


# The codes announced by a class of their own; every other registered code is a plain ``CaseStepRecorded``.
STEP_EVENTS: dict[str, type[CaseStepRecorded]] = {
    "registered": CaseRegistered,
    "accepted": CaseAccepted,
    "declined": CaseDeclined,
    "session_recorded": CaseSessionRecorded,
    "concluded": CaseConcluded,
    "time_limit_extended": CaseTimeLimitExtended,
    "confirmation_applied": CaseConfirmationApplied,
    "confirmation_decided": CaseConfirmationDecided,
    "follow_up_recorded": CaseFollowUpRecorded,
    "handling_organization_changed": CaseHandlingOrganizationChanged,
    "deadline_moved": CaseDeadlineMoved,
}


def step_event(row: CaseEvent) -> CaseStepRecorded:
    """The declared event announcing a flushed event row (its code's class, else the generic step)."""
    kind = STEP_EVENTS.get(row.code, CaseStepRecorded)
    return kind(
        case_id=row.case_id,
        event_id=row.id,
        code=row.code,
        on_date=row.on_date,
        organization_id=row.organization_id,
        region_code=row.region_code,
        studio_id=row.studio_id,
        data=dict(row.data or {}),
    )


@dataclass(frozen=True, kw_only=True)
class CasesImported(DomainEvent):
    """Cases and their event rows were written in bulk (an import), without a step event per row: the span of the
    rows' dates, so that listeners can catch up once the import's writes are committed."""

    name: ClassVar[str] = "case.imported"

    first_day: date
    last_day: date
