"""The federation pages: the administrators' 平台互联 page (this hub, each peer's counts, the messages set aside and
sending one again), who may open it, and the federation facts on the transfer and legal-aid application pages.

The counts are worked out by hand from the rows each test writes. Messages sent again stay queued here: the
sender thread is off (``FEDERATION_SEND_AT_ONCE``), delivery itself is tests/test_federation_hubs.py's."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime
from html import unescape

import pytest
import sqlalchemy as sa
import time_machine

from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.federation import service
from mediation_hub.federation.models import (
    FederatedLink,
    InboxMessage,
    InboxStatus,
    LinkKind,
    OutboxMessage,
    OutboxStatus,
)
from mediation_hub.legal_aid.models import ApplicationStatus
from mediation_hub.transfers import service as transfers
from mediation_hub.transfers.models import TransferStatus

NOW = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai
SECRET = "whsec_" + base64.b64encode(b"federation-page-test-secret-32by").decode()
NOT_ADMINS = [Role.registry_admin, Role.mediator, Role.legal_aid_officer, Role.coordinator]


@pytest.fixture(autouse=True)
def _frozen_and_quiet(app, monkeypatch):
    """The clock stands at NOW; a message sent again is only queued (no sender thread in the test's transaction)."""
    monkeypatch.setitem(app.config, "FEDERATION_SEND_AT_ONCE", False)
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


_numbers = iter(range(1, 10_000))


def outbox(to_hub: str, status: OutboxStatus, *, created_at: datetime = NOW, **fields) -> OutboxMessage:
    """One message owed to ``to_hub``, in a conversation of its own."""
    n = next(_numbers)
    type_ = fields.pop("type", "case.outcome")
    message = OutboxMessage(
        id=fields.pop("id", f"msg_page_{n}"),
        to_hub=to_hub,
        type=type_,
        version=1,
        conversation_id=fields.pop("conversation_id", f"transfer/hub/{n}"),
        sequence=1,
        envelope={"type": type_, "payload": {}},
        status=status,
        created_at=created_at,
        next_attempt_at=created_at,
        **fields,
    )
    db.session.add(message)
    db.session.flush()
    return message


def inbox(from_hub: str, status: InboxStatus) -> InboxMessage:
    n = next(_numbers)
    message = InboxMessage(
        id=f"msg_in_{n}",
        from_hub=from_hub,
        type="case.outcome",
        version=1,
        conversation_id=f"transfer/{from_hub}/{n}",
        sequence=1,
        envelope={},
        status=status,
        received_at=NOW,
    )
    db.session.add(message)
    db.session.flush()
    return message


def cells(html: str, row_start: str) -> dict[str, str]:
    """The text of each classed cell of the table row that opens with ``row_start``, by the cell's first class."""
    row = html[html.index(row_start) :]
    row = row[: row.index("</tr>")]
    return {
        name: " ".join(unescape(re.sub(r"<[^>]+>", " ", text)).split())
        for name, text in re.findall(r'<td class="([a-z-]+)[^"]*"[^>]*>(.*?)</td>', row, re.S)
    }


@pytest.fixture
def peers():
    """Two peers: 天津 (in touch until last night, failing since this morning) and 北京 (never reached)."""
    tianjin = service.add_peer("tianjin", "http://127.0.0.1:9/", SECRET)
    tianjin.last_contact_at = at(6, 23, 15)  # 07:15 on the 7th in Shanghai
    tianjin.failing_since = at(7, 1)  # 09:00
    service.add_peer("beijing", "https://beijing-hub.example.cn", SECRET)
    db.session.flush()


@pytest.fixture
def admin(signed_in, make_user):
    return signed_in(make_user(role=Role.admin))


# --- the administrators' page ---------------------------------------------------------------------------------


def test_the_page_shows_this_hub_and_each_peers_counts(app, admin, peers):
    outbox("tianjin", OutboxStatus.pending, created_at=at(7, 0, 5))  # the oldest waiting: 08:05 in Shanghai
    outbox("tianjin", OutboxStatus.pending, created_at=at(7, 1, 40))
    outbox("tianjin", OutboxStatus.undeliverable, attempts=9, last_attempt_at=at(6, 20))
    outbox("tianjin", OutboxStatus.refused, attempts=1, last_attempt_at=at(6, 21), last_error="bad_payload")
    for _ in range(3):
        outbox("tianjin", OutboxStatus.delivered, delivered_at=at(5, 8))
    for status in (InboxStatus.applied, InboxStatus.applied, InboxStatus.held):
        inbox("tianjin", status)
    inbox("hebei", InboxStatus.applied)  # from a hub that is no peer: in no row

    page = admin.get("/federation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert app.config["HUB_ID"] in html and app.config["PUBLIC_URL"] in html
    assert cells(html, '<tr class="peer failing" data-hub="tianjin">') == {
        "peer-hub": "tianjin",
        "peer-url": "http://127.0.0.1:9",
        "last-contact": "2026-12-07 07:15",
        "failing-since": "2026-12-07 09:00",
        "queued": "2",
        "oldest-waiting": "2026-12-07 08:05",
        "undeliverable": "1",
        "refused": "1",
        "delivered": "3",
        "received": "2",
        "held": "1",
    }
    assert cells(html, '<tr class="peer" data-hub="beijing">') == {
        "peer-hub": "beijing",
        "peer-url": "https://beijing-hub.example.cn",
        "last-contact": "从未联系",
        "failing-since": "—",
        "queued": "0",
        "oldest-waiting": "—",
        "undeliverable": "0",
        "refused": "0",
        "delivered": "0",
        "received": "0",
        "held": "0",
    }


def test_the_page_lists_the_messages_set_aside_newest_attempt_first(admin, peers):
    outbox("tianjin", OutboxStatus.pending)
    outbox("tianjin", OutboxStatus.delivered)
    outbox(
        "tianjin",
        OutboxStatus.undeliverable,
        id="msg_page_handover",
        type="case.handover",
        conversation_id="transfer/hub/41",
        attempts=14,
        last_attempt_at=at(7, 1, 50),  # 09:50 in Shanghai
        last_error="connect_failed: 无法连接接收方",
    )
    outbox(
        "beijing",
        OutboxStatus.refused,
        id="msg_page_refused",
        type="legal_aid.forwarded",
        conversation_id="legal_aid/hub/7",
        attempts=1,
        last_attempt_at=at(6, 9, 5),
        last_error="cannot_apply",
    )

    html = admin.get("/federation").get_data(as_text=True)
    assert re.findall(r'<tr class="message" data-message-id="([^"]+)"', html) == [
        "msg_page_handover",
        "msg_page_refused",
    ]
    assert cells(html, '<tr class="message" data-message-id="msg_page_handover">') == {
        "message-id": "msg_page_handover",
        "message-peer": "tianjin",
        "message-type": "案卷移交 case.handover",
        "message-conversation": "transfer/hub/41",
        "attempts": "14",
        # the fixed text the failed call stored after its code, then the code itself
        "last-error": "无法连接接收方 connect_failed",
        "last-attempt": "2026-12-07 09:50",
        "message-status": "无法送达",
        "message-action": "重新发送",
    }
    refused = cells(html, '<tr class="message" data-message-id="msg_page_refused">')
    assert (refused["message-type"], refused["last-attempt"], refused["message-status"]) == (
        "法律援助申请转交 legal_aid.forwarded",
        "2026-12-06 17:05",
        "对方拒收",
    )
    assert html.count(">重新发送</button>") == 2


def test_sending_again_queues_the_message_afresh(admin, peers):
    message = outbox(
        "tianjin",
        OutboxStatus.undeliverable,
        id="msg_page_again",
        created_at=at(3, 8),
        attempts=14,
        last_attempt_at=at(6, 8),
        last_error="timeout: 超时",
    )
    db.session.commit()

    response = admin.post("/federation/messages/msg_page_again/send-again")
    assert response.status_code == 302 and response.headers["Location"].endswith("/federation")
    db.session.expire_all()
    message = db.session.get(OutboxMessage, "msg_page_again")
    assert (message.status, message.attempts) == (OutboxStatus.pending, 0)
    # its schedule starts now: due at once, given up only FEDERATION_GIVE_UP_HOURS from now
    assert message.created_at == NOW and message.next_attempt_at == NOW and message.claimed_until is None

    html = admin.get("/federation").get_data(as_text=True)
    assert "消息 msg_page_again 已重新排队，将发往 tianjin 平台" in unescape(html)
    row = cells(html, '<tr class="peer failing" data-hub="tianjin">')
    assert (row["queued"], row["oldest-waiting"], row["undeliverable"]) == ("1", "2026-12-07 10:30", "0")
    assert 'data-message-id="msg_page_again"' not in html
    assert "没有无法送达或被拒收的消息" in html


def test_a_message_that_is_not_set_aside_is_not_sent_again(admin, peers):
    outbox("tianjin", OutboxStatus.delivered, id="msg_page_delivered", attempts=1, delivered_at=at(6, 8))
    db.session.commit()

    response = admin.post("/federation/messages/msg_page_delivered/send-again", follow_redirects=True)
    assert "只有无法送达或被拒收的消息可以重新发送" in response.get_data(as_text=True)
    db.session.expire_all()
    message = db.session.get(OutboxMessage, "msg_page_delivered")
    assert (message.status, message.attempts) == (OutboxStatus.delivered, 1)
    assert admin.post("/federation/messages/msg_page_unknown/send-again").status_code == 404


def test_peers_are_added_with_the_command_line_only(admin):
    html = admin.get("/federation").get_data(as_text=True)
    assert "mediation-hub peers add HUB_ID URL --secret-stdin" in html
    assert "尚未添加对端平台" in html
    # no form that would make the server call an address typed into it: the only form is the header's sign-out
    assert re.findall(r'<form[^>]*action="([^"]+)"', html) == ["/logout"]


def test_the_navigation_shows_the_page_to_administrators_only(admin, signed_in, make_user):
    assert ">平台互联</a>" in admin.get("/").get_data(as_text=True)
    mediator = signed_in(make_user(role=Role.mediator))
    assert "平台互联" not in mediator.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", NOT_ADMINS, ids=lambda r: r.value)
def test_only_administrators_open_the_page_or_send_again(signed_in, make_user, peers, role):
    outbox("tianjin", OutboxStatus.undeliverable, id="msg_page_refused_to_others", attempts=3)
    client = signed_in(make_user(role=role, region_code="110000" if role == Role.registry_admin else None))

    assert client.get("/federation").status_code == 403
    assert client.post("/federation/messages/msg_page_refused_to_others/send-again").status_code == 403
    db.session.expire_all()
    assert db.session.get(OutboxMessage, "msg_page_refused_to_others").status == OutboxStatus.undeliverable


def test_sending_again_without_the_forms_token_is_refused(app, admin, peers, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    outbox("tianjin", OutboxStatus.undeliverable, id="msg_page_csrf", attempts=3)
    db.session.commit()

    assert admin.post("/federation/messages/msg_page_csrf/send-again").status_code == 400
    db.session.expire_all()
    assert db.session.get(OutboxMessage, "msg_page_csrf").status == OutboxStatus.undeliverable

    html = admin.get("/federation").get_data(as_text=True)
    form = re.search(r'action="/federation/messages/msg_page_csrf/send-again".*?</form>', html, re.S).group()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = admin.post("/federation/messages/msg_page_csrf/send-again", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(OutboxMessage, "msg_page_csrf").status == OutboxStatus.pending


# --- federation facts on the transfer and legal-aid pages --------------------------------------------------------


@pytest.fixture
def remote_transfer(make_org, make_user, make_routed_case):
    """A 保定 committee's case sent to a 北京 committee that lives on the ``beijing`` hub (pending there)."""
    baoding = make_org(name="竞秀区跨平台测试调解委员会", region_code="130602")
    remote = make_org(name="朝阳区跨平台测试调解委员会", region_code="110105", hub_id="beijing", remote_id=42)
    sender = make_user(organization=baoding)
    case = make_routed_case(baoding, applicant="130602", respondent="110105")
    transfer = transfers.request_transfer(
        sender.to_actor(), case.id, to_organization_id=remote.id, agreement_code="JJJ-MEDIATION"
    )
    return {"transfer": transfer, "case": case, "sender": sender, "remote": remote}


def test_the_routes_name_the_hub_of_a_remote_organisation(signed_in, make_org, make_user, make_routed_case):
    baoding = make_org(name="竞秀区路线测试调解委员会", region_code="130602")
    make_org(name="朝阳区路线测试调解委员会", region_code="110105", hub_id="beijing", remote_id=43)
    case = make_routed_case(baoding, applicant="130602", respondent="110105")
    html = signed_in(make_user(organization=baoding)).get(f"/cases/{case.id}").get_data(as_text=True)
    route = html[html.index("朝阳区路线测试调解委员会") :]
    route = route[: route.index("</li>")]
    assert '<span class="badge hub"><span class="hub-id" translate="no">beijing</span> 平台</span>' in route


def test_a_pending_request_to_another_hub_is_answered_there(signed_in, make_user, remote_transfer):
    transfer = remote_transfer["transfer"]
    for client in (signed_in(remote_transfer["sender"]), signed_in(make_user(role=Role.admin))):
        html = client.get(f"/transfers/{transfer.id}").get_data(as_text=True)
        facts = re.search(r'<section class="card federation-facts".*?</section>', html, re.S).group()
        assert '<dd class="peer-hub"><span class="hub-id" translate="no">beijing</span></dd>' in facts
        assert "接收后移交" in facts and "尚无反馈" in facts
        assert "由对方平台（" in html and "）答复" in html
        assert 'name="accept"' not in html and 'name="decline"' not in html


def test_an_accepted_request_shows_the_handover_and_the_outcome_fed_back(signed_in, remote_transfer):
    transfer, client = remote_transfer["transfer"], signed_in(remote_transfer["sender"])
    accepted = transfers.mirror_answer(
        service.federation_actor("beijing"), transfer, TransferStatus.accepted, date(2026, 12, 3)
    )
    assert accepted

    def facts() -> str:
        html = client.get(f"/transfers/{transfer.id}").get_data(as_text=True)
        section = re.search(r'<section class="card federation-facts".*?</section>', html, re.S).group()
        return " ".join(re.sub(r"<[^>]+>", " ", section).split())

    # the mirrored acceptance queued the file for the other hub: being sent
    assert "正在向对方平台移交案卷" in facts()
    handover = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.type == "case.handover", OutboxMessage.to_hub == "beijing")
    )
    handover.status, handover.attempts = OutboxStatus.undeliverable, 14
    db.session.flush()
    assert "案卷未能送达对方平台" in facts()
    handover.status, handover.delivered_at = OutboxStatus.delivered, at(4, 1, 20)  # 09:20 in Shanghai
    link = db.session.scalar(sa.select(FederatedLink).where(FederatedLink.transfer_id == transfer.id))
    link.outcome = {
        "status": "concluded",
        "outcome": "agreement",
        "concluded_on": "2026-12-06",
        "organization": "朝阳区跨平台测试调解委员会",
    }
    db.session.flush()
    assert facts() == (
        "跨平台办理 对方平台 beijing 案卷移交 已移交（2026-12-04 09:20） "
        "对方反馈的办理结果 已办结：达成协议 · 2026-12-06 办结 · 承办组织：朝阳区跨平台测试调解委员会"
    )


def test_a_request_from_another_hub_shows_when_its_file_arrived(signed_in, make_user, remote_transfer):
    """The receiving hub's side: its link says the file arrived (``handed_over_at``)."""
    link = db.session.scalar(
        sa.select(FederatedLink).where(FederatedLink.transfer_id == remote_transfer["transfer"].id)
    )
    link.handed_over_at = at(5, 6, 45)  # 14:45 in Shanghai
    db.session.flush()
    html = signed_in(make_user(role=Role.admin)).get(f"/transfers/{link.transfer_id}").get_data(as_text=True)
    assert "已移交（2026-12-05 14:45）" in html


def test_a_transfer_within_this_hub_has_no_federation_facts(signed_in, make_org, make_user, make_routed_case):
    baoding = make_org(region_code="130602")
    beijing = make_org(region_code="110105")
    case = make_routed_case(baoding, applicant="130602", respondent="110105")
    sender = make_user(organization=baoding)
    transfer = transfers.request_transfer(
        sender.to_actor(), case.id, to_organization_id=beijing.id, agreement_code="JJJ-MEDIATION"
    )
    html = signed_in(make_user(organization=beijing)).get(f"/transfers/{transfer.id}").get_data(as_text=True)
    assert "federation-facts" not in html and "对方平台" not in html
    assert 'name="accept"' in html


def _application_link(application_id: int, *, outgoing: bool, outcome: dict | None = None) -> FederatedLink:
    link = FederatedLink(
        kind=LinkKind.legal_aid,
        peer_hub="hebei",
        conversation_id=f"legal_aid/hub/{application_id}",
        outgoing=outgoing,
        application_id=application_id,
        remote_id=0 if outgoing else 77,
        outcome=outcome,
    )
    db.session.add(link)
    db.session.flush()
    return link


def _la_facts(client, application_id: int) -> str:
    html = client.get(f"/legal-aid/applications/{application_id}").get_data(as_text=True)
    section = re.search(r'<section class="card la-federation".*?</section>', html, re.S).group()
    return " ".join(re.sub(r"<[^>]+>", " ", section).split())


def test_an_application_forwarded_to_another_hub_shows_the_decision_fed_back(signed_in, make_user, make_application):
    application, _tianjin, _baoding = make_application(ApplicationStatus.transferred)
    link = _application_link(application.id, outgoing=True)
    client = signed_in(make_user(role=Role.admin))
    assert _la_facts(client, application.id) == "跨平台通办 对方平台 hebei 对方反馈的审查决定 尚无反馈"

    link.outcome = {
        "status": "refused",
        "decided_on": "2026-12-02",
        "granted": False,
        "refusal_reason": "不符合经济困难标准",
        "centre": "保定市竞秀区法律援助中心",
    }
    db.session.flush()
    assert _la_facts(client, application.id) == (
        "跨平台通办 对方平台 hebei 对方反馈的审查决定 不予法律援助（2026-12-02）：不符合经济困难标准 · "
        "作出决定的中心：保定市竞秀区法律援助中心"
    )
    link.outcome = {"status": "granted", "decided_on": "2026-12-02", "granted": True, "centre": "保定中心"}
    db.session.flush()
    assert "给予法律援助（2026-12-02） · 作出决定的中心：保定中心" in _la_facts(client, application.id)


def test_an_application_from_another_hub_says_its_decision_goes_back(signed_in, make_user, make_application):
    application, _tianjin, _baoding = make_application(ApplicationStatus.transferred)
    _application_link(application.id, outgoing=False)
    facts = _la_facts(signed_in(make_user(role=Role.admin)), application.id)
    assert facts == "跨平台通办 对方平台 hebei 审查决定 本平台的审查决定会反馈给对方平台"


def test_an_application_that_stayed_on_this_hub_has_no_federation_facts(signed_in, make_user, make_application):
    application, _tianjin, _baoding = make_application(ApplicationStatus.transferred)
    html = signed_in(make_user(role=Role.admin)).get(f"/legal-aid/applications/{application.id}")
    assert "la-federation" not in html.get_data(as_text=True)


def test_the_system_may_manage_federation_as_the_policy_says():
    from mediation_hub.federation.policy import POLICY

    assert POLICY.roles("manage") == {Role.admin} and POLICY.allows(SYSTEM, "manage")


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (None, "—"),
        ("unknown_message_type", "对方不支持该消息类型或版本"),
        ("http_410", "对方拒收（HTTP 410）"),
        ("answer_rejected: HTTP 503：接收方未接受", "HTTP 503：接收方未接受"),
        ("timeout: 超时：10 秒内无应答", "超时：10 秒内无应答"),
        ("connection_failed", "发送失败"),
    ],
)
def test_a_set_aside_messages_error_is_shown_in_words(app, stored, shown):
    from mediation_hub.federation.views import error_label

    with app.test_request_context("/federation"):
        assert error_label(stored) == shown
