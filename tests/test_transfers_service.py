"""Transfers and joint mediation through the service: the route rules, answers, expiry and escalation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from mediation_hub.cases.models import CaseEvent, CaseStatus
from mediation_hub.cases.service import cases_visible_to, get_case
from mediation_hub.core.actor import Role
from mediation_hub.core.messages import code_of
from mediation_hub.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.notifications.models import Notification
from mediation_hub.registry.models import OrgKind
from mediation_hub.transfers import service
from mediation_hub.transfers.models import CaseCoOrganization, DeclineReason, TransferStatus
from mediation_hub.transfers.tasks import expire_overdue_transfers


@pytest.fixture
def scene(make_org, make_user, make_routed_case, make_studio):
    """A 保定 committee handling a medical case whose respondent lives in 朝阳区, and a 朝阳 partner."""
    hebei = make_org(name="竞秀区转办测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区转办测试调解委员会", region_code="110105")
    studio = make_studio(organization=hebei)
    case = make_routed_case(hebei, applicant="130602", respondent="110105", studio_id=studio.id)

    class Scene:
        pass

    s = Scene()
    s.hebei, s.beijing, s.case, s.studio = hebei, beijing, case, studio
    s.sender, s.receiver = make_user(organization=hebei), make_user(organization=beijing)
    return s


def events_of(case_id):
    return list(
        db.session.scalars(sa.select(CaseEvent.code).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
    )


def _send(scene, request_transfer_as, **kwargs):
    return request_transfer_as(scene.sender, scene.case, scene.beijing, **kwargs)


# --- the route rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"agreement_code": "NO-SUCH"}, "agreement_code", "unknown_agreement"),
        ({"agreement_code": "GD-PAIR-GZ"}, "agreement_code", "agreement_does_not_cover_regions"),
        ({"agreement_code": "JJJ-LEGAL-AID"}, "agreement_code", "agreement_not_for_mediation"),
        ({"to": ("310101", OrgKind.people_mediation_committee)}, "to_organization_id", "receiver_outside_agreement"),
        ({"to": ("130606", OrgKind.people_mediation_committee)}, "to_organization_id", "receiver_not_in_other_region"),
        ({"to": ("120101", OrgKind.people_mediation_committee)}, "to_organization_id", "receiver_not_in_other_region"),
        ({"to": ("110105", OrgKind.legal_aid_centre)}, "to_organization_id", "not_mediation_organization"),
        ({"case_status": CaseStatus.registered}, "case_id", "case_not_transferable"),
        ({"case_status": CaseStatus.concluded}, "case_id", "case_not_transferable"),
    ],
)
def test_a_transfer_off_the_route_is_a_422_naming_the_rule(scene, make_org, make_routed_case, change, field, code):
    case = scene.case
    if "case_status" in change:
        case = make_routed_case(scene.hebei, status=change["case_status"])
    to_org = scene.beijing
    if "to" in change:
        region, kind = change["to"]
        to_org = make_org(region_code=region, kind=kind)
    with pytest.raises(ValidationFailed) as failure:
        service.request_transfer(
            scene.sender.to_actor(),
            case.id,
            to_organization_id=to_org.id,
            agreement_code=change.get("agreement_code", "JJJ-MEDIATION"),
            mode="transfer",
        )
    assert field in failure.value.errors
    assert code in [code_of(m) for m in failure.value.errors[field]], failure.value.errors


def test_an_inactive_agreement_is_refused(scene, request_transfer_as):
    from mediation_hub.agreements.models import Agreement

    db.session.get(Agreement, "JJJ-MEDIATION").active = False
    with pytest.raises(ValidationFailed) as failure:
        _send(scene, request_transfer_as)
    assert code_of(failure.value.errors["agreement_code"][0]) == "agreement_inactive"


def test_only_the_handling_organisation_sends(scene, make_user, request_transfer_as):
    with pytest.raises(NotFound):  # another Hebei committee cannot even see the case
        request_transfer_as(make_user(), scene.case, scene.beijing)
    coordinator = make_user(role=Role.coordinator, region_code="130000")
    with pytest.raises(PermissionDenied) as failure:  # sees the case, may not send it (as for its transitions)
        request_transfer_as(coordinator, scene.case, scene.beijing)
    assert code_of(failure.value.message) == "not_handling_organization"


def test_request_sets_the_answer_by_date_in_working_days_across_the_holiday(scene, request_transfer_as):
    # Requested Mon 2025-09-29 with 3 working days: 09-30 is WD1, 10-01..10-08 National Day holiday,
    # 10-09 WD2, 10-10 WD3 -> respond_by 2025-10-10.
    transfer = _send(scene, request_transfer_as, requested_on=date(2025, 9, 29))
    assert (transfer.status, transfer.respond_by) == (TransferStatus.pending, date(2025, 10, 10))
    assert events_of(scene.case.id) == ["transfer_requested"]
    note = db.session.scalar(sa.select(Notification).where(Notification.organization_id == scene.beijing.id))
    assert scene.case.number in note.message and "2025-10-10" in note.message


def test_one_pending_request_per_case_and_mode(scene, make_org, request_transfer_as):
    _send(scene, request_transfer_as)
    other = make_org(region_code="110108")
    with pytest.raises(StateConflict):
        request_transfer_as(scene.sender, scene.case, other)
    joint = request_transfer_as(scene.sender, scene.case, other, mode="joint")  # another mode may be pending
    assert joint.status == TransferStatus.pending


# --- answers -------------------------------------------------------------------------------------------


def test_accepting_a_transfer_moves_the_case_and_keeps_its_history(scene, request_transfer_as):
    number, status = scene.case.number, scene.case.status
    transfer = _send(scene, request_transfer_as, requested_on=date(2025, 9, 29))
    with pytest.raises(NotFound):  # before acceptance the receiver cannot open the case
        get_case(scene.receiver.to_actor(), scene.case.id)

    service.accept_transfer(scene.receiver.to_actor(), transfer.id, answered_on=date(2025, 10, 9))

    case = get_case(scene.receiver.to_actor(), scene.case.id)
    assert (case.organization_id, case.status, case.number) == (scene.beijing.id, status, number)
    assert case.studio_id is None  # the 保定 studio does not follow the case to Beijing
    assert events_of(case.id) == ["transfer_requested", "transfer_accepted", "handling_organization_changed"]
    moved = db.session.scalar(sa.select(CaseEvent).where(CaseEvent.code == "handling_organization_changed"))
    assert (moved.organization_id, moved.region_code) == (scene.beijing.id, "110105")
    assert moved.data["studio_id"] == scene.studio.id
    # 09-29 -> 10-09: 09-30 and 10-09 are the working days in between (the holiday does not count).
    assert (transfer.status, transfer.working_days_to_answer) == (TransferStatus.accepted, 2)
    # The sender keeps a read-only view (tests/test_sender_view.py): it reads the case, acts on nothing.
    with pytest.raises(PermissionDenied):
        service.request_transfer(
            scene.sender.to_actor(), scene.case.id, to_organization_id=scene.beijing.id, agreement_code="JJJ-MEDIATION"
        )


def test_joint_mediation_keeps_the_lead_and_adds_the_co_mediator(scene, request_transfer_as):
    transfer = _send(scene, request_transfer_as, mode="joint")
    service.accept_transfer(scene.receiver.to_actor(), transfer.id)

    assert scene.case.organization_id == scene.hebei.id
    co = db.session.get(CaseCoOrganization, (scene.case.id, scene.beijing.id))
    assert co.transfer_id == transfer.id
    visible = db.session.scalars(cases_visible_to(scene.receiver.to_actor())).all()
    assert scene.case in visible
    assert events_of(scene.case.id) == ["joint_requested", "joint_accepted"]


@pytest.mark.parametrize("code", [c for c in DeclineReason if c != DeclineReason.other])
def test_decline_with_each_reason(scene, request_transfer_as, code):
    transfer = _send(scene, request_transfer_as)
    service.decline_transfer(scene.receiver.to_actor(), transfer.id, reason_code=code)
    assert (transfer.status, transfer.reason_code, transfer.answered_on is not None) == (
        TransferStatus.declined,
        code,
        True,
    )
    assert scene.case.organization_id == scene.hebei.id
    assert events_of(scene.case.id)[-1] == "transfer_declined"


def test_decline_other_needs_a_text(scene, request_transfer_as):
    transfer = _send(scene, request_transfer_as)
    with pytest.raises(ValidationFailed) as failure:
        service.decline_transfer(scene.receiver.to_actor(), transfer.id, reason_code="other", reason_text="  ")
    assert "reason_text" in failure.value.errors
    service.decline_transfer(scene.receiver.to_actor(), transfer.id, reason_code="other", reason_text="当事人已起诉")
    assert transfer.reason_text == "当事人已起诉"


@pytest.mark.parametrize("action", ["accept", "decline", "withdraw"])
def test_a_second_answer_is_a_conflict(scene, request_transfer_as, action):
    transfer = _send(scene, request_transfer_as)
    service.withdraw_transfer(scene.sender.to_actor(), transfer.id)
    assert transfer.status == TransferStatus.withdrawn
    answers = {
        "accept": lambda: service.accept_transfer(scene.receiver.to_actor(), transfer.id),
        "decline": lambda: service.decline_transfer(scene.receiver.to_actor(), transfer.id, reason_code="capacity"),
        "withdraw": lambda: service.withdraw_transfer(scene.sender.to_actor(), transfer.id),
    }
    with pytest.raises(StateConflict) as conflict:
        answers[action]()
    assert code_of(conflict.value.message) == "transfer_state_conflict"
    assert "「已撤回」" in conflict.value.message and "待答复" in conflict.value.message


def test_each_side_answers_only_its_own_part(scene, make_user, request_transfer_as):
    transfer = _send(scene, request_transfer_as)
    with pytest.raises(PermissionDenied):
        service.accept_transfer(scene.sender.to_actor(), transfer.id)
    with pytest.raises(PermissionDenied):
        service.withdraw_transfer(scene.receiver.to_actor(), transfer.id)
    with pytest.raises(NotFound):
        service.accept_transfer(make_user().to_actor(), transfer.id)


def test_accept_refused_when_the_case_moved_on(scene, request_transfer_as):
    transfer = _send(scene, request_transfer_as)
    scene.case.status, scene.case.outcome, scene.case.concluded_on = CaseStatus.concluded, "agreement", date(2025, 9, 2)
    db.session.flush()
    with pytest.raises(StateConflict):
        service.accept_transfer(scene.receiver.to_actor(), transfer.id)
    assert transfer.status == TransferStatus.pending


# --- expiry and escalation ------------------------------------------------------------------------------


def test_expiry_after_the_answer_by_date_counted_across_the_holiday(scene, make_user, request_transfer_as):
    transfer = _send(scene, request_transfer_as, requested_on=date(2025, 9, 29))  # respond_by 2025-10-10
    # 2025-10-10 15:00 UTC is 23:00 in Shanghai: still the answer-by day.
    assert expire_overdue_transfers(datetime(2025, 10, 10, 15, 0, tzinfo=UTC)) == 0
    assert transfer.status == TransferStatus.pending
    # 16:30 UTC is 00:30 on Saturday 2025-10-11 (a make-up workday) in Shanghai: past respond_by.
    now = datetime(2025, 10, 10, 16, 30, tzinfo=UTC)
    assert expire_overdue_transfers(now) == 1
    assert (transfer.status, transfer.answered_on) == (TransferStatus.expired, date(2025, 10, 11))
    assert events_of(scene.case.id) == ["transfer_requested", "transfer_expired"]
    # Escalated once to the coordinators of 河北 (sender) and 北京 (receiver), however often the job runs.
    assert expire_overdue_transfers(now) == 0
    service.escalate(transfer)
    escalated = db.session.scalars(
        sa.select(Notification.region_code)
        .where(Notification.kind == "transfer_escalated")
        .order_by(Notification.region_code)
    ).all()
    assert escalated == ["110000", "130000"]

    beijing_coordinator = make_user(role=Role.coordinator, region_code="110000").to_actor()
    shanghai_coordinator = make_user(role=Role.coordinator, region_code="310000").to_actor()
    assert db.session.scalars(service.escalations(beijing_coordinator)).all() == [transfer]
    assert db.session.scalars(service.escalations(shanghai_coordinator)).all() == []
    with pytest.raises(PermissionDenied):
        service.escalations(scene.sender.to_actor())


def test_overdue_but_not_yet_expired_transfers_show_on_the_escalation_list(scene, make_user, request_transfer_as):
    transfer = _send(scene, request_transfer_as, requested_on=date(2025, 9, 29))
    coordinator = make_user(role=Role.coordinator, region_code="130000").to_actor()
    assert db.session.scalars(service.escalations(coordinator, today=date(2025, 10, 10))).all() == []
    assert db.session.scalars(service.escalations(coordinator, today=date(2025, 10, 11))).all() == [transfer]


def test_a_co_mediator_may_take_the_case_over_but_not_be_asked_twice(scene, request_transfer_as):
    joint = _send(scene, request_transfer_as, mode="joint")
    service.accept_transfer(scene.receiver.to_actor(), joint.id)
    with pytest.raises(ValidationFailed) as failure:
        _send(scene, request_transfer_as, mode="joint")
    assert code_of(failure.value.errors["to_organization_id"][0]) == "already_co_mediating"

    handover = _send(scene, request_transfer_as, mode="transfer")
    service.accept_transfer(scene.receiver.to_actor(), handover.id)
    assert scene.case.organization_id == scene.beijing.id
    assert db.session.get(CaseCoOrganization, (scene.case.id, scene.beijing.id)) is None
