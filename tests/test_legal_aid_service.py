"""Legal aid through the service: competence (art. 38), the 通办 hand-over, the art. 43 clocks, transitions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from mediation_hub.agreements.models import Agreement
from mediation_hub.core.actor import SYSTEM
from mediation_hub.core.messages import code_of
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.errors import PermissionDenied, StateConflict, ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.legal_aid import service
from mediation_hub.legal_aid.models import ApplicationStatus, LegalAidEvent, LegalAidHandover
from mediation_hub.legal_aid.reference import STATUS_LABELS
from mediation_hub.notifications.models import Notification
from mediation_hub.registry.models import OrgKind
from tests.factories_legal_aid import application_data


def actor_of(user):
    return user.to_actor()


# --- competence ---------------------------------------------------------------------------------------


def test_most_specific_covering_centre_is_competent(make_centre):
    province = make_centre("130000")
    baoding = make_centre("130600")
    jingxiu = make_centre("130602")
    xiongan = make_centre("XIONGAN")
    rongcheng = make_centre("130629")
    assert service.competent_centre("130602") == jingxiu  # county centre of the matter's county
    assert service.competent_centre("130606") == baoding  # 莲池区 has none: the prefecture's
    assert service.competent_centre("130632") == xiongan  # 安新县 lies in 雄安新区: grouping before 保定
    assert service.competent_centre("130629") == rongcheng  # 容城县's own centre before 雄安新区
    assert service.competent_centre("130102") == province  # 石家庄长安区: only the province covers it
    assert service.competent_centre("310101") is None  # no centre covers 上海 in this test


def test_inactive_or_non_legal_aid_organisations_are_never_competent(make_centre, make_org):
    make_org(kind=OrgKind.people_mediation_committee, region_code="130602")
    make_centre("130602", active=False)
    prefecture = make_centre("130600")
    assert service.competent_centre("130602") == prefecture


# --- the 通办 flow -----------------------------------------------------------------------------------


def test_tianjin_records_and_hands_over_to_competent_hebei_centre(tongban_pair, make_officer):
    tianjin, baoding = tongban_pair()
    tj_officer, bd_officer = actor_of(make_officer(tianjin)), actor_of(make_officer(baoding))

    application = service.file_application(tj_officer, application_data(tianjin.id, received_on=date(2025, 9, 24)))
    assert application.status == ApplicationStatus.filed
    assert application.number == f"LA2025-{application.id:06d}"
    assert (application.centre_id, application.filed_centre_id) == (tianjin.id, tianjin.id)
    # Tianjin is not competent for a 保定 matter: no clock runs there.
    assert application.received_on is None and application.decide_by is None
    assert service.competent_centre(application.matter_region_code) == baoding

    application = service.transfer_application(
        tj_officer, application.id, to_centre_id=baoding.id, transferred_on=date(2025, 9, 24)
    )
    assert application.status == ApplicationStatus.transferred
    assert (application.centre_id, application.filed_centre_id) == (baoding.id, tianjin.id)
    # Received by 保定 on Wed 2025-09-24; +7 days = 2025-10-01, National Day (holiday 10-01..10-08),
    # so the period ends on the next working day, Thu 2025-10-09 (Civil Code arts. 201, 203).
    assert application.received_on == date(2025, 9, 24)
    assert application.decide_by == date(2025, 10, 9)
    handover = db.session.scalar(sa.select(LegalAidHandover).where(LegalAidHandover.application_id == application.id))
    assert (handover.from_centre_id, handover.to_centre_id, handover.agreement_code) == (
        tianjin.id,
        baoding.id,
        "JJJ-LEGAL-AID",
    )
    assert handover.by_name == tj_officer.username
    # the hardship declaration travels with it
    assert application.hardship.value == "declaration"
    event = db.session.scalar(
        sa.select(LegalAidEvent).where(
            LegalAidEvent.application_id == application.id, LegalAidEvent.code == "transferred"
        )
    )
    assert event.data["hardship"] == "declaration" and event.centre_id == baoding.id
    note = db.session.scalar(sa.select(Notification).where(Notification.organization_id == baoding.id))
    assert note.kind == "legal_aid_incoming" and application.number in note.message and "2025-10-09" in note.message

    application = service.accept_application(bd_officer, application.id, accepted_on=date(2025, 9, 26))
    assert application.status == ApplicationStatus.accepted
    assert application.decide_by == date(2025, 10, 9)
    assert [e.code for e in application.events] == ["filed", "transferred", "accepted"]


def test_competent_centre_cannot_send_it_back(make_application, make_officer):
    application, tianjin, baoding = make_application(ApplicationStatus.transferred)
    with pytest.raises(ValidationFailed) as caught:
        service.transfer_application(
            actor_of(make_officer(baoding)), application.id, to_centre_id=tianjin.id, transferred_on=date(2025, 9, 12)
        )
    messages = caught.value.errors["to_centre_id"]
    assert any(code_of(m) == "no_send_back" for m in messages)
    assert db.session.get(type(application), application.id).centre_id == baoding.id


def test_onward_hand_over_to_an_equally_competent_centre_is_allowed(make_application, make_centre):
    application, tianjin, baoding = make_application(ApplicationStatus.transferred)
    other = make_centre("130602")  # a second centre in 竞秀区: equally competent, never held the application
    application = service.transfer_application(
        SYSTEM, application.id, to_centre_id=other.id, transferred_on=date(2025, 9, 12)
    )
    assert application.centre_id == other.id and application.status == ApplicationStatus.transferred
    # received there on Fri 2025-09-12: +7 = Fri 2025-09-19, a working day
    assert application.decide_by == date(2025, 9, 19)
    # and neither earlier holder may get it back
    for earlier in (tianjin, baoding):
        with pytest.raises(ValidationFailed) as caught:
            service.transfer_application(
                SYSTEM, application.id, to_centre_id=earlier.id, transferred_on=date(2025, 9, 12)
            )
        assert any(code_of(m) == "no_send_back" for m in caught.value.errors["to_centre_id"])


def test_transfer_outside_tongban_is_refused(make_application, make_centre):
    application, _tianjin, _baoding = make_application(ApplicationStatus.filed)
    shanghai = make_centre("310101", name="上海市黄浦区法律援助中心")
    with pytest.raises(ValidationFailed) as caught:
        service.transfer_application(SYSTEM, application.id, to_centre_id=shanghai.id, transferred_on=date(2025, 9, 11))
    messages = caught.value.errors["to_centre_id"]
    assert any(code_of(m) == "not_covered_by_tongban" and "目标中心所在地" in m for m in messages)
    assert any(code_of(m) == "target_not_competent" for m in messages)


def test_competent_centre_outside_tongban_is_refused_for_that_rule_alone(tongban_pair, make_centre):
    tianjin, _ = tongban_pair()
    shanghai = make_centre("310101")
    application = service.file_application(SYSTEM, application_data(tianjin.id, matter_region_code="310101"))
    with pytest.raises(ValidationFailed) as caught:
        service.transfer_application(SYSTEM, application.id, to_centre_id=shanghai.id, transferred_on=date(2025, 9, 11))
    messages = caught.value.errors["to_centre_id"]
    assert len(messages) == 1 and code_of(messages[0]) == "not_covered_by_tongban"
    assert "事项发生地" in messages[0] and "目标中心所在地" in messages[0]


def test_inactive_tongban_agreement_allows_no_hand_over(make_application):
    application, _tianjin, baoding = make_application(ApplicationStatus.filed)
    db.session.get(Agreement, "JJJ-LEGAL-AID").active = False
    db.session.flush()
    with pytest.raises(ValidationFailed) as caught:
        service.transfer_application(SYSTEM, application.id, to_centre_id=baoding.id, transferred_on=date(2025, 9, 11))
    assert caught.value.errors["to_centre_id"] == ["法律援助通办协议未覆盖：无有效的法律援助通办协议"]
    assert code_of(caught.value.errors["to_centre_id"][0]) == "not_covered_by_tongban"


def test_transfer_to_a_mediation_committee_is_refused(make_application, make_org):
    application, _t, _b = make_application(ApplicationStatus.filed)
    committee = make_org(kind=OrgKind.people_mediation_committee, region_code="130602")
    with pytest.raises(ValidationFailed) as caught:
        service.transfer_application(SYSTEM, application.id, to_centre_id=committee.id)
    assert any(code_of(m) == "target_not_legal_aid_centre" for m in caught.value.errors["to_centre_id"])


def test_non_competent_centre_cannot_accept(make_application, make_officer):
    application, tianjin, baoding = make_application(ApplicationStatus.filed)
    with pytest.raises(ValidationFailed) as caught:
        service.accept_application(actor_of(make_officer(tianjin)), application.id, accepted_on=date(2025, 9, 10))
    assert any(code_of(m) == "not_competent" and baoding.name in m for m in caught.value.errors["centre_id"])


def test_competent_filing_centre_accepts_straight_from_filed(make_centre, make_officer):
    baoding = make_centre("130602")
    officer = actor_of(make_officer(baoding))
    # Received Wed 2025-09-10: +7 = Wed 2025-09-17, a working day.
    application = service.file_application(officer, application_data(None, received_on=date(2025, 9, 10)))
    assert application.centre_id == baoding.id
    assert (application.received_on, application.decide_by) == (date(2025, 9, 10), date(2025, 9, 17))
    application = service.accept_application(officer, application.id, accepted_on=date(2025, 9, 11))
    assert application.status == ApplicationStatus.accepted and application.decide_by == date(2025, 9, 17)


def test_accept_with_a_later_receipt_date_moves_the_clock(make_application):
    application, _t, _b = make_application(ApplicationStatus.transferred)  # handed over 2025-09-11
    # The file reached 保定 on Fri 2025-09-26: +7 = Fri 2025-10-03, inside the National Day holiday
    # (10-01..10-08), so the decision is due on the next working day, Thu 2025-10-09.
    application = service.accept_application(
        SYSTEM, application.id, received_on=date(2025, 9, 26), accepted_on=date(2025, 9, 26)
    )
    assert application.received_on == date(2025, 9, 26)
    assert application.decide_by == date(2025, 10, 9)


def test_grant_sets_assign_by_three_days_later_past_the_weekend(make_centre):
    baoding = make_centre("130602")
    application = service.file_application(SYSTEM, application_data(baoding.id, received_on=date(2025, 9, 24)))
    service.accept_application(SYSTEM, application.id, accepted_on=date(2025, 9, 25))
    application = service.decide_application(SYSTEM, application.id, granted=True, decided_on=date(2025, 10, 9))
    # Granted Thu 2025-10-09: +3 = Sun 2025-10-12, a rest day (Sat 10-11 was a make-up workday, Sunday is not),
    # so the lawyer must be assigned by Mon 2025-10-13.
    assert application.status == ApplicationStatus.granted and application.granted is True
    assert application.assign_by == date(2025, 10, 13)
    application = service.assign_lawyer(SYSTEM, application.id, lawyer_name="赵律师", assigned_on=date(2025, 10, 13))
    assert application.status == ApplicationStatus.assigned and application.lawyer_name == "赵律师"
    application = service.close_application(SYSTEM, application.id, closed_on=date(2025, 12, 30))
    assert application.status == ApplicationStatus.closed
    assert [e.code for e in application.events] == ["filed", "accepted", "granted", "lawyer_assigned", "closed"]


def test_grant_three_days_on_a_working_day(make_application):
    application, _t, _b = make_application(ApplicationStatus.accepted)
    application = service.decide_application(SYSTEM, application.id, granted=True, decided_on=date(2025, 9, 15))
    # Granted Mon 2025-09-15: +3 = Thu 2025-09-18, a working day.
    assert application.assign_by == date(2025, 9, 18)


def test_refusal_needs_written_reasons(make_application):
    application, _t, _b = make_application(ApplicationStatus.accepted)
    for reason in (None, "   "):
        with pytest.raises(ValidationFailed) as caught:
            service.decide_application(SYSTEM, application.id, granted=False, reason=reason)
        assert list(caught.value.errors) == ["reason"]
    reason = "非经济困难，且不属于免予核查人群"
    application = service.decide_application(
        SYSTEM, application.id, granted=False, reason=reason, decided_on=date(2025, 9, 15)
    )
    assert application.status == ApplicationStatus.refused
    assert application.refusal_reason == reason and application.assign_by is None


# --- filing rules --------------------------------------------------------------------------------------


def test_filing_gathers_every_failure(make_centre, make_officer):
    tianjin, other = make_centre("120101"), make_centre("120101")
    officer = actor_of(make_officer(tianjin))
    data = application_data(
        other.id,
        hardship="exempt",
        exempt_group=None,
        matter_region_code="999999",
        matter_category="astrology",
        received_on=today_shanghai() + timedelta(days=3),
        applicant={"name": "王五", "id_number": "110105198005170001", "phone": "12345", "region_code": "000000"},
    )
    with pytest.raises(ValidationFailed) as caught:
        service.file_application(officer, data)
    assert set(caught.value.errors) == {
        "centre_id",
        "applicant.id_number",
        "applicant.phone",
        "applicant.region_code",
        "matter_region_code",
        "matter_category",
        "exempt_group",
        "received_on",
    }


def test_exempt_group_is_from_the_statutory_list(make_centre):
    centre = make_centre("130602")
    application = service.file_application(
        SYSTEM, application_data(centre.id, hardship="exempt", exempt_group="migrant_worker_wages_injury")
    )
    assert application.exempt_group_label.startswith("申请支付劳动报酬或者请求工伤事故人身损害赔偿的进城务工人员")
    with pytest.raises(ValidationFailed) as caught:
        service.file_application(
            SYSTEM, application_data(centre.id, hardship="declaration", exempt_group="good_samaritan")
        )
    assert list(caught.value.errors) == ["exempt_group"]


def test_custom_region_is_no_matter_place(make_centre):
    centre = make_centre("130602")
    with pytest.raises(ValidationFailed) as caught:
        service.file_application(SYSTEM, application_data(centre.id, matter_region_code="XIONGAN"))
    assert list(caught.value.errors) == ["matter_region_code"]


def test_coordinators_do_not_file(make_centre, make_user):
    coordinator = make_user(role="coordinator", region_code="130000")
    with pytest.raises(PermissionDenied):
        service.file_application(actor_of(coordinator), application_data(make_centre().id))


def test_dates_never_future_nor_before_previous_step(make_application):
    application, _t, _baoding = make_application(ApplicationStatus.transferred)  # handed over 2025-09-11
    with pytest.raises(ValidationFailed) as caught:
        service.accept_application(SYSTEM, application.id, accepted_on=date(2025, 9, 10))
    assert list(caught.value.errors) == ["accepted_on"]
    with pytest.raises(ValidationFailed) as caught:
        service.accept_application(SYSTEM, application.id, received_on=date(2025, 9, 10))
    assert "received_on" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        service.accept_application(SYSTEM, application.id, accepted_on=today_shanghai() + timedelta(days=1))
    assert list(caught.value.errors) == ["accepted_on"]


# --- every transition from every state -----------------------------------------------------------------

STEP_DAY = date(2025, 12, 2)  # after every step the factory takes (the last closes on 2025-12-01)
EXPECTED = {
    "transfer": ApplicationStatus.transferred,
    "accept": ApplicationStatus.accepted,
    "decide": ApplicationStatus.granted,
    "assign": ApplicationStatus.assigned,
    "close": ApplicationStatus.closed,
}


def _run(action, application, target):
    calls = {
        "transfer": lambda: service.transfer_application(
            SYSTEM, application.id, to_centre_id=target.id, transferred_on=STEP_DAY
        ),
        "accept": lambda: service.accept_application(SYSTEM, application.id, accepted_on=STEP_DAY),
        "decide": lambda: service.decide_application(SYSTEM, application.id, granted=True, decided_on=STEP_DAY),
        "assign": lambda: service.assign_lawyer(SYSTEM, application.id, lawyer_name="钱律师", assigned_on=STEP_DAY),
        "close": lambda: service.close_application(SYSTEM, application.id, closed_on=STEP_DAY),
    }
    return calls[action]()


@pytest.mark.parametrize("state", list(ApplicationStatus))
@pytest.mark.parametrize("action", list(EXPECTED))  # the 补充材料 steps: tests/test_legal_aid_supplement.py
def test_every_transition_from_every_state(state, action, make_application, make_centre):
    # A filed application is accepted where it was filed, so file it where the matter is (天津和平区).
    overrides = {"matter_region_code": "120101"} if (state, action) == (ApplicationStatus.filed, "accept") else {}
    application, _tianjin, _baoding = make_application(state, **overrides)
    target = make_centre("130602")  # competent, never held it: a valid hand-over target from any holder
    if state in service.TRANSITIONS[action]:
        assert _run(action, application, target).status == EXPECTED[action]
    else:
        with pytest.raises(StateConflict) as caught:
            _run(action, application, target)
        message = caught.value.message
        assert code_of(message) == "action_not_allowed"
        assert f"申请当前为“{STATUS_LABELS[state.value]}”" in message
        assert all(STATUS_LABELS[s.value] in message for s in service.TRANSITIONS[action])
        assert db.session.get(type(application), application.id).status == state


def test_a_change_made_meanwhile_is_a_conflict_not_a_lost_update(make_application):
    application, _t, _b = make_application(ApplicationStatus.accepted)
    # another process decides first: the row's version moves on under the object this session holds
    db.session.execute(
        sa.update(type(application))
        .where(type(application).id == application.id)
        .values(version=type(application).version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(StateConflict) as caught:
        service.decide_application(SYSTEM, application.id, granted=True, decided_on=date(2025, 9, 15))
    assert code_of(caught.value.message) == "concurrent_change"
