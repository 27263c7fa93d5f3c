"""The case lifecycle: one small function per transition, each checked against ``rules.TRANSITIONS`` before
anything changes, each writing exactly one event. Every failure of the input is gathered into one 422."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ...core.actor import Actor
from ...core.calendar import calendar_deadline
from ...core.db import utcnow
from ...core.i18n import N_
from ...core.messages import coded
from ...errors import StateConflict, ValidationFailed, collect
from ...extensions import db
from ...registry.models import Mediator
from ..events import record_event
from ..models import (
    AgreementForm,
    Case,
    CaseMediator,
    CaseStatus,
    ConfirmationStatus,
    FollowUp,
    FollowUpMethod,
    MediationSession,
    Outcome,
)
from ..policy import POLICY
from ..rules import (
    case_due_on,
    confirmation_deadline,
    follow_up_due,
    require_allowed,
    step_date,
    time_limit_days,
    to_amount,
)
from .scope import get_case

_T = TypeVar("_T")
_Row = TypeVar("_Row", MediationSession, FollowUp)
# An amount as the pages, the API and the imports give it (``rules.to_amount`` reads each form).
AmountGiven = Decimal | str | int | float | None

MAX_EXTENSION_DAYS = 90
# People's Mediation Law art. 26: the parties of a failed mediation are told of the other routes.
OTHER_ROUTES_NOTE = N_("调解不成，已告知当事人可以依法通过仲裁、行政、司法等途径维护自己的权利")


def _load(actor: Actor, case_id: int, action: str, version: int | None, detail: bool) -> Case:
    """The case, checked in order: visible (404), the actor's to handle (403), not stale (409), and the
    action allowed in its state (409). ``detail``: loaded with what the case detail shows (``DETAIL_LOADING``),
    for a caller that answers with it (the API): the transition keeps it whole, so the answer reads nothing more."""
    case = get_case(actor, case_id, detail=detail)
    POLICY.require(actor, "handle", case)
    if version is not None and version != case.version:
        raise StateConflict(
            coded(
                "stale_version",
                "案件已被他人修改（您的版本 %(version)s，当前版本 %(current)s），请刷新后重试",
                version=version,
                current=case.version,
            )
        )
    require_allowed(case, action)
    return case


def _date(value: date | None, field: str, case: Case, errors: dict[str, list[str]]) -> date | None:
    try:
        return step_date(value, field, not_before=case.last_step_on)
    except ValidationFailed as exc:
        for message in exc.errors[field]:
            collect(errors, field, message)
        return None


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(errors)


def _valid(value: _T | None, errors: dict[str, list[str]]) -> _T:
    """``value`` once every check passed; else the one 422 gathering ``errors``."""
    _raise(errors)
    # The checks (``_date``, ``check_conclusion``) give None only after putting the reason in errors.
    assert value is not None, "a check gave None without saying why"
    return value


def _check_mediator(case: Case, mediator_id: int | None, errors: dict[str, list[str]]) -> None:
    if mediator_id is None:
        return
    mediator = db.session.get(Mediator, mediator_id)
    if mediator is None or mediator.organization_id != case.organization_id or not mediator.active:
        collect(errors, "mediator_id", coded("mediator_not_of_organization", "调解员须为承办组织在册调解员"))


def _due_on(case: Case) -> date:
    """The due date of a case accepted, in mediation or concluded (CHECK accepted_has_dates: set on acceptance)."""
    assert case.due_on is not None, f"case {case.id} was accepted without a due date"
    return case.due_on


def _save(case: Case, day: date) -> None:
    """Flush the changed case; a concurrent change (the version moved on) is a 409, not a 500."""
    case.last_step_on = max(case.last_step_on, day)
    case.updated_at = utcnow()  # every step bumps the version, even one that changes no other column
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise StateConflict(coded("concurrent_change", "案件已被他人同时修改，请刷新后重试")) from exc


def _shown_with(case: Case, collection: str, row: _Row, order: Callable[[_Row], tuple[date, int]]) -> None:
    """Add a row just flushed to a read-only collection of the case (``sessions``, ``follow_ups``) if that is loaded
    already (``detail``), in the collection's ``order_by``, as reading it again would give it: an answer built on
    the case shows the row without a query. An unloaded collection is left to load from the flushed rows."""
    if collection not in sa.inspect(case).unloaded:
        set_committed_value(case, collection, sorted([*getattr(case, collection), row], key=order))


def _text(value: str | None, field: str, message: str, errors: dict[str, list[str]]) -> str:
    """A required text, stripped; blank puts ``message`` in errors (so the step stops before it is used)."""
    value = (value or "").strip()
    if not value:
        collect(errors, field, message)
    return value


def _optional(value: str | None) -> str | None:
    """An optional text as kept: stripped, blank is None (line breaks inside are kept)."""
    return (value or "").strip().replace("\r\n", "\n") or None


def _one_of(
    kind: type[enum.StrEnum], value: str | None, field: str, message: str, errors: dict[str, list[str]]
) -> str | None:
    """An optional value of ``kind`` as stored (its value), None when not given; a value not of ``kind`` is
    refused with ``message`` naming ``field``."""
    if value in (None, ""):
        return None
    try:
        return kind(value).value
    except ValueError:
        collect(errors, field, message)
        return None


def accept_case(
    actor: Actor,
    case_id: int,
    *,
    mediator_id: int | None = None,
    accepted_on: date | None = None,
    version: int | None = None,
    detail: bool = False,
) -> Case:
    """受理: registered → accepted; ``due_on`` is the organisation kind's time limit from acceptance."""
    case = _load(actor, case_id, "accept", version, detail)
    errors: dict[str, list[str]] = {}
    day = _date(accepted_on, "accepted_on", case, errors)
    _check_mediator(case, mediator_id, errors)
    day = _valid(day, errors)
    due = case_due_on(day, case.organization.kind)
    # read before the case changes: loading the mediators then would flush the change outside _save (a second UPDATE)
    mediators = case.mediators
    case.status, case.accepted_on = CaseStatus.accepted, day
    case.due_on, case.due_on_provisional = due
    if mediator_id is not None and mediator_id not in {m.mediator_id for m in mediators}:
        mediators.append(CaseMediator(mediator_id=mediator_id, lead=not mediators))
        mediators.sort(key=lambda m: (not m.lead, m.mediator_id))  # in the relationship's order (the answer shows it)
    _save(case, day)
    record_event(
        case,
        "accepted",
        actor,
        day,
        {
            "due_on": due.day.isoformat(),
            "time_limit_days": time_limit_days(case.organization.kind),
            "mediator_id": mediator_id,
            "due_on_provisional": due.provisional,
        },
    )
    return case


def decline_case(
    actor: Actor,
    case_id: int,
    *,
    reason: str,
    declined_on: date | None = None,
    version: int | None = None,
    detail: bool = False,
) -> Case:
    """不予受理: registered → declined, with the reason."""
    case = _load(actor, case_id, "decline", version, detail)
    errors: dict[str, list[str]] = {}
    reason = _text(reason, "reason", coded("reason_required", "请填写不予受理的理由"), errors)
    day = _valid(_date(declined_on, "declined_on", case, errors), errors)
    case.status, case.declined_on, case.decline_reason = CaseStatus.declined, day, reason
    _save(case, day)
    record_event(case, "declined", actor, day, {"reason": reason})
    return case


def record_session(
    actor: Actor,
    case_id: int,
    *,
    held_on: date | None,
    summary: str,
    mediator_id: int | None = None,
    place: str | None = None,
    attendees: str | None = None,
    recorder: str | None = None,
    version: int | None = None,
    detail: bool = False,
) -> Case:
    """调解记录: accepted → in_mediation; a further session keeps the state. The place, the attendees (one per
    line) and the recorder are optional: the 调解记录 leaves them blank when not given."""
    case = _load(actor, case_id, "record_session", version, detail)
    errors: dict[str, list[str]] = {}
    summary = _text(summary, "summary", coded("summary_required", "请填写调解情况"), errors)
    day = _date(held_on, "held_on", case, errors)
    _check_mediator(case, mediator_id, errors)
    day = _valid(day, errors)
    session = MediationSession(
        case_id=case.id,
        held_on=day,
        summary=summary,
        mediator_id=mediator_id,
        place=_optional(place),
        attendees=_optional(attendees),
        recorder=_optional(recorder),
        recorded_by_id=actor.user_id,
    )
    db.session.add(session)
    case.status = CaseStatus.in_mediation
    _save(case, day)
    _shown_with(case, "sessions", session, lambda s: (s.held_on, s.id))
    record_event(case, "session_recorded", actor, day, {"session_id": session.id, "mediator_id": mediator_id})
    return case


def check_conclusion(
    outcome: Outcome | str,
    amount: AmountGiven,
    terms: str | None,
    performed: bool | None,
    errors: dict[str, list[str]],
) -> tuple[Outcome | None, Decimal | None]:
    """The outcome and the agreement-only fields of a conclusion (also used for imported history)."""
    try:
        outcome = Outcome(outcome)
    except ValueError:
        collect(errors, "outcome", coded("unknown_outcome", "未知的办结结果"))
        return None, None
    if outcome != Outcome.agreement:
        for field, value in (("agreement_amount_yuan", amount), ("terms", terms), ("performed", performed)):
            if value not in (None, ""):
                collect(errors, field, coded("only_with_agreement", "只有达成协议时填写"))
        return outcome, None
    if not (terms or "").strip():  # an agreement is its terms; the amount may be none (a non-money settlement)
        collect(errors, "terms", coded("terms_required", "达成协议的须填写协议内容"))
    return outcome, to_amount(amount, "agreement_amount_yuan", errors)


def check_agreement_form(
    outcome: Outcome | None, agreement_form: str | None, errors: dict[str, list[str]]
) -> str | None:
    """How an agreement was made: written unless said to be oral (人民调解法 art. 28: an oral agreement is
    recorded by the mediator); nothing for another outcome, where giving one is refused."""
    form = _one_of(
        AgreementForm,
        agreement_form,
        "agreement_form",
        coded("unknown_agreement_form", "协议形式须为 书面协议 或 口头协议"),
        errors,
    )
    if outcome is None or outcome == Outcome.agreement:
        return form or AgreementForm.written.value
    if form is not None:
        collect(errors, "agreement_form", coded("only_with_agreement", "只有达成协议时填写"))
    return None


def conclude_case(
    actor: Actor,
    case_id: int,
    *,
    outcome: Outcome | str,
    concluded_on: date | None = None,
    agreement_amount_yuan: AmountGiven = None,
    terms: str | None = None,
    performed: bool | None = None,
    agreement_form: str | None = None,
    version: int | None = None,
    detail: bool = False,
) -> Case:
    """办结: accepted or in_mediation → concluded. An agreement opens the 30-day judicial-confirmation window
    and sets the follow-up date, and is written unless ``agreement_form`` says oral; a failed mediation records
    that the parties were told of other routes."""
    case = _load(actor, case_id, "conclude", version, detail)
    errors: dict[str, list[str]] = {}
    result, amount = check_conclusion(outcome, agreement_amount_yuan, terms, performed, errors)
    form = check_agreement_form(result, agreement_form, errors)
    day = _valid(_date(concluded_on, "concluded_on", case, errors), errors)
    result = _valid(result, errors)
    data: dict[str, Any] = {"outcome": result.value}
    if result == Outcome.agreement:
        # both counted before the case changes: a query after a change would flush it outside _save's guard
        window, follow_up = confirmation_deadline(day), follow_up_due(day)
        case.confirmation_deadline, case.confirmation_deadline_provisional = window
        case.follow_up_due_on, case.follow_up_due_on_provisional = follow_up
        case.agreement_amount_yuan = amount
        case.agreement_terms = (terms or "").strip() or None
        case.agreement_performed = performed
        case.agreement_form = form
        data.update(
            agreement_form=form,
            confirmation_deadline=window.day.isoformat(),
            follow_up_due_on=follow_up.day.isoformat(),
            agreement_amount_yuan=str(amount) if amount is not None else None,
        )
    elif result in (Outcome.no_agreement, Outcome.referred):
        data["note"] = OTHER_ROUTES_NOTE
    case.status, case.outcome, case.concluded_on = CaseStatus.concluded, result, day
    data["on_time"] = day <= _due_on(case)
    _save(case, day)
    record_event(case, "concluded", actor, day, data)  # case.concluded: the senders hear the result (联防联调)
    return case


def extend_time_limit(
    actor: Actor,
    case_id: int,
    *,
    days: int,
    consent_note: str,
    extended_on: date | None = None,
    version: int | None = None,
    detail: bool = False,
) -> Case:
    """延长期限 with the parties' consent: the new due date is ``days`` calendar days after the old one."""
    case = _load(actor, case_id, "extend_time_limit", version, detail)
    errors: dict[str, list[str]] = {}
    consent_note = _text(
        consent_note, "consent_note", coded("consent_required", "延长期限须经当事人同意，请记录同意情况"), errors
    )
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        collect(
            errors,
            "days",
            coded("extension_days_out_of_range", "延长天数须在 1 至 %(max)s 天之间", max=MAX_EXTENSION_DAYS),
        )
    day = _valid(_date(extended_on, "extended_on", case, errors), errors)
    old_due = _due_on(case)
    new_due = calendar_deadline(old_due, days, field="days")
    if case.original_due_on is None:  # the first extension: keep the limit the case was accepted with
        case.original_due_on = old_due
    case.due_on, case.due_on_provisional = new_due
    _save(case, day)
    record_event(
        case,
        "time_limit_extended",
        actor,
        day,
        {
            "days": days,
            "previous_due_on": old_due.isoformat(),
            "due_on": new_due.day.isoformat(),
            "due_on_provisional": new_due.provisional,
            "consent_note": consent_note,
        },
    )
    return case


def apply_for_confirmation(
    actor: Actor,
    case_id: int,
    *,
    applied_on: date | None = None,
    court: str | None = None,
    version: int | None = None,
    detail: bool = False,
) -> Case:
    """申请司法确认: only for an agreement, within its window (People's Mediation Law art. 33)."""
    case = _load(actor, case_id, "apply_for_confirmation", version, detail)
    errors: dict[str, list[str]] = {}
    day = _date(applied_on, "applied_on", case, errors)
    window = case.confirmation_deadline
    # Set when the agreement was concluded; the action's guard let only an agreement through.
    assert window is not None, f"agreement case {case.id} has no confirmation window"
    if day is not None and day > window:
        collect(
            errors,
            "applied_on",
            coded("confirmation_window_passed", "已超过司法确认申请期限 %(day)s", day=window.isoformat()),
        )
    day = _valid(day, errors)
    case.confirmation_status, case.confirmation_applied_on = ConfirmationStatus.applied, day
    _save(case, day)
    record_event(case, "confirmation_applied", actor, day, {"court": (court or "").strip() or None})
    return case


def record_confirmation_result(
    actor: Actor,
    case_id: int,
    *,
    confirmed: bool,
    decided_on: date | None = None,
    version: int | None = None,
    detail: bool = False,
) -> Case:
    """司法确认结果: the court confirmed the agreement or rejected the application."""
    case = _load(actor, case_id, "record_confirmation_result", version, detail)
    errors: dict[str, list[str]] = {}
    if not isinstance(confirmed, bool):
        collect(errors, "confirmed", coded("confirmed_required", "请选择是否确认"))
    day = _valid(_date(decided_on, "decided_on", case, errors), errors)
    case.confirmation_status = ConfirmationStatus.confirmed if confirmed else ConfirmationStatus.rejected
    case.confirmation_decided_on = day
    _save(case, day)
    record_event(case, "confirmation_decided", actor, day, {"confirmed": confirmed})
    return case


def record_follow_up(
    actor: Actor,
    case_id: int,
    *,
    visited_on: date | None,
    summary: str,
    performed: bool | None = None,
    method: str | None = None,
    visitor: str | None = None,
    version: int | None = None,
    detail: bool = False,
) -> Case:
    """回访 after the conclusion; for an agreement, whether it is being performed. How it was made (上门, 电话,
    其他) and who made it are optional: the 回访记录 leaves them blank when not given."""
    case = _load(actor, case_id, "record_follow_up", version, detail)
    errors: dict[str, list[str]] = {}
    summary = _text(summary, "summary", coded("summary_required", "请填写回访情况"), errors)
    day = _date(visited_on, "visited_on", case, errors)
    if performed is not None and case.outcome != Outcome.agreement:
        collect(errors, "performed", coded("only_with_agreement", "只有达成协议的案件记录履行情况"))
    method = _one_of(
        FollowUpMethod,
        method,
        "method",
        coded("unknown_follow_up_method", "回访方式须为 上门回访、电话回访 或 其他"),
        errors,
    )
    day = _valid(day, errors)
    follow_up = FollowUp(
        case_id=case.id,
        visited_on=day,
        summary=summary,
        performed=performed,
        method=method,
        visitor=_optional(visitor),
        recorded_by_id=actor.user_id,
    )
    db.session.add(follow_up)
    if performed is not None:
        case.agreement_performed = performed
    _save(case, day)
    _shown_with(case, "follow_ups", follow_up, lambda f: (f.visited_on, f.id))
    record_event(case, "follow_up_recorded", actor, day, {"follow_up_id": follow_up.id, "performed": performed})
    return case


def unavailable_actions(case: Case) -> list[tuple[str, str]]:
    """The steps a mediator looks for on the case page that cannot be taken yet, each with why in words: the
    page shows them as greyed-out buttons with the reason beside them (text, not only a tooltip)."""
    blocked: list[tuple[str, str]] = []
    if case.status == CaseStatus.registered:
        blocked.append(("conclude", gettext("须先受理，受理后才能记录调解和办结")))
    if case.status == CaseStatus.concluded and case.outcome == Outcome.agreement:
        if case.confirmation_status == ConfirmationStatus.none:
            blocked.append(("record_confirmation_result", gettext("尚未申请司法确认，申请后才能记录裁定结果")))
        elif case.confirmation_applied_on is not None:
            blocked.append(
                (
                    "apply_for_confirmation",
                    gettext("已于 %(day)s 申请司法确认", day=case.confirmation_applied_on.isoformat()),
                )
            )
    return blocked
