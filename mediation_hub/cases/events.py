"""The registry of case event codes and the one function that appends an event row.

Every lifecycle step (and every cross-region move) writes exactly one row here, carrying the handling
organisation (and its region) at that moment, so reports count each event where it happened."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from ..core.actor import Actor
from ..extensions import db
from .models import Case, CaseEvent

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


def event_values(
    case_id: int, organization, studio_id: int | None, code: str, actor: Actor, on_date: date, data: dict | None = None
) -> dict:
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


def record_event(case: Case, code: str, actor: Actor, on_date: date, data: dict | None = None) -> CaseEvent:
    """Append one event for ``case`` as it stands now (flush; the caller's unit of work commits)."""
    from ..registry.models import Organization

    org = case.organization if case.organization is not None else db.session.get(Organization, case.organization_id)
    event = CaseEvent(**event_values(case.id, org, case.studio_id, code, actor, on_date, data))
    db.session.add(event)
    db.session.flush()
    return event


def event_actor(event: CaseEvent):
    """Who recorded the event as people read it: name and organisation (``auth.people.Person``), never the
    login name ``actor_name`` keeps for the record."""
    from ..auth.people import person_for_user

    return person_for_user(event.actor_user_id)
