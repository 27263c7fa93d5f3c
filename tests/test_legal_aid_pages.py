"""Legal-aid pages through the test client: queue order and clocks, filing form, actions, read-only views."""

from __future__ import annotations

from datetime import date

from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.legal_aid import service
from mediation_hub.legal_aid.models import ApplicationStatus, LegalAidApplication
from tests.factories import valid_id_number, valid_phone
from tests.factories_legal_aid import application_data


def test_queue_lists_incoming_transfers_first_with_overdue_clock(make_application, make_officer, signed_in):
    incoming, _tianjin, baoding = make_application(ApplicationStatus.transferred)
    # an application the 保定 centre received itself and accepted: it comes after the incoming one
    own = service.file_application(SYSTEM, application_data(baoding.id, received_on=date(2025, 9, 1)))
    service.accept_application(SYSTEM, own.id, accepted_on=date(2025, 9, 2))
    client = signed_in(make_officer(baoding))
    html = client.get("/legal-aid/applications").get_data(as_text=True)
    assert html.index(incoming.number) < html.index(own.number)
    assert "通办转入" in html
    assert "2025-09-18 已逾期" in html  # handed over Thu 2025-09-11 + 7 = Thu 2025-09-18, long past
    assert "2025-09-08 已逾期" in html  # received Mon 2025-09-01 + 7 = Mon 2025-09-08
    assert incoming.id_number_masked in html and incoming.full_id_number() not in html


def test_queue_keeps_handled_applications_apart_from_the_waiting_ones(make_application, make_officer, signed_in):
    # the page is the officer's 待办: an assigned application has nothing left due, so it is listed under 已办理
    assigned, _tianjin, baoding = make_application(ApplicationStatus.assigned)
    granted = service.file_application(SYSTEM, application_data(baoding.id, received_on=date(2025, 9, 1)))
    service.accept_application(SYSTEM, granted.id, accepted_on=date(2025, 9, 2))
    service.decide_application(SYSTEM, granted.id, granted=True, decided_on=date(2025, 9, 3))
    html = signed_in(make_officer(baoding)).get("/legal-aid/applications").get_data(as_text=True)
    waiting, handled = html.split('<table class="la-queue')[1].split('<table class="la-done')
    assert granted.number in waiting and assigned.number not in waiting
    assert assigned.number in handled and "张律师（2025-09-16）" in handled and granted.number not in handled


def test_tianjin_queue_shows_what_it_passed_on(make_application, make_officer, signed_in):
    application, tianjin, baoding = make_application(ApplicationStatus.transferred)
    html = signed_in(make_officer(tianjin)).get("/legal-aid/applications").get_data(as_text=True)
    assert "已通办转出" in html and application.number in html and baoding.name in html


def test_officer_files_through_the_form_and_hands_over(tongban_pair, make_officer, signed_in):
    tianjin, baoding = tongban_pair()
    client = signed_in(make_officer(tianjin))
    assert client.get("/legal-aid/applications/new").status_code == 200
    id_number = valid_id_number()
    response = client.post(
        "/legal-aid/applications/new",
        data={
            "applicant_name": "陈红",
            "id_number": id_number,
            "phone": valid_phone(),
            "applicant_region_code": "120101",
            "matter_category": "labour_remuneration",
            "matter_region_code": "130602",
            "hardship": "exempt",
            "exempt_group": "migrant_worker_wages_injury",
            "summary": "保定工地拖欠工资",
            "received_on": "2025-09-24",
        },
    )
    assert response.status_code == 302
    application = db.session.scalar(db.select(LegalAidApplication).where(LegalAidApplication.applicant_name == "陈红"))
    assert application.centre_id == tianjin.id and application.hardship.value == "exempt"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert id_number not in page and application.id_number_masked in page
    # the hand-over form proposes the competent centre
    assert f'<option selected value="{baoding.id}">' in page
    response = client.post(
        f"/legal-aid/applications/{application.id}/transfer",
        data={"transfer-to_centre_id": str(baoding.id), "transfer-transferred_on": "2025-09-24"},
    )
    assert response.status_code == 303
    db.session.refresh(application)
    assert application.status == ApplicationStatus.transferred and application.decide_by == date(2025, 10, 9)
    page = client.get(f"/legal-aid/applications/{application.id}").get_data(as_text=True)
    assert "本页仅供查阅" in page and "通办转交记录" in page


def test_filing_form_shows_rule_failures_beside_fields(make_centre, make_officer, signed_in):
    client = signed_in(make_officer(make_centre("120101")))
    response = client.post(
        "/legal-aid/applications/new",
        data={
            "applicant_name": "陈红",
            "id_number": "110105198005170001",
            "matter_category": "labour_remuneration",
            "matter_region_code": "130602",
            "hardship": "exempt",
            "exempt_group": "",
            "summary": "x",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "身份证号码校验位错误" in html and "免予核查经济困难状况须选择法定人群" in html


def test_send_back_through_the_page_is_refused_with_the_rule(make_application, make_officer, signed_in):
    application, tianjin, baoding = make_application(ApplicationStatus.transferred)
    client = signed_in(make_officer(baoding))
    response = client.post(
        f"/legal-aid/applications/{application.id}/transfer",
        data={"transfer-to_centre_id": str(tianjin.id)},
        follow_redirects=True,
    )
    assert "通办申请不得退回已转出该申请的中心" in response.get_data(as_text=True)
    assert db.session.get(LegalAidApplication, application.id).centre_id == baoding.id


def test_accept_decide_assign_through_the_page(make_application, make_officer, signed_in):
    application, _t, baoding = make_application(ApplicationStatus.transferred)
    client = signed_in(make_officer(baoding))
    base = f"/legal-aid/applications/{application.id}"
    page = client.get(base).get_data(as_text=True)
    # the competent centre accepts; it is offered no hand-over (nobody else is competent, no send-back)
    assert 'id="accept-form"' in page and 'id="transfer-form"' not in page
    client.post(f"{base}/accept", data={"accept-accepted_on": "2025-09-12"})
    html = client.post(f"{base}/decide", data={"decide-decision": "refuse"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "不予法律援助须书面说明理由" in html
    client.post(f"{base}/decide", data={"decide-decision": "grant", "decide-decided_on": "2025-09-15"})
    client.post(f"{base}/assign", data={"assign-lawyer_name": "孙律师", "assign-assigned_on": "2025-09-16"})
    db.session.refresh(application)
    assert (application.status, application.lawyer_name, application.assign_by) == (
        ApplicationStatus.assigned,
        "孙律师",
        date(2025, 9, 18),
    )
    html = client.get(base).get_data(as_text=True)
    assert "孙律师" in html and "指派律师" in html


def test_coordinator_sees_region_read_only(make_application, make_user, signed_in):
    application, _t, _b = make_application(ApplicationStatus.transferred)
    hebei = signed_in(make_user(role=Role.coordinator, region_code="130000"))
    html = hebei.get("/legal-aid/applications").get_data(as_text=True)
    assert application.number in html
    page = hebei.get(f"/legal-aid/applications/{application.id}").get_data(as_text=True)
    assert "本页仅供查阅" in page and 'id="accept-form"' not in page
    assert hebei.post(f"/legal-aid/applications/{application.id}/accept", data={}).status_code == 403
    assert hebei.get("/legal-aid/applications/new").status_code == 403


def test_officer_of_another_centre_gets_404(make_application, make_officer, make_centre, signed_in):
    # (one signed-in user per test: the test's app context keeps Flask-Login's user on ``g``)
    application, _t, _b = make_application(ApplicationStatus.transferred)
    stranger = signed_in(make_officer(make_centre("130602")))
    assert stranger.get(f"/legal-aid/applications/{application.id}").status_code == 404
