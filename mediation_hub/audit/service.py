"""Writing and reading the audit log. Entries never carry the personal values themselves."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from ..core.actor import Actor
from ..core.i18n import N_
from ..core.messages import coded
from ..core.pii import mask_numbers_in_text, mask_phone, normalise_phone
from ..core.shanghai import SHANGHAI
from ..errors import collect, raise_if
from ..extensions import db
from .models import AuditEntry
from .policy import POLICY

PHONE_LIKE = re.compile(r"[0-9+()\- ]{7,24}")  # a fixed-line number typed whole ("010-6512 3456")
ACTIONS = frozenset(
    {
        "sign_in",
        "sign_in_failed",
        "sign_in_throttled",
        "sign_out",
        "token_issued",
        "token_revoked",
        "reveal_id_number",
        "reveal_phone",
        "user_created",
        "calendar_loaded",
        "personal_data_erased",
        "personal_data_exported",
        "password_changed",
        "password_reset",
        "user_deactivated",
        "user_reactivated",
        "user_updated",
        "agreement_created",
        "agreement_changed",
        "agreement_deactivated",
        "agreement_reactivated",
        "agreement_proposed",
        "agreement_proposal_confirmed",
        "agreement_proposal_declined",
        "agreement_proposal_withdrawn",
        "agreement_proposal_applied",
        "document_with_numbers",
    }
)

# What the audit-log page calls each action; an action without a label here is shown by its code.
ACTION_LABELS = {
    "sign_in": N_("登录"),
    "sign_in_failed": N_("登录失败"),
    "sign_in_throttled": N_("登录失败过多，账户锁定"),
    "sign_out": N_("退出登录"),
    "token_issued": N_("签发访问令牌"),
    "token_revoked": N_("撤销访问令牌"),
    "reveal_id_number": N_("查看完整身份证号码"),
    "reveal_phone": N_("查看完整手机号码"),
    "user_created": N_("创建账户"),
    "calendar_loaded": N_("载入工作日历"),
    "personal_data_erased": N_("删除个人信息"),
    "personal_data_exported": N_("导出个人信息"),
    "password_changed": N_("修改密码"),
    "password_reset": N_("重置密码"),
    "user_deactivated": N_("停用账户"),
    "user_reactivated": N_("重新启用账户"),
    "user_updated": N_("变更账户角色或范围"),
    "agreement_created": N_("新建协议"),
    "agreement_changed": N_("修改协议"),
    "agreement_deactivated": N_("停止执行协议"),
    "agreement_reactivated": N_("恢复执行协议"),
    "agreement_proposed": N_("提议新建或修改协议"),
    "agreement_proposal_confirmed": N_("确认协议提议"),
    "agreement_proposal_declined": N_("拒绝协议提议"),
    "agreement_proposal_withdrawn": N_("撤回协议提议"),
    "agreement_proposal_applied": N_("协议提议生效"),
    "document_with_numbers": N_("出具含完整证件号码的文书"),
}


def record(
    actor: Actor | None,
    action: str,
    *,
    target_type: str | None = None,
    target_id: int | str | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
    username: str | None = None,
) -> AuditEntry:
    """Append one audit entry (flushed, committed with the caller's unit of work)."""
    if action not in ACTIONS:
        raise ValueError(f"unregistered audit action {action!r}")
    entry = AuditEntry(
        user_id=actor.user_id if actor else None,
        username=_typed_name(username) if username else (actor.username if actor else "anonymous"),
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        detail=detail or {},
        remote_addr=remote_addr,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _typed_name(username: str) -> str:
    """A name as typed at sign-in may be anything, an ID number or a phone number included: those are kept
    masked (no account name is a valid ID or phone number that anyone needs to read back in full)."""
    if PHONE_LIKE.fullmatch(username.strip()):
        with contextlib.suppress(ValueError):
            return mask_phone(normalise_phone(username))[:60]
    return mask_numbers_in_text(username)[:60]


def action_choices() -> list[tuple[str, str]]:
    """Every registered action with its label (untranslated), in label order, for a filter."""
    return sorted(((code, ACTION_LABELS.get(code, code)) for code in ACTIONS), key=lambda item: item[1])


def list_entries(
    actor: Actor,
    *,
    user: str | None = None,
    action: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> sa.Select[tuple[AuditEntry]]:
    """Audit entries for an administrator, newest first. ``user`` is a username: the entries that account made,
    the sign-ins tried under that name, and the changes made to that account. ``date_from`` and ``date_to``
    are Asia/Shanghai calendar dates, both included."""
    POLICY.require(actor, "read_log")
    errors: dict[str, list[str]] = {}
    if action is not None and action not in ACTIONS:
        collect(errors, "action", coded("unknown_action", "未知的操作类型"))
    if date_from and date_to and date_to < date_from:
        collect(errors, "date_to", coded("date_to_before_date_from", "结束日期不能早于开始日期"))
    raise_if(errors)
    stmt = sa.select(AuditEntry)
    if user:
        stmt = stmt.where(_about_user(user))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if date_from:
        stmt = stmt.where(AuditEntry.at >= _start_of(date_from))
    if date_to and date_to < date.max:
        stmt = stmt.where(AuditEntry.at < _start_of(date_to + timedelta(days=1)))
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def _about_user(username: str) -> sa.ColumnElement[bool]:
    from ..auth.models import User

    user_id = db.session.scalar(sa.select(User.id).where(User.username == username))
    if user_id is None:
        return AuditEntry.username == username
    return sa.or_(
        AuditEntry.username == username,
        AuditEntry.user_id == user_id,
        sa.and_(AuditEntry.target_type == "user", AuditEntry.target_id == str(user_id)),
    )


def _start_of(day: date) -> datetime:
    """Midnight in Shanghai as a UTC instant (the first day of the calendar has none: the earliest instant)."""
    if day == date.min:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)
