"""Every transition from every state, allowed and refused, driven from the one transitions table.

The expected matrix below is written out by hand from DESIGN.md's lifecycle; the first test proves the
table (with its guards) says the same, the others run each action in each state through the service."""

from datetime import date, timedelta

import pytest

from mediation_hub.cases import service
from mediation_hub.cases.models import CaseEvent, CaseStatus, ConfirmationStatus, Outcome
from mediation_hub.cases.rules import ACTION_LABELS, STATUS_LABELS, TARGET_STATE, TRANSITIONS
from mediation_hub.core.actor import SYSTEM
from mediation_hub.core.messages import code_of
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.errors import StateConflict, ValidationFailed
from mediation_hub.extensions import db

# state key -> how make_case builds it
STATES = {
    "registered": dict(status=CaseStatus.registered),
    "accepted": dict(status=CaseStatus.accepted),
    "in_mediation": dict(status=CaseStatus.in_mediation),
    "concluded_agreement": dict(status=CaseStatus.concluded, outcome=Outcome.agreement),
    "concluded_no_agreement": dict(status=CaseStatus.concluded, outcome=Outcome.no_agreement),
    "confirmation_applied": dict(status=CaseStatus.concluded, confirmation=ConfirmationStatus.applied),
    "confirmed": dict(status=CaseStatus.concluded, confirmation=ConfirmationStatus.confirmed),
    "declined": dict(status=CaseStatus.declined),
}

RUNNING = {"record_session", "conclude", "extend_time_limit"}
EXPECTED_ALLOWED = {
    "registered": {"accept", "decline"},
    "accepted": RUNNING,
    "in_mediation": RUNNING,
    "concluded_agreement": {"apply_for_confirmation", "record_follow_up"},
    "concluded_no_agreement": {"record_follow_up"},
    "confirmation_applied": {"record_confirmation_result", "record_follow_up"},
    "confirmed": {"record_follow_up"},
    "declined": set(),
}

STEP_DAY = date(2026, 3, 10)  # after every step make_case dates (2026-03-02 .. 03-04), inside the windows

CALLS = {
    "accept": lambda cid: service.accept_case(SYSTEM, cid, accepted_on=STEP_DAY),
    "decline": lambda cid: service.decline_case(SYSTEM, cid, reason="不属于受理范围", declined_on=STEP_DAY),
    "record_session": lambda cid: service.record_session(SYSTEM, cid, held_on=STEP_DAY, summary="第二次调解"),
    "conclude": lambda cid: service.conclude_case(SYSTEM, cid, outcome=Outcome.withdrawn, concluded_on=STEP_DAY),
    "extend_time_limit": lambda cid: service.extend_time_limit(
        SYSTEM, cid, days=15, consent_note="双方同意", extended_on=STEP_DAY
    ),
    "apply_for_confirmation": lambda cid: service.apply_for_confirmation(SYSTEM, cid, applied_on=STEP_DAY),
    "record_confirmation_result": lambda cid: service.record_confirmation_result(
        SYSTEM, cid, confirmed=True, decided_on=STEP_DAY
    ),
    "record_follow_up": lambda cid: service.record_follow_up(SYSTEM, cid, visited_on=STEP_DAY, summary="已回访"),
}

EVENT_OF = {
    "accept": "accepted",
    "decline": "declined",
    "record_session": "session_recorded",
    "conclude": "concluded",
    "extend_time_limit": "time_limit_extended",
    "apply_for_confirmation": "confirmation_applied",
    "record_confirmation_result": "confirmation_decided",
    "record_follow_up": "follow_up_recorded",
}

PAIRS = [(state, action) for state in STATES for action in TRANSITIONS]


def test_every_action_has_a_call_and_an_event():
    assert set(CALLS) == set(TRANSITIONS) == set(EVENT_OF) == set(TARGET_STATE)


@pytest.mark.parametrize("state", STATES)
def test_the_table_allows_exactly_the_hand_written_actions(make_case, state):
    case = make_case(**STATES[state])
    assert set(service.allowed_actions(case)) == EXPECTED_ALLOWED[state]


def _snapshot(case):
    db.session.expire_all()
    events = db.session.query(CaseEvent).filter_by(case_id=case.id).count()
    return (
        case.status,
        case.outcome,
        case.version,
        case.due_on,
        case.confirmation_status,
        case.last_step_on,
        len(case.sessions),
        len(case.follow_ups),
        events,
    )


@pytest.mark.parametrize(("state", "action"), [p for p in PAIRS if p[1] in EXPECTED_ALLOWED[p[0]]])
def test_allowed_transition_moves_the_case_and_writes_one_event(make_case, state, action):
    case = make_case(**STATES[state])
    before_status, before_version = case.status, case.version
    before_events = len(case.events)
    CALLS[action](case.id)
    db.session.expire_all()
    assert case.status == (TARGET_STATE[action] or before_status)
    assert case.version == before_version + 1
    assert case.last_step_on == STEP_DAY
    assert len(case.events) == before_events + 1
    assert case.events[-1].code == EVENT_OF[action]
    assert case.events[-1].on_date == STEP_DAY


@pytest.mark.parametrize(("state", "action"), [p for p in PAIRS if p[1] not in EXPECTED_ALLOWED[p[0]]])
def test_refused_transition_is_a_conflict_naming_both_and_changes_nothing(make_case, state, action):
    case = make_case(**STATES[state])
    db.session.commit()  # as a request would find it; the refused call's unit of work is then rolled back
    before = _snapshot(case)
    with pytest.raises(StateConflict) as caught:
        CALLS[action](case.id)
    assert f"案件状态为「{STATUS_LABELS[case.status]}」" in caught.value.message
    assert f"不能{ACTION_LABELS[action]}" in caught.value.message
    # the state refuses it, or (for a concluded case) the confirmation's own rule, each with its code
    assert code_of(caught.value.message) in {
        "action_not_allowed",
        "confirmation_needs_agreement",
        "confirmation_already_applied",
        "confirmation_not_applied",
    }
    assert not db.session.dirty and not db.session.new  # refused before anything was touched
    db.session.rollback()
    assert _snapshot(case) == before


def test_a_further_session_keeps_the_case_in_mediation(make_case):
    case = make_case(status=CaseStatus.in_mediation)
    service.record_session(SYSTEM, case.id, held_on=date(2026, 3, 5), summary="第二次")
    service.record_session(SYSTEM, case.id, held_on=date(2026, 3, 6), summary="第三次")
    assert case.status == CaseStatus.in_mediation
    assert [s.held_on for s in case.sessions] == [date(2026, 3, 3), date(2026, 3, 5), date(2026, 3, 6)]


def test_conclusion_straight_from_accepted(make_case):
    case = make_case(status=CaseStatus.concluded, with_session=False, outcome=Outcome.withdrawn)
    assert [e.code for e in case.events] == ["registered", "accepted", "concluded"]


# --- dates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "field", "state"),
    [
        ("accept", "accepted_on", "registered"),
        ("decline", "declined_on", "registered"),
        ("record_session", "held_on", "accepted"),
        ("conclude", "concluded_on", "in_mediation"),
        ("apply_for_confirmation", "applied_on", "concluded_agreement"),
        ("record_follow_up", "visited_on", "concluded_agreement"),
    ],
)
def test_step_dates_may_be_neither_in_the_future_nor_before_the_previous_step(make_case, action, field, state):
    case = make_case(**STATES[state])
    kwargs = {
        "accept": {},
        "decline": {"reason": "x"},
        "record_session": {"summary": "x"},
        "conclude": {"outcome": "withdrawn"},
        "apply_for_confirmation": {},
        "record_follow_up": {"summary": "x"},
    }[action]
    func = getattr(
        service, {"accept": "accept_case", "decline": "decline_case", "conclude": "conclude_case"}.get(action, action)
    )
    for day, code in (
        (today_shanghai() + timedelta(days=1), "date_in_future"),
        (case.last_step_on - timedelta(days=1), "before_previous_step"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            func(SYSTEM, case.id, **{field: day}, **kwargs)
        assert list(caught.value.errors) == [field]
        assert code_of(caught.value.errors[field][0]) == code
    assert [e.code for e in case.events][-1] != EVENT_OF[action]


def test_dates_default_to_today_in_shanghai(make_case):
    case = make_case(received_on=today_shanghai() - timedelta(days=3))
    service.accept_case(SYSTEM, case.id)
    assert case.accepted_on == today_shanghai()


def test_confirmation_after_the_window_is_a_422(make_case):
    # Concluded 2026-01-05 -> + 30 = 2026-02-04 (Wed, a working day) is the last day to apply.
    case = make_case(status=CaseStatus.concluded, received_on=date(2026, 1, 2), concluded_on=date(2026, 1, 5))
    assert case.confirmation_deadline == date(2026, 2, 4)
    with pytest.raises(ValidationFailed) as caught:
        service.apply_for_confirmation(SYSTEM, case.id, applied_on=date(2026, 2, 5))
    assert "2026-02-04" in caught.value.errors["applied_on"][0]
    service.apply_for_confirmation(SYSTEM, case.id, applied_on=date(2026, 2, 4), court="朝阳区人民法院")
    assert case.confirmation_status == ConfirmationStatus.applied
    assert case.events[-1].data == {"court": "朝阳区人民法院"}


def test_confirmation_of_a_case_without_agreement_is_a_conflict(make_case):
    case = make_case(status=CaseStatus.concluded, outcome=Outcome.no_agreement)
    with pytest.raises(StateConflict) as caught:
        service.apply_for_confirmation(SYSTEM, case.id, applied_on=STEP_DAY)
    assert "「已办结」" in caught.value.message and "不能申请司法确认" in caught.value.message
    assert code_of(caught.value.message) == "confirmation_needs_agreement"


# --- input rules -------------------------------------------------------------------------------------------


def test_every_failure_of_a_conclusion_is_reported_at_once(make_case):
    case = make_case(status=CaseStatus.in_mediation)
    with pytest.raises(ValidationFailed) as caught:
        service.conclude_case(
            SYSTEM,
            case.id,
            outcome="no_agreement",
            agreement_amount_yuan="100",
            terms="赔偿",
            concluded_on=today_shanghai() + timedelta(days=2),
        )
    assert set(caught.value.errors) == {"agreement_amount_yuan", "terms", "concluded_on"}


def test_extension_needs_the_parties_consent_and_sensible_days(make_case):
    case = make_case(status=CaseStatus.accepted)
    with pytest.raises(ValidationFailed) as caught:
        service.extend_time_limit(SYSTEM, case.id, days=0, consent_note="  ")
    assert set(caught.value.errors) == {"days", "consent_note"}


def test_accept_with_a_mediator_of_another_organisation_is_a_422(make_case, make_mediator):
    case = make_case()
    outsider = make_mediator()
    with pytest.raises(ValidationFailed) as caught:
        service.accept_case(SYSTEM, case.id, mediator_id=outsider.id, accepted_on=STEP_DAY)
    assert list(caught.value.errors) == ["mediator_id"]


def test_accept_assigns_the_mediator(make_case, make_org, make_mediator):
    org = make_org()
    mediator = make_mediator(organization=org)
    case = make_case(org)
    service.accept_case(SYSTEM, case.id, mediator_id=mediator.id, accepted_on=STEP_DAY)
    assert [m.mediator_id for m in case.mediators] == [mediator.id]
    assert case.events[-1].data["mediator_id"] == mediator.id


# --- optimistic locking -------------------------------------------------------------------------------------


def test_a_stale_version_is_a_conflict(make_case):
    case = make_case(status=CaseStatus.accepted)
    stale = case.version - 1
    with pytest.raises(StateConflict) as caught:
        service.conclude_case(SYSTEM, case.id, outcome="withdrawn", concluded_on=STEP_DAY, version=stale)
    assert code_of(caught.value.message) == "stale_version" and f"您的版本 {stale}" in caught.value.message
    service.conclude_case(SYSTEM, case.id, outcome="withdrawn", concluded_on=STEP_DAY, version=case.version)
    assert case.status == CaseStatus.concluded


def test_a_change_behind_the_sessions_back_is_a_conflict_not_a_crash(make_case):
    import sqlalchemy as sa

    from mediation_hub.cases.models import Case

    case = make_case(status=CaseStatus.accepted)
    # Another transaction moved the version on; this session still holds the old one.
    db.session.execute(
        sa.update(Case.__table__).where(Case.__table__.c.id == case.id).values(version=Case.__table__.c.version + 1)
    )
    with pytest.raises(StateConflict) as caught:
        service.conclude_case(SYSTEM, case.id, outcome="withdrawn", concluded_on=STEP_DAY)
    assert code_of(caught.value.message) == "concurrent_change"
