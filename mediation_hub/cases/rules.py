"""The case rules in one place: which transition is allowed from which state, the time limits, the dates a
step may carry, and when a dispute is cross-region.

Action names (used by ``allowed_actions`` and the pages): ``accept``, ``decline``, ``record_session``,
``conclude``, ``extend_time_limit``, ``apply_for_confirmation``, ``record_confirmation_result``,
``record_follow_up``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app

from ..core.business_dates import too_early
from ..core.calendar import Deadline, calendar_deadline
from ..core.shanghai import today_shanghai
from ..errors import StateConflict, ValidationFailed
from .models import Case, CaseStatus, ConfirmationStatus, Outcome

OPEN_STATES = frozenset({CaseStatus.registered, CaseStatus.accepted, CaseStatus.in_mediation})
RUNNING_STATES = frozenset({CaseStatus.accepted, CaseStatus.in_mediation})

# The one table of allowed source states per transition.
TRANSITIONS: dict[str, frozenset[CaseStatus]] = {
    "accept": frozenset({CaseStatus.registered}),
    "decline": frozenset({CaseStatus.registered}),
    "record_session": RUNNING_STATES,
    "conclude": RUNNING_STATES,
    "extend_time_limit": RUNNING_STATES,
    "apply_for_confirmation": frozenset({CaseStatus.concluded}),
    "record_confirmation_result": frozenset({CaseStatus.concluded}),
    "record_follow_up": frozenset({CaseStatus.concluded}),
}

# What a transition does to the status (None: the status stays).
TARGET_STATE: dict[str, CaseStatus | None] = {
    "accept": CaseStatus.accepted, "decline": CaseStatus.declined, "record_session": CaseStatus.in_mediation,
    "conclude": CaseStatus.concluded, "extend_time_limit": None, "apply_for_confirmation": None,
    "record_confirmation_result": None, "record_follow_up": None,
}

ACTION_LABELS = {
    "accept": "受理", "decline": "不予受理", "record_session": "记录调解", "conclude": "办结",
    "extend_time_limit": "延长期限", "apply_for_confirmation": "申请司法确认",
    "record_confirmation_result": "记录司法确认结果", "record_follow_up": "回访",
}

STATUS_LABELS = {
    CaseStatus.registered: "已登记", CaseStatus.accepted: "已受理", CaseStatus.in_mediation: "调解中",
    CaseStatus.concluded: "已办结", CaseStatus.declined: "不予受理",
}

OUTCOME_LABELS = {
    Outcome.agreement: "达成协议", Outcome.no_agreement: "未达成协议", Outcome.withdrawn: "撤回",
    Outcome.referred: "转诉讼/仲裁",
}


def _confirmation_guard(case: Case) -> str | None:
    if case.outcome != Outcome.agreement:
        return "只有达成调解协议的案件可以申请司法确认 (only an agreement can be confirmed)"
    if case.confirmation_status != ConfirmationStatus.none:
        return f"已申请司法确认 (confirmation already {case.confirmation_status.value})"
    return None


def _confirmation_result_guard(case: Case) -> str | None:
    if case.confirmation_status != ConfirmationStatus.applied:
        return f"尚未申请司法确认或已有结果 (confirmation is {case.confirmation_status.value}, not applied)"
    return None


# Conditions beyond the state, for the few transitions that need them; each returns why not, or None.
GUARDS: dict[str, Callable[[Case], str | None]] = {
    "apply_for_confirmation": _confirmation_guard,
    "record_confirmation_result": _confirmation_result_guard,
}


def allowed_actions(case: Case) -> list[str]:
    """The transitions allowed on ``case`` now, in the table's order."""
    return [action for action, states in TRANSITIONS.items()
            if case.status in states and (action not in GUARDS or GUARDS[action](case) is None)]


def require_allowed(case: Case, action: str) -> None:
    """Raise StateConflict (409) naming the current state and the action when ``action`` is not allowed."""
    states = TRANSITIONS[action]
    if case.status not in states:
        allowed = ", ".join(sorted(s.value for s in states))
        raise StateConflict(
            f"案件状态为「{STATUS_LABELS[case.status]}」({case.status.value})，不能{ACTION_LABELS[action]}"
            f" (action {action!r} is not allowed in state {case.status.value!r}; allowed from: {allowed})")
    guard = GUARDS.get(action)
    reason = guard(case) if guard else None
    if reason:
        raise StateConflict(
            f"案件状态为「{STATUS_LABELS[case.status]}」({case.status.value})，不能{ACTION_LABELS[action]}: {reason}"
            f" (action {action!r} in state {case.status.value!r})")


CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # what the amount columns (NUMERIC(14, 2)) hold
AMOUNT_DECIMALS = "金额最多两位小数 (at most two decimals)"


def to_amount(value, field: str, errors: dict) -> Decimal | None:
    """A non-negative yuan amount of at most two decimals, or None; a bad value is collected under ``field``.

    The one money rule of the API, the pages and the imports: a third decimal is refused, never rounded away
    (``12.30`` and ``12.300`` are the same amount; ``12.305`` is not an amount in yuan)."""
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        errors.setdefault(field, []).append("金额格式错误 (not an amount)")
        return None
    if amount < 0:
        errors.setdefault(field, []).append("金额不能为负 (may not be negative)")
        return None
    if amount > MAX_AMOUNT:
        errors.setdefault(field, []).append(f"金额超出允许范围 (at most {MAX_AMOUNT})")
        return None
    if _decimals(amount) > 2:
        errors.setdefault(field, []).append(AMOUNT_DECIMALS)
        return None
    return amount.quantize(CENT) + 0  # exact now; "+ 0" turns -0.00 into 0.00


def _decimals(amount: Decimal) -> int:
    """How many decimals ``amount`` really has (trailing zeros do not count), counted on its digits: no
    arithmetic, which would round to the context's 28 digits."""
    _sign, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    significant = len(digits)
    while significant > 0 and digits[significant - 1] == 0:
        significant -= 1
    if significant == 0:  # zero, however many decimals it is written with
        return 0
    return max(-exponent - (len(digits) - significant), 0)


def step_date(value: date | None, field: str, *, not_before: date | None, today: date | None = None) -> date:
    """The date of a step: today when not given, never in the future, never before 1990 nor ``not_before``."""
    today = today or today_shanghai()
    day = value or today
    if day > today:
        raise ValidationFailed({field: [f"日期不能晚于今天 {today.isoformat()} (a date may not be in the future)"]})
    if too_early(day):
        raise ValidationFailed({field: [too_early(day)]})
    if not_before is not None and day < not_before:
        raise ValidationFailed({field: [f"日期不能早于上一步骤日期 {not_before.isoformat()}"
                                        f" (may not be before the previous step)"]})
    return day


# --- time limits -----------------------------------------------------------------------------------------

def time_limit_days(org_kind: str | None) -> int:
    """The case time limit in calendar days for an organisation kind (setting CASE_TIME_LIMIT_DAYS)."""
    table = current_app.config.get("CASE_TIME_LIMIT_DAYS") or {"default": 30}
    kind = getattr(org_kind, "value", org_kind)
    return int(table.get(kind, table.get("default", 30)))


def case_due_on(accepted_on: date, org_kind: str | None) -> Deadline:
    """Due date counted from acceptance (Civil Code 201/203: from the next day, past a closing rest day)."""
    return calendar_deadline(accepted_on, time_limit_days(org_kind), field="accepted_on")


def confirmation_window_days() -> int:
    return int(current_app.config.get("CASE_CONFIRMATION_WINDOW_DAYS", 30))


def follow_up_days() -> int:
    return int(current_app.config.get("CASE_FOLLOW_UP_DAYS", 30))


def confirmation_deadline(concluded_on: date) -> Deadline:
    """Last day to apply for 司法确认: 30 days after the agreement takes effect (People's Mediation Law 33)."""
    return calendar_deadline(concluded_on, confirmation_window_days(), field="concluded_on")


def follow_up_due(concluded_on: date) -> Deadline:
    """When the follow-up visit (回访) of an agreement falls due."""
    return calendar_deadline(concluded_on, follow_up_days(), field="concluded_on")


def is_overdue(case: Case, today: date | None = None) -> bool:
    """An accepted or in-mediation case past its due date."""
    today = today or today_shanghai()
    return case.status in RUNNING_STATES and case.due_on is not None and case.due_on < today


# --- cross-region ------------------------------------------------------------------------------------------

def is_cross_region(region_codes: list[str], on: date) -> bool:
    """Whether regions lie in different provinces, or in different prefecture-level cities that an active
    pairing agreement (结对) in force on ``on`` covers together. Unknown codes are ignored."""
    from ..agreements.models import AgreementKind
    from ..agreements.service import agreements_covering
    from ..extensions import db
    from ..regions.models import Region

    regions = [r for r in (db.session.get(Region, c) for c in dict.fromkeys(c for c in region_codes if c))
               if r is not None and r.province_code]
    if len({r.province_code for r in regions}) > 1:
        return True
    prefectures = sorted({r.prefecture_code for r in regions if r.prefecture_code})
    for i, first in enumerate(prefectures):
        for second in prefectures[i + 1:]:
            if any(a.kind == AgreementKind.pairing for a in agreements_covering([first, second], "mediation", on)):
                return True
    return False
