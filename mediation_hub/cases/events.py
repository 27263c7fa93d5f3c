"""The registry of case event codes and the one function that appends an event row.

Every lifecycle step (and every cross-region move) writes exactly one row here, carrying the handling
organisation (and its region) at that moment, so reports count each event where it happened."""

from __future__ import annotations

from datetime import date

from ..core.actor import Actor
from ..extensions import db
from .models import Case, CaseEvent

EVENT_CODES = {
    "registered": "登记",
    "accepted": "受理",
    "declined": "不予受理",
    "session_recorded": "调解记录",
    "concluded": "办结",
    "time_limit_extended": "延长期限",
    "confirmation_applied": "申请司法确认",
    "confirmation_decided": "司法确认结果",
    "follow_up_recorded": "回访",
    "party_number_revealed": "查看完整证件号码",
    "transfer_requested": "发起转办",
    "transfer_accepted": "转办接收",
    "transfer_declined": "转办退回",
    "transfer_expired": "转办超期",
    "transfer_withdrawn": "撤回转办",
    "joint_requested": "请求联合调解",
    "joint_accepted": "联合调解接收",
    "joint_declined": "联合调解退回",
    "joint_expired": "联合调解超期",
    "joint_withdrawn": "撤回联合调解",
    "handling_organization_changed": "承办组织变更",
    "imported": "导入",
    "deadline_moved": "期限调整",
}


def event_values(case_id: int, organization, studio_id: int | None, code: str, actor: Actor, on_date: date,
                 data: dict | None = None) -> dict:
    """The columns of one event row for a case handled by ``organization`` (record_event writes one row; the
    bulk import inserts many at once with exactly these values)."""
    if code not in EVENT_CODES:
        raise ValueError(f"unregistered case event code {code!r}")
    return {"case_id": case_id, "code": code, "on_date": on_date, "organization_id": organization.id,
            "region_code": organization.region_code, "studio_id": studio_id, "actor_user_id": actor.user_id,
            "actor_name": actor.username, "data": data or {}}


def record_event(case: Case, code: str, actor: Actor, on_date: date, data: dict | None = None) -> CaseEvent:
    """Append one event for ``case`` as it stands now (flush; the caller's unit of work commits)."""
    from ..registry.models import Organization

    org = case.organization if case.organization is not None else db.session.get(Organization, case.organization_id)
    event = CaseEvent(**event_values(case.id, org, case.studio_id, code, actor, on_date, data))
    db.session.add(event)
    db.session.flush()
    return event
