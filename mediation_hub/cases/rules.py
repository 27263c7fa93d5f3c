"""The case rules in one place: which transition is allowed from which state, the time limits, the dates a
step may carry, and when a dispute is cross-region.

Action names (used by ``allowed_actions`` and the pages): ``accept``, ``decline``, ``record_session``,
``conclude``, ``extend_time_limit``, ``apply_for_confirmation``, ``record_confirmation_result``,
``record_follow_up``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..core.business_dates import too_early
from ..core.calendar import Deadline, calendar_deadline
from ..core.i18n import N_
from ..core.messages import code_of, coded
from ..core.shanghai import today_shanghai
from ..errors import StateConflict, ValidationFailed
from .models import (
    AgreementForm,
    Case,
    CaseStatus,
    ConfirmationStatus,
    FollowUpMethod,
    Gender,
    Outcome,
    PartyKind,
    PartyRole,
)

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
    "accept": CaseStatus.accepted,
    "decline": CaseStatus.declined,
    "record_session": CaseStatus.in_mediation,
    "conclude": CaseStatus.concluded,
    "extend_time_limit": None,
    "apply_for_confirmation": None,
    "record_confirmation_result": None,
    "record_follow_up": None,
}

# Labels for people: lazy, so each is translated where it is shown (str() it where a plain string is needed).
ACTION_LABELS = {
    "accept": _l("受理"),
    "decline": _l("不予受理"),
    "record_session": _l("记录调解"),
    "conclude": _l("办结"),
    "extend_time_limit": _l("延长期限"),
    "apply_for_confirmation": _l("申请司法确认"),
    "record_confirmation_result": _l("记录司法确认结果"),
    "record_follow_up": _l("回访"),
}

STATUS_LABELS = {
    CaseStatus.registered: _l("已登记"),
    CaseStatus.accepted: _l("已受理"),
    CaseStatus.in_mediation: _l("调解中"),
    CaseStatus.concluded: _l("已办结"),
    CaseStatus.declined: _l("不予受理"),
}

OUTCOME_LABELS = {
    Outcome.agreement: _l("达成协议"),
    Outcome.no_agreement: _l("未达成协议"),
    Outcome.withdrawn: _l("撤回"),
    Outcome.referred: _l("转诉讼/仲裁"),
}

GENDER_LABELS = {Gender.male: _l("男"), Gender.female: _l("女")}
PARTY_ROLE_LABELS = {
    PartyRole.applicant: _l("申请人"),
    PartyRole.respondent: _l("被申请人"),
    PartyRole.third_party: _l("第三人"),
}
PARTY_KIND_LABELS = {PartyKind.person: _l("自然人"), PartyKind.organization: _l("法人或其他组织")}
AGREEMENT_FORM_LABELS = {AgreementForm.written: _l("书面协议"), AgreementForm.oral: _l("口头协议")}
FOLLOW_UP_METHOD_LABELS = {
    FollowUpMethod.visit: _l("上门回访"),
    FollowUpMethod.phone: _l("电话回访"),
    FollowUpMethod.other: _l("其他"),
}


def _confirmation_guard(case: Case) -> str | None:
    if case.outcome != Outcome.agreement:
        return coded("confirmation_needs_agreement", "只有达成调解协议的案件可以申请司法确认")
    if case.confirmation_status != ConfirmationStatus.none:
        return coded("confirmation_already_applied", "已申请司法确认")
    return None


def _confirmation_result_guard(case: Case) -> str | None:
    if case.confirmation_status != ConfirmationStatus.applied:
        return coded("confirmation_not_applied", "尚未申请司法确认或已有结果")
    return None


# Conditions beyond the state, for the few transitions that need them; each returns why not, or None.
GUARDS: dict[str, Callable[[Case], str | None]] = {
    "apply_for_confirmation": _confirmation_guard,
    "record_confirmation_result": _confirmation_result_guard,
}


def allowed_actions(case: Case) -> list[str]:
    """The transitions allowed on ``case`` now, in the table's order."""
    return [
        action
        for action, states in TRANSITIONS.items()
        if case.status in states and (action not in GUARDS or GUARDS[action](case) is None)
    ]


def require_allowed(case: Case, action: str) -> None:
    """Raise StateConflict (409) naming the current state and the action when ``action`` is not allowed."""
    states = TRANSITIONS[action]
    if case.status not in states:
        raise StateConflict(
            coded(
                "action_not_allowed",
                "案件状态为「%(status)s」，不能%(action)s",
                status=STATUS_LABELS[case.status],
                action=ACTION_LABELS[action],
            )
        )
    guard = GUARDS.get(action)
    reason = guard(case) if guard else None
    if reason:
        raise StateConflict(
            coded(
                code_of(reason, "action_not_allowed"),
                "案件状态为「%(status)s」，不能%(action)s：%(reason)s",
                status=STATUS_LABELS[case.status],
                action=ACTION_LABELS[action],
                reason=reason,
            )
        )


CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # what the amount columns (NUMERIC(14, 2)) hold
AMOUNT_DECIMALS = N_("金额最多两位小数")

# One limit for a dispute's summary, everywhere it is written: the page (with its counter), the API, the import.
SUMMARY_MAX_LENGTH = 5000
# A registration warns of an open case with one of its parties registered this many calendar days back or fewer.
DUPLICATE_WINDOW_DAYS = 90

# What people type for money: full-width digits and signs, Chinese punctuation (3，500。00), a currency sign in
# front or 元 behind. NFKC turns full-width forms into ASCII; these are the ones it leaves alone.
_AMOUNT_CHARS = str.maketrans({"。": ".", "．": ".", "，": ",", "、": ",", "−": "-", "－": "-", "﹣": "-"})
_CURRENCY_PREFIX = re.compile(r"^(?:人民币|RMB|CNY|¥)")
_CURRENCY_SUFFIX = re.compile(r"(?:元整|元|块|圆)$")
_WELL_FORMED = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:E[-+]?\d{1,3})?")
_GROUPED = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def _amount_text(value) -> str:
    """The amount as plain ASCII: full-width and Chinese forms folded, spaces, currency and 元 dropped."""
    text = unicodedata.normalize("NFKC", str(value)).translate(_AMOUNT_CHARS)
    text = re.sub(r"\s+", "", text).upper()
    text = _CURRENCY_SUFFIX.sub("", _CURRENCY_PREFIX.sub("", text))
    return text


def _amount_problem(text: str) -> tuple[str, str] | None:
    """Why ``text`` (from ``_amount_text``) is not a number of yuan: (code, message), or None."""
    if text.count(".") > 1:
        return "amount_two_points", N_("金额只能有一个小数点")
    if "," in text and not _GROUPED.fullmatch(text):
        return "amount_bad_grouping", N_("金额中的逗号只能作千位分隔符（如 3,500.00）")
    if not _WELL_FORMED.fullmatch(text.replace(",", "")):
        return "invalid_amount", N_("金额只能填写数字，如 3500 或 3500.00")
    return None


def parse_amount(value) -> Decimal:
    """The number written in ``value`` (not checked against the money rules), or ValueError(Coded) saying what is
    wrong with how it is written. ``3，500。00``, ``３５００``, ``3,500.00``, ``￥3500``, ``3500元`` all read 3500."""
    if isinstance(value, bool):
        raise ValueError(coded("invalid_amount", "金额只能填写数字，如 3500 或 3500.00"))
    if isinstance(value, (int, Decimal)):
        amount = Decimal(value)
    elif isinstance(value, float):  # a JSON number: its shortest repr is what the client wrote
        amount = Decimal(repr(value))
    else:
        text = _amount_text(value)
        problem = _amount_problem(text)
        if problem:
            raise ValueError(coded(*problem))
        amount = Decimal(text.replace(",", ""))
    if not amount.is_finite():
        raise ValueError(coded("invalid_amount", "金额只能填写数字，如 3500 或 3500.00"))
    return amount


def to_amount(value, field: str, errors: dict) -> Decimal | None:
    """A yuan amount greater than 0 with at most two decimals, or None; a bad value is collected under ``field``
    with a message saying exactly what is wrong (and a code: ``amount_two_points``, ``amount_bad_grouping``,
    ``invalid_amount``, ``negative_amount``, ``amount_not_positive``, ``amount_too_large``, ``too_many_decimals``).

    The one money rule of the API, the pages and the imports: a third decimal is refused, never rounded away
    (``12.30`` and ``12.300`` are the same amount; ``12.305`` is not an amount in yuan). Blank is no amount."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = parse_amount(value)
    except (ValueError, InvalidOperation) as exc:
        message = (
            exc.args[0]
            if exc.args and hasattr(exc.args[0], "code")
            else coded("invalid_amount", "金额只能填写数字，如 3500 或 3500.00")
        )
        errors.setdefault(field, []).append(message)
        return None
    if amount < 0:
        errors.setdefault(field, []).append(coded("negative_amount", "金额不能为负数"))
        return None
    if amount == 0:
        errors.setdefault(field, []).append(coded("amount_not_positive", "金额须大于 0；没有金额请留空"))
        return None
    if amount > MAX_AMOUNT:
        errors.setdefault(field, []).append(
            coded("amount_too_large", "金额超出允许范围（最多 %(max)s 元）", max=MAX_AMOUNT)
        )
        return None
    if _decimals(amount) > 2:
        errors.setdefault(field, []).append(coded("too_many_decimals", AMOUNT_DECIMALS))
        return None
    return amount.quantize(CENT)


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
        raise ValidationFailed(
            {field: [coded("date_in_future", "日期不能晚于今天 %(today)s", today=today.isoformat())]}
        )
    if early := too_early(day):
        raise ValidationFailed({field: [early]})
    if not_before is not None and day < not_before:
        raise ValidationFailed(
            {field: [coded("before_previous_step", "日期不能早于上一步骤日期 %(day)s", day=not_before.isoformat())]}
        )
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

    regions = [
        r
        for r in (db.session.get(Region, c) for c in dict.fromkeys(c for c in region_codes if c))
        if r is not None and r.province_code
    ]
    if len({r.province_code for r in regions}) > 1:
        return True
    prefectures = sorted({r.prefecture_code for r in regions if r.prefecture_code})
    for i, first in enumerate(prefectures):
        for second in prefectures[i + 1 :]:
            if any(a.kind == AgreementKind.pairing for a in agreements_covering([first, second], "mediation", on)):
                return True
    return False
