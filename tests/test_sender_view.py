"""Issue 13 point 1: the organisation that handed a case over keeps a read-only view of it.

After 北京 accepts a transfer from 保定, the 保定 mediator still reads the case (detail, timeline, status,
outcome; parties masked), finds it under "已转出", may do nothing to it (403), and hears when it is concluded.
An unrelated organisation still gets a 404; a declined request changes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.cases.models import Case
from mediation_hub.extensions import db
from mediation_hub.notifications.models import Notification
from mediation_hub.transfers import service as transfers
from mediation_hub.transfers.feedback import NOTICE_KIND, notify_senders_of_conclusion

FULL_ID_NUMBER = re.compile(r"\d{17}[\dXx]")
REQUESTED_ON, ACCEPTED_ON = date(2025, 9, 29), date(2025, 10, 9)


@pytest.fixture
def handed_over(make_org, make_user, make_routed_case, request_transfer_as, api_as):
    """A 保定 case (a third party in 天津, so it may go on there) handed over to 北京 on 2025-10-09."""
    baoding = make_org(name="竞秀区转出测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区转出测试调解委员会", region_code="110105")
    tianjin = make_org(name="和平区转出测试调解委员会", region_code="120101")
    case = make_routed_case(baoding, applicant="130602", respondent="110105", third_party="120101")
    sender, receiver = make_user(organization=baoding), make_user(organization=beijing)
    transfer = request_transfer_as(sender, case, beijing, requested_on=REQUESTED_ON)
    transfers.accept_transfer(receiver.to_actor(), transfer.id, answered_on=ACCEPTED_ON)
    return {
        "case": case,
        "baoding": baoding,
        "beijing": beijing,
        "tianjin": tianjin,
        "transfer": transfer,
        "sender_user": sender,
        "receiver_user": receiver,
        "sender": api_as(sender),
        "receiver": api_as(receiver),
    }


# --- reading ---------------------------------------------------------------------------------------------


def test_the_sender_reads_the_case_masked_with_its_history(handed_over):
    case_id = handed_over["case"].id
    response = handed_over["sender"].get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert not FULL_ID_NUMBER.search(response.get_data(as_text=True))
    assert all("*" in p["id_number"] and "*" in p["phone"] for p in body["parties"])
    assert (body["organization_id"], body["status"]) == (handed_over["beijing"].id, "accepted")
    assert (body["read_only"], body["allowed_actions"]) == (True, [])
    assert body["transferred_to"] == {
        "transfer_id": handed_over["transfer"].id,
        "to_organization_id": handed_over["beijing"].id,
        "to_organization_name": "朝阳区转出测试调解委员会",
        "accepted_on": "2025-10-09",
    }

    events = handed_over["sender"].get(f"/api/v1/cases/{case_id}/events")
    assert events.status_code == 200
    assert [e["code"] for e in events.get_json()["items"]] == [
        "transfer_requested",
        "transfer_accepted",
        "handling_organization_changed",
    ]


def test_the_receiver_handles_it_as_before(handed_over):
    body = handed_over["receiver"].get(f"/api/v1/cases/{handed_over['case'].id}").get_json()
    assert body["read_only"] is False and body["transferred_to"] is None
    assert "conclude" in body["allowed_actions"]


def test_an_unrelated_organisation_still_gets_a_404(handed_over, api_as, make_org):
    stranger = api_as(role="mediator", organization=make_org(region_code="130602"))
    case_id = handed_over["case"].id
    assert stranger.get(f"/api/v1/cases/{case_id}").status_code == 404
    assert stranger.get(f"/api/v1/cases/{case_id}/events").status_code == 404
    assert stranger.post(f"/api/v1/cases/{case_id}/sessions", json={"summary": "到场"}).status_code == 404


# --- acting: nothing -------------------------------------------------------------------------------------

# Every action on a case, with a body the handling organisation could send (the case is accepted in 北京).
ACTIONS = [
    ("post", "accept", {}),
    ("post", "decline", {"reason": "不属于人民调解受理范围"}),
    ("post", "sessions", {"summary": "双方到场，陈述事实"}),
    ("post", "conclude", {"outcome": "withdrawn"}),
    ("post", "extend", {"days": 15, "consent_note": "双方同意延长"}),
    ("post", "confirmation", {"court": "人民法院"}),
    ("post", "confirmation-result", {"confirmed": True}),
    ("post", "follow-ups", {"summary": "当事人已履行"}),
    ("get", "routes", None),
    ("post", "parties/{party}/reveal", None),
]


@pytest.mark.parametrize(("method", "action", "body"), ACTIONS, ids=[a[1].split("/")[-1] for a in ACTIONS])
def test_the_sender_may_do_nothing(handed_over, method, action, body):
    case = handed_over["case"]
    url = f"/api/v1/cases/{case.id}/" + action.format(party=case.parties[0].id)
    kwargs = {"json": body} if body is not None else {}
    response = getattr(handed_over["sender"], method)(url, **kwargs)
    assert response.status_code == 403, response.get_json()
    assert not FULL_ID_NUMBER.search(response.get_data(as_text=True))


def test_the_sender_may_not_send_it_anywhere(handed_over):
    response = handed_over["sender"].post(
        "/api/v1/transfers",
        json={
            "case_id": handed_over["case"].id,
            "to_organization_id": handed_over["tianjin"].id,
            "agreement_code": "JJJ-MEDIATION",
        },
    )
    assert response.status_code == 403


def test_the_sender_page_shows_the_banner_and_no_action(handed_over, signed_in):
    case = handed_over["case"]
    client = signed_in(handed_over["sender_user"])
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "已转至 朝阳区转出测试调解委员会，于 2025-10-09 接收；本机构仅可查看" in html
    assert "转办接收" in html and "承办组织变更" in html  # the history
    assert "case-actions" not in html and "查看完整号码" not in html and 'class="route' not in html
    assert not FULL_ID_NUMBER.search(html)
    assert client.post(f"/cases/{case.id}/sessions", data={"record_session-summary": "双方到场"}).status_code == 403


# --- lists -----------------------------------------------------------------------------------------------


def _numbers(client, query: str = "") -> list[str]:
    return [c["number"] for c in client.get(f"/api/v1/cases?per_page=100{query}").get_json()["items"]]


def test_the_transferred_out_list(handed_over, make_routed_case):
    number = handed_over["case"].number
    own = make_routed_case(handed_over["baoding"])  # still 保定's: listed as usual, not as transferred out
    sender = handed_over["sender"]
    assert number not in _numbers(sender) and own.number in _numbers(sender)
    listed = sender.get("/api/v1/cases?transferred_out=true").get_json()
    assert [c["number"] for c in listed["items"]] == [number]
    item = listed["items"][0]
    assert (item["status"], item["read_only"], item["allowed_actions"]) == ("accepted", True, [])
    assert item["transferred_to"]["to_organization_name"] == "朝阳区转出测试调解委员会"
    assert _numbers(handed_over["receiver"], "&transferred_out=true") == []
    assert number in _numbers(handed_over["receiver"])


def test_the_transferred_out_tab_and_the_worklist(handed_over, signed_in):
    client = signed_in(handed_over["sender_user"])
    row = f'data-case-id="{handed_over["case"].id}"'
    assert row not in client.get("/cases/worklist").get_data(as_text=True)  # not the sender's work
    assert row not in client.get("/cases").get_data(as_text=True)
    tab = client.get("/cases?transferred_out=1").get_data(as_text=True)
    assert row in tab and "2025-10-09 转至 朝阳区转出测试调解委员会" in tab
    # The filter form keeps the tab when posted (redirect to the list with the same filter).
    posted = client.post("/cases", data={"transferred_out": "1", "status": "accepted"})
    assert posted.status_code == 303 and "transferred_out=1" in posted.headers["Location"]


# --- onward, declined, joint -----------------------------------------------------------------------------


def test_an_onward_transfer_keeps_every_sender_reading(handed_over, make_user, api_as):
    tianjin_user = make_user(organization=handed_over["tianjin"])
    onward = transfers.request_transfer(
        handed_over["receiver_user"].to_actor(),
        handed_over["case"].id,
        to_organization_id=handed_over["tianjin"].id,
        agreement_code="JJJ-MEDIATION",
    )
    transfers.accept_transfer(tianjin_user.to_actor(), onward.id)
    db.session.commit()  # a refused call below rolls its request back, not what the test built
    case_id = handed_over["case"].id
    for side in ("sender", "receiver"):  # 保定 and 北京 both handed it over now
        body = handed_over[side].get(f"/api/v1/cases/{case_id}").get_json()
        assert (body["read_only"], body["organization_id"]) == (True, handed_over["tianjin"].id)
        assert handed_over[side].post(f"/api/v1/cases/{case_id}/sessions", json={"summary": "到场"}).status_code == 403
    assert (
        handed_over["sender"].get(f"/api/v1/cases/{case_id}").get_json()["transferred_to"]["to_organization_name"]
        == "朝阳区转出测试调解委员会"
    )  # where 保定 sent it
    assert api_as(tianjin_user).get(f"/api/v1/cases/{case_id}").get_json()["read_only"] is False


@pytest.mark.parametrize("answer", ["decline", "withdraw"])
def test_a_request_not_accepted_changes_nothing(
    answer, make_org, make_user, make_routed_case, request_transfer_as, api_as
):
    baoding, beijing = make_org(region_code="130602"), make_org(region_code="110105")
    case = make_routed_case(baoding, applicant="130602", respondent="110105")
    sender_user, receiver_user = make_user(organization=baoding), make_user(organization=beijing)
    transfer = request_transfer_as(sender_user, case, beijing)
    if answer == "decline":
        transfers.decline_transfer(receiver_user.to_actor(), transfer.id, reason_code="capacity")
    else:
        transfers.withdraw_transfer(sender_user.to_actor(), transfer.id)
    sender, receiver = api_as(sender_user), api_as(receiver_user)
    body = sender.get(f"/api/v1/cases/{case.id}").get_json()
    assert (body["read_only"], body["organization_id"]) == (False, baoding.id)
    assert _numbers(sender, "&transferred_out=true") == []
    assert sender.post(f"/api/v1/cases/{case.id}/sessions", json={"summary": "到场"}).status_code == 201
    assert receiver.get(f"/api/v1/cases/{case.id}").status_code == 404


def test_joint_mediation_leaves_the_lead_handling(make_org, make_user, make_routed_case, request_transfer_as, api_as):
    baoding, beijing = make_org(region_code="130602"), make_org(region_code="110105")
    case = make_routed_case(baoding, applicant="130602", respondent="110105")
    lead, partner = make_user(organization=baoding), make_user(organization=beijing)
    transfer = request_transfer_as(lead, case, beijing, mode="joint")
    transfers.accept_transfer(partner.to_actor(), transfer.id)
    assert api_as(lead).get(f"/api/v1/cases/{case.id}").get_json()["read_only"] is False
    assert _numbers(api_as(lead), "&transferred_out=true") == []


# --- the result fed back ---------------------------------------------------------------------------------


def _feedback(organization_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.kind == NOTICE_KIND, Notification.organization_id == organization_id
            )
        )
    )


def test_the_conclusion_is_fed_back_to_the_sender(handed_over):
    case_id = handed_over["case"].id
    concluded = handed_over["receiver"].post(
        f"/api/v1/cases/{case_id}/conclude", json={"outcome": "no_agreement", "concluded_on": "2025-10-20"}
    )
    assert concluded.status_code == 200, concluded.get_json()
    (notice,) = _feedback(handed_over["baoding"].id)
    assert notice.link == f"/cases/{case_id}"
    assert notice.message == (
        f"朝阳区转出测试调解委员会 已于 2025-10-20 办结贵机构转出的案件 {handed_over['case'].number}：未达成协议"
    )
    assert _feedback(handed_over["beijing"].id) == []  # the one that concluded it is not told
    listed = handed_over["sender"].get("/api/v1/notifications?per_page=100").get_json()["items"]
    assert [n["link"] for n in listed if n["kind"] == NOTICE_KIND] == [f"/cases/{case_id}"]
    body = handed_over["sender"].get(f"/api/v1/cases/{case_id}").get_json()
    assert (body["status"], body["outcome"], body["concluded_on"]) == ("concluded", "no_agreement", "2025-10-20")
    assert notify_senders_of_conclusion(db.session.get(Case, case_id)) == 0  # once per organisation


def test_every_sender_hears_once_after_an_onward_transfer(handed_over, make_user):
    tianjin_user = make_user(organization=handed_over["tianjin"])
    onward = transfers.request_transfer(
        handed_over["receiver_user"].to_actor(),
        handed_over["case"].id,
        to_organization_id=handed_over["tianjin"].id,
        agreement_code="JJJ-MEDIATION",
    )
    transfers.accept_transfer(tianjin_user.to_actor(), onward.id)
    from mediation_hub.cases import service as cases

    cases.conclude_case(tianjin_user.to_actor(), handed_over["case"].id, outcome="withdrawn")
    assert [len(_feedback(handed_over[org].id)) for org in ("baoding", "beijing", "tianjin")] == [1, 1, 0]


def test_the_notice_opens_the_read_only_page(handed_over, signed_in):
    handed_over["receiver"].post(f"/api/v1/cases/{handed_over['case'].id}/conclude", json={"outcome": "withdrawn"})
    (notice,) = _feedback(handed_over["baoding"].id)
    client = signed_in(handed_over["sender_user"])
    opened = client.post(f"/notifications/{notice.id}/read", data={"open": "1"}, follow_redirects=True)
    assert opened.status_code == 200
    html = opened.get_data(as_text=True)
    assert "本机构仅可查看" in html and "撤回" in html
