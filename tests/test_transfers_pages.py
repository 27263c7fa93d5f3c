"""Transfer pages: the routes panel on the case page, the queues, the transfer page and its answers."""

from __future__ import annotations

import re
from datetime import date

import pytest

from mediation_hub.core.actor import Role
from mediation_hub.transfers.models import Transfer, TransferStatus

FULL_ID_NUMBER = re.compile(r"\d{17}[\dXx]")


@pytest.fixture
def scene(make_org, make_user, make_routed_case):
    hebei = make_org(name="竞秀区页面测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区页面测试调解委员会", region_code="110105")
    case = make_routed_case(hebei, applicant="130602", respondent="110105")
    return {
        "hebei": hebei,
        "beijing": beijing,
        "case": case,
        "sender": make_user(organization=hebei),
        "receiver": make_user(organization=beijing),
    }


def test_case_page_lists_routes_and_sends_a_transfer(scene, signed_in):
    client = signed_in(scene["sender"])
    page = client.get(f"/cases/{scene['case'].id}").get_data(as_text=True)
    assert "跨区域转办与联合调解" in page
    assert scene["beijing"].name in page and "同在朝阳区" in page and "JJJ-MEDIATION" in page

    response = client.post(
        "/transfers/request",
        data={
            "case_id": scene["case"].id,
            "to_organization_id": scene["beijing"].id,
            "agreement_code": "JJJ-MEDIATION",
            "mode": "joint",
            "note": "请协助联系被申请人",
        },
    )
    assert response.status_code == 302
    transfer = Transfer.query.filter_by(case_id=scene["case"].id).one()
    assert (transfer.mode.value, transfer.status) == ("joint", TransferStatus.pending)
    assert transfer.note == "请协助联系被申请人"
    page = client.get(f"/cases/{scene['case'].id}").get_data(as_text=True)
    assert "请求记录" in page and "已向" in page


def test_an_off_route_request_from_the_page_says_why(scene, signed_in, make_org):
    shanghai = make_org(region_code="310101")
    client = signed_in(scene["sender"])
    response = client.post(
        "/transfers/request",
        data={
            "case_id": scene["case"].id,
            "to_organization_id": shanghai.id,
            "agreement_code": "JJJ-MEDIATION",
            "mode": "transfer",
        },
        follow_redirects=True,
    )
    assert "未能发出请求" in response.get_data(as_text=True)
    assert "接收组织不在协议地区内" in response.get_data(as_text=True)


def test_a_case_without_route_shows_the_reason(signed_in, make_org, make_user, make_routed_case):
    beijing = make_org(region_code="110101")
    case = make_routed_case(beijing, applicant="110101", respondent="310101")
    page = signed_in(make_user(organization=beijing)).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "没有覆盖所涉地区的协议" in page


def test_queue_minimum_view_and_accept(scene, signed_in, request_transfer_as):
    transfer = request_transfer_as(scene["sender"], scene["case"], scene["beijing"], requested_on=date(2025, 9, 29))
    client = signed_in(scene["receiver"])
    queue = client.get("/transfers/").get_data(as_text=True)
    assert scene["case"].number in queue and "2025-10-10" in queue and "已超期" in queue

    detail = client.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    assert not FULL_ID_NUMBER.search(detail)
    assert scene["case"].parties[1].name in detail and scene["case"].parties[1].id_number_masked in detail
    assert "打开案件" not in detail
    assert client.get(f"/cases/{scene['case'].id}").status_code == 404

    response = client.post(f"/transfers/{transfer.id}/accept", data={}, follow_redirects=True)
    assert response.status_code == 200 and "已接收" in response.get_data(as_text=True)
    assert "打开案件" in response.get_data(as_text=True)
    assert client.get(f"/cases/{scene['case'].id}").status_code == 200


def test_decline_form_needs_a_text_for_other(scene, signed_in, request_transfer_as):
    transfer = request_transfer_as(scene["sender"], scene["case"], scene["beijing"])
    client = signed_in(scene["receiver"])
    response = client.post(f"/transfers/{transfer.id}/decline", data={"reason_code": "other", "reason_text": ""})
    assert response.status_code == 422
    assert "选择“其他”时须说明理由" in response.get_data(as_text=True)
    response = client.post(f"/transfers/{transfer.id}/decline", data={"reason_code": "capacity"}, follow_redirects=True)
    assert "已退回" in response.get_data(as_text=True) and "力量不足" in response.get_data(as_text=True)
    assert client.post(f"/transfers/{transfer.id}/accept", data={}).status_code == 409


def test_escalation_page_for_coordinators(scene, signed_in, make_user, request_transfer_as):
    request_transfer_as(scene["sender"], scene["case"], scene["beijing"], requested_on=date(2025, 9, 29))
    page = signed_in(make_user(role=Role.coordinator, region_code="130000")).get("/transfers/escalations")
    assert page.status_code == 200 and scene["case"].number in page.get_data(as_text=True)
