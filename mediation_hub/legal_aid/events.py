"""The registry of legal-aid event codes and the one function that appends an event row."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from ..core.actor import Actor
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
    application: LegalAidApplication, code: str, actor: Actor, on_date: date, data: dict | None = None
) -> LegalAidEvent:
    """Append one event for ``application`` at the centre now holding it (flush; the caller commits)."""
    if code not in EVENT_CODES:
        raise ValueError(f"unregistered legal-aid event code {code!r}")
    from ..registry.models import Organization

    centre = db.session.get(Organization, application.centre_id)
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
    return event
