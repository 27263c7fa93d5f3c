"""The registry of legal-aid event codes, the one function that appends an event row, and the events it announces.

Every row written is announced, once flushed, as the declared domain event of its code (``STEP_EVENTS``:
``legal_aid.filed``, ``legal_aid.transferred``, ``legal_aid.decided`` …); who reacts is declared in the
listener registries (``notifications.listeners``), not called from the service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from ..core.actor import Actor
from ..core.events import DomainEvent, emit
from ..extensions import db
from .models import LegalAidApplication, LegalAidEvent

EVENT_CODES = {
    "filed": _l("收到申请"),
    "transferred": _l("通办转交"),
    "accepted": _l("受理"),
    "granted": _l("决定给予法律援助"),
    "refused": _l("决定不予法律援助"),
    "lawyer_assigned": _l("指派律师"),
    "closed": _l("结案"),
    "deadline_moved": _l("期限调整"),
    "supplement_requested": _l("一次性告知补充材料"),
    "supplement_received": _l("收到补充材料"),
}


def record_event(
    application: LegalAidApplication, code: str, actor: Actor, on_date: date, data: dict[str, Any] | None = None
) -> LegalAidEvent:
    """Append one event for ``application`` at the centre now holding it and announce it (flush; the caller
    commits). An application loaded with its events (``service.DETAIL_LOADING``) lists the new one last, as a new
    read would, without reading them again."""
    if code not in EVENT_CODES:
        raise ValueError(f"unregistered legal-aid event code {code!r}")
    from ..registry.models import Organization

    centre = db.session.get_one(Organization, application.centre_id)
    event = LegalAidEvent(
        application_id=application.id,
        code=code,
        on_date=on_date,
        centre_id=centre.id,
        region_code=centre.region_code,
        actor_user_id=actor.user_id,
        actor_name=actor.username,
        data=data or {},
    )
    db.session.add(event)
    db.session.flush()
    if "events" not in sa.inspect(application).unloaded:
        set_committed_value(application, "events", [*application.events, event])
    emit(step_event(event))
    return event


# --- declared events -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ApplicationStep(DomainEvent):
    """A row appended to an application's event log, as listeners need it (the base; not emitted itself)."""

    application_id: int
    event_id: int
    code: str
    on_date: date
    centre_id: int  # the centre holding the application after the step
    region_code: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class LegalAidFiled(ApplicationStep):
    """An application was received at a legal-aid centre (收到申请)."""

    name: ClassVar[str] = "legal_aid.filed"


@dataclass(frozen=True, kw_only=True)
class LegalAidTransferred(ApplicationStep):
    """The application was handed over to the competent centre under 通办 (``centre_id`` receives it)."""

    name: ClassVar[str] = "legal_aid.transferred"


@dataclass(frozen=True, kw_only=True)
class LegalAidAccepted(ApplicationStep):
    """The competent centre accepted the application; the decision clock runs (受理)."""

    name: ClassVar[str] = "legal_aid.accepted"


@dataclass(frozen=True, kw_only=True)
class LegalAidDecided(ApplicationStep):
    """The centre granted (``code == "granted"``) or refused legal aid."""

    name: ClassVar[str] = "legal_aid.decided"

    @property
    def granted(self) -> bool:
        return self.code == "granted"


@dataclass(frozen=True, kw_only=True)
class LegalAidAssigned(ApplicationStep):
    """A lawyer was assigned to a granted application (指派律师)."""

    name: ClassVar[str] = "legal_aid.assigned"


@dataclass(frozen=True, kw_only=True)
class LegalAidClosed(ApplicationStep):
    """The legal-aid matter was finished (结案)."""

    name: ClassVar[str] = "legal_aid.closed"


@dataclass(frozen=True, kw_only=True)
class LegalAidSupplementRequested(ApplicationStep):
    """The applicant was told, once, which materials to supplement; the review clock stands still."""

    name: ClassVar[str] = "legal_aid.supplement_requested"


@dataclass(frozen=True, kw_only=True)
class LegalAidSupplementReceived(ApplicationStep):
    """The supplemented materials arrived; the decision deadline moved later by the days paused."""

    name: ClassVar[str] = "legal_aid.supplement_received"


@dataclass(frozen=True, kw_only=True)
class LegalAidDeadlineMoved(ApplicationStep):
    """A clock of the application was counted again after a calendar year changed."""

    name: ClassVar[str] = "legal_aid.deadline_moved"


STEP_EVENTS: dict[str, type[ApplicationStep]] = {
    "filed": LegalAidFiled,
    "transferred": LegalAidTransferred,
    "accepted": LegalAidAccepted,
    "granted": LegalAidDecided,
    "refused": LegalAidDecided,
    "lawyer_assigned": LegalAidAssigned,
    "closed": LegalAidClosed,
    "deadline_moved": LegalAidDeadlineMoved,
    "supplement_requested": LegalAidSupplementRequested,
    "supplement_received": LegalAidSupplementReceived,
}


def step_event(row: LegalAidEvent) -> ApplicationStep:
    """The declared event announcing a flushed event row (every registered code has a class)."""
    return STEP_EVENTS[row.code](
        application_id=row.application_id,
        event_id=row.id,
        code=row.code,
        on_date=row.on_date,
        centre_id=row.centre_id,
        region_code=row.region_code,
        data=dict(row.data or {}),
    )
