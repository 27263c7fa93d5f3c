"""Legal aid: the applicant's particulars and the one request for further materials (补充材料).

Legal Aid Law art. 43 para. 2: materials incomplete → the centre tells the applicant once (一次性告知) which
materials to supplement or what to explain; 司法部《办理法律援助案件程序规定》: the time the applicant needs for it
does not count toward the review period. The pause is counted as periods are (Civil Code art. 201): from the day
after the request up to and including the day the materials arrive, so ``received - requested`` days are added to
the 7 before the end is moved past rest days (art. 203)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from mediation_hub.calendars import service as calendars
from mediation_hub.core.actor import SYSTEM, Actor, Role
from mediation_hub.core.calendar import year_days
from mediation_hub.core.messages import code_of
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.errors import StateConflict, ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.legal_aid import service
from mediation_hub.legal_aid.deadlines import decision_deadline, supplement_pause_days
from mediation_hub.legal_aid.models import ApplicationStatus, LegalAidApplication, LegalAidEvent
from mediation_hub.legal_aid.reference import STATUS_LABELS
from mediation_hub.registry.models import Organization
from tests.factories import valid_id_number, valid_phone
from tests.factories_legal_aid import application_data

BASE = "/api/v1/legal-aid/applications"
ADMIN = Actor(user_id=None, username="calendar-admin", role=Role.admin)
OPEN = (ApplicationStatus.filed, ApplicationStatus.transferred, ApplicationStatus.accepted)
# The factory's application is handed over on 2025-09-11 and accepted on 2025-09-12; later steps are dated after.
STEP_DAY = date(2025, 9, 12)
ITEMS = "经济困难状况说明（须签字）\n劳动合同或者工资条等劳动关系证明\n  \n"


def frozen(day: date, hour: int = 10):
    """Freeze the clock at ``hour`` o'clock Beijing time on ``day``."""
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def holder_api(api_as, make_officer, application):
    """An API client for an officer of the centre holding the application."""
    return api_as(make_officer(db.session.get(Organization, application.centre_id)))


def events_of(application) -> list[LegalAidEvent]:
    return db.session.scalars(
        sa.select(LegalAidEvent).where(LegalAidEvent.application_id == application.id).order_by(LegalAidEvent.id)
    ).all()


@pytest.fixture
def make_asked(make_application):
    """``make_asked(state)``: an application asked for further materials while it could be (as accepted, or in
    its own open state), then moved on to ``state`` through the service."""
    later = {
        "grant": lambda a: service.decide_application(SYSTEM, a.id, granted=True, decided_on=date(2025, 9, 15)),
        "refuse": lambda a: service.decide_application(
            SYSTEM, a.id, granted=False, reason="不符合经济困难标准", decided_on=date(2025, 9, 15)
        ),
        "assign": lambda a: service.assign_lawyer(SYSTEM, a.id, lawyer_name="张律师", assigned_on=date(2025, 9, 16)),
        "close": lambda a: service.close_application(SYSTEM, a.id, closed_on=date(2025, 12, 1)),
    }
    paths = {
        ApplicationStatus.granted: ["grant"],
        ApplicationStatus.refused: ["refuse"],
        ApplicationStatus.assigned: ["grant", "assign"],
        ApplicationStatus.closed: ["grant", "assign", "close"],
    }

    def build(state):
        application, _tianjin, _baoding = make_application(state if state in OPEN else ApplicationStatus.accepted)
        day = application.last_step_on
        application = service.request_supplement(SYSTEM, application.id, items=ITEMS, requested_on=day)
        for step in paths.get(state, []):
            application = later[step](application)
        assert application.status == state
        return application

    return build


# --- both transitions from every state, through the API ----------------------------------------------------


@pytest.mark.parametrize("state", list(ApplicationStatus))
def test_request_supplement_from_every_state(state, make_application, make_officer, api_as):
    application, _tianjin, _baoding = make_application(state)
    api = holder_api(api_as, make_officer, application)
    response = api.post(
        f"{BASE}/{application.id}/supplement-request",
        json={"items": ITEMS, "requested_on": "2025-12-02", "due_on": "2025-12-09"},
    )
    if state in OPEN:
        assert response.status_code == 200, response.json
        body = response.json
        assert body["status"] == state.value
        assert body["supplement_items"] == "经济困难状况说明（须签字）\n劳动合同或者工资条等劳动关系证明"
        assert (body["supplement_requested_on"], body["supplement_due_on"], body["supplement_received_on"]) == (
            "2025-12-02",
            "2025-12-09",
            None,
        )
        assert body["awaiting_supplement"] is True
        assert "receive_supplement" in body["allowed_actions"] and "request_supplement" not in body["allowed_actions"]
        assert [e["code"] for e in body["events"]][-1] == "supplement_requested"
    else:
        assert response.status_code == 409
        assert response.json["error"] == "action_not_allowed"
        assert f"申请当前为“{STATUS_LABELS[state.value]}”" in response.json["message"]
        assert all(STATUS_LABELS[s.value] in response.json["message"] for s in OPEN)
        assert db.session.get(LegalAidApplication, application.id).supplement_requested_on is None


@pytest.mark.parametrize("state", list(ApplicationStatus))
def test_record_supplement_received_from_every_state(state, make_asked, make_officer, api_as):
    application = make_asked(state)
    api = holder_api(api_as, make_officer, application)
    response = api.post(f"{BASE}/{application.id}/supplement-received", json={"received_on": "2025-12-02"})
    if state in OPEN:
        assert response.status_code == 200, response.json
        assert response.json["status"] == state.value
        assert response.json["supplement_received_on"] == "2025-12-02"
        assert response.json["awaiting_supplement"] is False
        assert not {"request_supplement", "receive_supplement"} & set(response.json["allowed_actions"])
        assert [e["code"] for e in response.json["events"]][-1] == "supplement_received"
    else:
        assert response.status_code == 409
        assert response.json["error"] == "action_not_allowed"
        assert f"申请当前为“{STATUS_LABELS[state.value]}”" in response.json["message"]
        assert db.session.get(LegalAidApplication, application.id).supplement_received_on is None


# --- once only -------------------------------------------------------------------------------------------


def test_the_applicant_is_told_once(make_application, make_officer, api_as):
    application, _tianjin, _baoding = make_application(ApplicationStatus.accepted)
    api = holder_api(api_as, make_officer, application)
    first = api.post(
        f"{BASE}/{application.id}/supplement-request", json={"items": "身份证明", "requested_on": "2025-09-12"}
    )
    assert first.status_code == 200
    again = api.post(f"{BASE}/{application.id}/supplement-request", json={"items": "另一项材料"})
    assert again.status_code == 409
    assert again.json["error"] == "supplement_already_requested"
    assert "一次性告知" in again.json["message"] and "2025-09-12" in again.json["message"]
    assert db.session.get(LegalAidApplication, application.id).supplement_items == "身份证明"
    # and the materials arrive once
    assert (
        api.post(f"{BASE}/{application.id}/supplement-received", json={"received_on": "2025-09-15"}).status_code == 200
    )
    twice = api.post(f"{BASE}/{application.id}/supplement-received", json={"received_on": "2025-09-16"})
    assert (twice.status_code, twice.json["error"]) == (409, "supplement_already_received")
    assert "2025-09-15" in twice.json["message"]


def test_nothing_is_received_before_it_is_asked_for(make_application):
    application, _tianjin, _baoding = make_application(ApplicationStatus.accepted)
    with pytest.raises(StateConflict) as caught:
        service.record_supplement_received(SYSTEM, application.id, received_on=STEP_DAY)
    assert code_of(caught.value.message) == "supplement_not_requested"
    assert "receive_supplement" not in service.allowed_actions(SYSTEM, application)
    assert "request_supplement" in service.allowed_actions(SYSTEM, application)


def test_only_the_centre_holding_it_asks(make_application, make_officer, make_centre, make_user, api_as):
    application, tianjin, _baoding = make_application(ApplicationStatus.transferred)
    body = {"items": "身份证明"}
    # the centre that passed it on still sees it but may not act; a stranger does not know it; nor a coordinator acts
    assert (
        api_as(make_officer(tianjin)).post(f"{BASE}/{application.id}/supplement-request", json=body).status_code == 403
    )
    assert (
        api_as(make_officer(make_centre("130602")))
        .post(f"{BASE}/{application.id}/supplement-request", json=body)
        .status_code
        == 404
    )
    coordinator = api_as(make_user(role=Role.coordinator, region_code="130000"))
    assert coordinator.post(f"{BASE}/{application.id}/supplement-request", json=body).status_code == 403
    assert coordinator.get(f"{BASE}/{application.id}").json["allowed_actions"] == []


# --- 422s ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"items": " \n  \n"}, "items", "supplement_items_required"),
        ({"items": "身份证明", "requested_on": "2025-09-11"}, "requested_on", "before_previous_step"),
        ({"items": "身份证明", "requested_on": "2999-01-01"}, "requested_on", "date_in_future"),
        ({"items": "身份证明", "requested_on": "2025-09-15", "due_on": "2025-09-14"}, "due_on", "due_before_request"),
    ],
)
def test_a_request_breaking_a_rule_is_422_naming_it(body, field, code, make_application, make_officer, api_as):
    application, _tianjin, _baoding = make_application(ApplicationStatus.accepted)  # accepted 2025-09-12
    response = holder_api(api_as, make_officer, application).post(
        f"{BASE}/{application.id}/supplement-request", json=body
    )
    assert response.status_code == 422, response.json
    assert code in response.json["error_codes"]["json"][field]
    assert db.session.get(LegalAidApplication, application.id).supplement_requested_on is None


@pytest.mark.parametrize("body", [{}, {"items": ""}, {"items": "x" * 4001}, {"items": "身份证明", "due_on": "soon"}])
def test_a_request_of_the_wrong_shape_is_422(body, make_application, make_officer, api_as):
    application, _tianjin, _baoding = make_application(ApplicationStatus.accepted)
    response = holder_api(api_as, make_officer, application).post(
        f"{BASE}/{application.id}/supplement-request", json=body
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("received_on", "code"), [("2025-09-14", "before_previous_step"), ("2999-01-01", "date_in_future")]
)
def test_materials_received_before_the_request_or_in_the_future_are_422(
    received_on, code, make_application, make_officer, api_as
):
    application, _tianjin, _baoding = make_application(ApplicationStatus.accepted)
    service.request_supplement(SYSTEM, application.id, items="身份证明", requested_on=date(2025, 9, 15))
    response = holder_api(api_as, make_officer, application).post(
        f"{BASE}/{application.id}/supplement-received", json={"received_on": received_on}
    )
    assert response.status_code == 422
    assert code in response.json["error_codes"]["json"]["received_on"]


# --- the clock stands still while the applicant supplements -----------------------------------------------


@pytest.fixture
def received_2_march(make_centre, make_officer):
    """An application the competent 保定 centre received and accepted on Mon 2026-03-02: 7 days later is
    Mon 2026-03-09, a working day, so decide_by is 2026-03-09."""
    centre = make_centre("130602")
    officer = make_officer(centre)
    with frozen(date(2026, 3, 2)):
        application = service.file_application(officer.to_actor(), application_data(None, received_on=date(2026, 3, 2)))
        service.accept_application(officer.to_actor(), application.id)
    assert (application.received_on, application.decide_by) == (date(2026, 3, 2), date(2026, 3, 9))
    return application, officer


@pytest.mark.parametrize(
    ("received_on", "paused", "decide_by"),
    [
        # requested Wed 03-04; the centre used 03-03 and 03-04 (2 of its 7 days); the applicant took 03-05..03-12,
        # 8 days; the 5 days left run 03-13..03-17: decide_by Tue 2026-03-17 (= 03-02 + 7 + 8).
        (date(2026, 3, 12), 8, date(2026, 3, 17)),
        # materials on Tue 03-10: 6 days paused, 03-02 + 13 = Sun 03-15, a rest day, so Mon 2026-03-16 (art. 203).
        (date(2026, 3, 10), 6, date(2026, 3, 16)),
        # a reply on the day of the request pauses nothing: decide_by stays Mon 2026-03-09.
        (date(2026, 3, 4), 0, date(2026, 3, 9)),
    ],
)
def test_the_days_spent_supplementing_move_decide_by_later(received_on, paused, decide_by, received_2_march, api_as):
    application, officer = received_2_march
    with frozen(date(2026, 3, 4)):
        asked = api_as(officer).post(
            f"{BASE}/{application.id}/supplement-request", json={"items": ITEMS, "due_on": "2026-03-11"}
        )
    assert asked.status_code == 200 and asked.json["supplement_requested_on"] == "2026-03-04"
    assert asked.json["decide_by"] == "2026-03-09"  # nothing moves until the materials arrive
    with frozen(received_on):
        answer = api_as(officer).post(f"{BASE}/{application.id}/supplement-received", json={})
    assert answer.status_code == 200, answer.json
    assert (answer.json["supplement_received_on"], answer.json["decide_by"]) == (
        received_on.isoformat(),
        decide_by.isoformat(),
    )
    assert supplement_pause_days(db.session.get(LegalAidApplication, application.id)) == paused
    [event] = [e for e in events_of(application) if e.code == "supplement_received"]
    assert event.data == {
        "requested_on": "2026-03-04",
        "paused_days": paused,
        "previous": "2026-03-09",
        "decide_by": decide_by.isoformat(),
    }
    [asked_event] = [e for e in events_of(application) if e.code == "supplement_requested"]
    assert asked_event.data == {"items": 2, "due_on": "2026-03-11"} and asked_event.on_date == date(2026, 3, 4)


def test_a_paused_clock_is_never_overdue(received_2_march, api_as):
    application, officer = received_2_march
    with frozen(date(2026, 3, 4)):
        service.request_supplement(officer.to_actor(), application.id, items="身份证明")
    # Wed 03-11: past the 03-09 the clock showed, but the applicant is still supplementing: nothing is overdue
    with frozen(date(2026, 3, 11)):
        api = api_as(officer)
        assert application.decide_overdue(date(2026, 3, 11)) is False
        assert api.get(f"{BASE}?overdue=true").json["total"] == 0
        assert api.get(f"{BASE}/{application.id}").json["decide_overdue"] is False
        service.record_supplement_received(officer.to_actor(), application.id)
    # 7 days paused (03-05..03-11): 03-02 + 14 = Mon 03-16
    assert application.decide_by == date(2026, 3, 16)
    with frozen(date(2026, 3, 17)):
        api = api_as(officer)
        assert [a["id"] for a in api.get(f"{BASE}?overdue=true").json["items"]] == [application.id]


def test_a_deadline_already_moved_over_a_holiday_is_not_moved_twice(make_centre):
    centre = make_centre("130602")
    # received Thu 2025-09-25: + 7 = Thu 10-02, inside the National Day holiday (10-01..10-08): Thu 2025-10-09
    application = service.file_application(SYSTEM, application_data(centre.id, received_on=date(2025, 9, 25)))
    assert application.decide_by == date(2025, 10, 9)
    service.request_supplement(SYSTEM, application.id, items="身份证明", requested_on=date(2025, 9, 26))
    application = service.record_supplement_received(SYSTEM, application.id, received_on=date(2025, 9, 28))
    # 2 days paused: 09-25 + 9 = Sat 10-04, still in the holiday, so still Thu 10-09 (adding the 2 days to the
    # moved deadline would have given Sat 10-11, a make-up workday)
    assert application.decide_by == date(2025, 10, 9)
    assert decision_deadline(application).day == date(2025, 10, 9)


def test_a_request_before_the_competent_centre_received_it_pauses_only_its_own_days(make_application):
    # filed at the Tianjin centre on Wed 2025-09-10 (no clock there: not competent), asked the same day
    application, _tianjin, baoding = make_application(ApplicationStatus.filed)
    service.request_supplement(SYSTEM, application.id, items="身份证明", requested_on=date(2025, 9, 10))
    application = service.transfer_application(
        SYSTEM, application.id, to_centre_id=baoding.id, transferred_on=date(2025, 9, 11)
    )
    assert application.decide_by == date(2025, 9, 18)  # received by 保定 Thu 09-11 + 7
    application = service.record_supplement_received(SYSTEM, application.id, received_on=date(2025, 9, 15))
    # only 保定's days count: 09-12..09-15 = 15 - 11 = 4 paused; 09-11 + 11 = Mon 2025-09-22
    assert application.decide_by == date(2025, 9, 22)


def test_materials_received_before_any_clock_are_only_recorded(make_application):
    application, _tianjin, baoding = make_application(ApplicationStatus.filed)
    service.request_supplement(SYSTEM, application.id, items="身份证明", requested_on=date(2025, 9, 10))
    application = service.record_supplement_received(SYSTEM, application.id, received_on=date(2025, 9, 11))
    assert (application.supplement_received_on, application.decide_by) == (date(2025, 9, 11), None)
    # handed over on 09-11 after the materials came: 保定's 7 days are whole, 09-11 + 7 = Thu 09-18
    application = service.transfer_application(
        SYSTEM, application.id, to_centre_id=baoding.id, transferred_on=date(2025, 9, 11)
    )
    assert application.decide_by == date(2025, 9, 18)


def test_acceptance_counts_the_pause_from_the_corrected_receipt(make_application):
    # handed over Thu 2025-09-11; asked on 09-12 and the materials came on Tue 09-16 (4 days)
    application, _tianjin, _baoding = make_application(ApplicationStatus.transferred)
    service.request_supplement(SYSTEM, application.id, items="身份证明", requested_on=date(2025, 9, 12))
    application = service.record_supplement_received(SYSTEM, application.id, received_on=date(2025, 9, 16))
    assert application.decide_by == date(2025, 9, 22)  # 09-11 + 7 + 4 = Mon 09-22
    application = service.accept_application(
        SYSTEM, application.id, received_on=date(2025, 9, 12), accepted_on=date(2025, 9, 16)
    )
    # the file reached 保定 on Fri 09-12: 09-12 + 7 + 4 = Tue 2025-09-23
    assert application.decide_by == date(2025, 9, 23)


def test_the_recount_after_a_calendar_change_keeps_the_pause(make_centre):
    centre = make_centre("130602")
    with frozen(date(2026, 12, 28)):
        application = service.file_application(SYSTEM, application_data(centre.id, received_on=date(2026, 12, 28)))
    # received Mon 2026-12-28: + 7 = Mon 2027-01-04, a working day (2027 may still be provisional)
    assert application.decide_by == date(2027, 1, 4)
    with frozen(date(2026, 12, 29)):
        service.request_supplement(SYSTEM, application.id, items="身份证明")
    with frozen(date(2026, 12, 31)):
        service.record_supplement_received(SYSTEM, application.id)
    # 2 days paused (12-30, 12-31): 12-28 + 9 = Wed 2027-01-06
    assert application.decide_by == date(2027, 1, 6)
    # The official 2027 notice makes Wed 01-06 a rest day. Counted again with the pause the period ends on it, so it
    # moves to Thu 01-07; counted without the pause it would end on 01-04 and never move.
    rest = [d for d, work in year_days(2027).items() if not work and d.weekday() < 5]
    with frozen(date(2026, 12, 31)):
        calendars.publish_year(ADMIN, 2027, [*rest, date(2027, 1, 6)], [], source="通知")
    assert (application.decide_by, application.decide_by_provisional) == (date(2027, 1, 7), False)
    moved = [e for e in events_of(application) if e.code == "deadline_moved"]
    assert [(e.data["previous"], e.data["deadline"]) for e in moved] == [("2027-01-06", "2027-01-07")]


# --- the applicant's particulars -------------------------------------------------------------------------


def test_filing_takes_the_applicants_particulars(tongban_pair, make_officer, api_as):
    tianjin, _baoding = tongban_pair()
    api = api_as(make_officer(tianjin))
    body = application_data(None, received_on="2025-09-24")
    # 民族 given as its GB/T 3304 code (03, 回族): stored and shown as the Chinese name
    body["applicant"] |= {
        "gender": "female",
        "ethnicity": "03",
        "address": "天津市和平区南京路 1 号",
        "occupation": "保定某建筑公司 钢筋工",
    }
    response = api.post(BASE, json=body)
    assert response.status_code == 201, response.json
    applicant = response.json["applicant"]
    assert (applicant["gender"], applicant["ethnicity"], applicant["address"], applicant["occupation"]) == (
        "female",
        "回族",
        "天津市和平区南京路 1 号",
        "保定某建筑公司 钢筋工",
    )
    assert "request_supplement" in response.json["allowed_actions"]
    assert "receive_supplement" not in response.json["allowed_actions"]
    stored = db.session.get(LegalAidApplication, response.json["id"])
    assert (stored.applicant_gender_label, stored.applicant_address) == ("女", "天津市和平区南京路 1 号")


def test_the_particulars_are_optional(tongban_pair, make_officer, api_as):
    tianjin, _baoding = tongban_pair()
    body = application_data(None, received_on="2025-09-24")
    body["applicant"] |= {"gender": None, "ethnicity": " ", "address": ""}
    response = api_as(make_officer(tianjin)).post(BASE, json=body)
    assert response.status_code == 201, response.json
    applicant = response.json["applicant"]
    assert [applicant[k] for k in ("gender", "ethnicity", "address", "occupation")] == [None, None, None, None]


@pytest.mark.parametrize(
    ("particulars", "where"),
    [
        ({"gender": "other"}, ("applicant", "gender")),
        ({"ethnicity": "Han"}, ("applicant.ethnicity",)),
        ({"ethnicity": "汉人"}, ("applicant.ethnicity",)),
        ({"ethnicity": "汉" * 21}, ("applicant", "ethnicity")),
        ({"address": "路" * 201}, ("applicant", "address")),
        ({"occupation": "工" * 61}, ("applicant", "occupation")),
    ],
)
def test_wrong_particulars_are_422(particulars, where, tongban_pair, make_officer, api_as):
    tianjin, _baoding = tongban_pair()
    body = application_data(None, received_on="2025-09-24")
    body["applicant"] |= particulars
    response = api_as(make_officer(tianjin)).post(BASE, json=body)
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    for key in where:
        errors = errors[key]
    assert errors


def test_the_service_checks_the_particulars_for_every_caller(make_centre):
    centre = make_centre("130602")
    data = application_data(centre.id)
    data["applicant"] |= {"gender": "m", "ethnicity": "Han", "occupation": "工" * 61}
    with pytest.raises(ValidationFailed) as caught:
        service.file_application(SYSTEM, data)
    assert set(caught.value.errors) == {"applicant.gender", "applicant.ethnicity", "applicant.occupation"}
    assert code_of(caught.value.errors["applicant.ethnicity"][0]) == "unknown_ethnicity"


# --- the pages -------------------------------------------------------------------------------------------


def test_the_filing_form_takes_the_particulars(tongban_pair, make_officer, signed_in):
    tianjin, _baoding = tongban_pair()
    client = signed_in(make_officer(tianjin))
    form = client.get("/legal-aid/applications/new").get_data(as_text=True)
    assert "申请人基本情况（选填" in form and 'name="applicant_gender"' in form and 'name="applicant_address"' in form
    response = client.post(
        "/legal-aid/applications/new",
        data={
            "applicant_name": "陈红",
            "id_number": valid_id_number(),
            "phone": valid_phone(),
            "applicant_region_code": "120101",
            "applicant_gender": "female",
            "applicant_ethnicity": "满族",
            "applicant_address": "天津市和平区南京路 1 号",
            "applicant_occupation": "务工",
            "matter_category": "labour_remuneration",
            "matter_region_code": "130602",
            "hardship": "declaration",
            "summary": "保定工地拖欠工资",
            "received_on": "2025-09-24",
        },
    )
    assert response.status_code == 302
    application = db.session.scalar(sa.select(LegalAidApplication).where(LegalAidApplication.applicant_name == "陈红"))
    assert (application.applicant_gender, application.applicant_ethnicity, application.applicant_occupation) == (
        "female",
        "满族",
        "务工",
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "满族" in page and "天津市和平区南京路 1 号" in page and "性别 女" in page


def test_the_filing_form_shows_a_wrong_ethnicity_beside_the_field(make_centre, make_officer, signed_in):
    client = signed_in(make_officer(make_centre("120101")))
    response = client.post(
        "/legal-aid/applications/new",
        data={
            "applicant_name": "陈红",
            "id_number": valid_id_number(),
            "applicant_ethnicity": "Han",
            "matter_category": "labour_remuneration",
            "matter_region_code": "130602",
            "hardship": "declaration",
            "summary": "x",
            "received_on": "2025-09-24",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="applicant_ethnicity-errors"' in html and "未知的民族，请从民族列表中选择" in html


def test_asking_and_recording_through_the_page(received_2_march, signed_in):
    application, officer = received_2_march
    base = f"/legal-aid/applications/{application.id}"
    with frozen(date(2026, 3, 4)):
        client = signed_in(officer)
        page = client.get(base).get_data(as_text=True)
        assert 'id="supplement-request-form"' in page and 'id="supplement-received-form"' not in page
        # no items: refused by the form, nothing recorded
        html = client.post(
            f"{base}/supplement-request", data={"request_supplement-items": " "}, follow_redirects=True
        ).get_data(as_text=True)
        assert "需要补充的材料或需要说明的事项" in html
        assert db.session.get(LegalAidApplication, application.id).supplement_requested_on is None
        response = client.post(
            f"{base}/supplement-request",
            data={
                "request_supplement-items": ITEMS,
                "request_supplement-requested_on": "2026-03-04",
                "request_supplement-due_on": "2026-03-11",
            },
        )
        assert response.status_code == 303
        page = client.get(base).get_data(as_text=True)
    assert "2026-03-04 一次性告知申请人补充以下材料或作出说明" in page
    assert "<li>劳动合同或者工资条等劳动关系证明</li>" in page and "请于 2026-03-11 前补充" in page
    assert "不计入审查期限" in page and "一次性告知补充材料" in page
    assert 'id="supplement-request-form"' not in page and 'id="supplement-received-form"' in page
    with frozen(date(2026, 3, 12)):
        client = signed_in(officer)
        response = client.post(f"{base}/supplement-received", data={"receive_supplement-received_on": "2026-03-12"})
        assert response.status_code == 303
        page = client.get(base).get_data(as_text=True)
    assert "2026-03-12 收到补充材料" in page
    assert "补充材料用时 8 日不计入审查期限，审查决定期限顺延至 2026-03-17（原为 2026-03-09）" in page
    assert 'id="supplement-received-form"' not in page
    assert db.session.get(LegalAidApplication, application.id).decide_by == date(2026, 3, 17)


def test_a_second_request_through_the_page_is_refused_with_the_rule(make_application, make_officer, signed_in):
    application, _tianjin, baoding = make_application(ApplicationStatus.accepted)
    service.request_supplement(SYSTEM, application.id, items="身份证明", requested_on=STEP_DAY)
    client = signed_in(make_officer(baoding))
    html = client.post(
        f"/legal-aid/applications/{application.id}/supplement-request",
        data={"request_supplement-items": "另一项"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "一次性告知申请人需要补充的材料，不能再次通知" in html
    assert db.session.get(LegalAidApplication, application.id).supplement_items == "身份证明"
