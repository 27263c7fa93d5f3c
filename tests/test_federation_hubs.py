"""Three hubs (北京, 天津, 河北) as real servers on 127.0.0.1, each with its own database and keys, joined as peers
through the CLI (bench/federation_hubs.py); on SQLite and on PostgreSQL.

The flows: a transfer 河北→北京 accepted (the file follows, re-encrypted with 北京's keys; the outcome is fed back),
one declined with a reason, one expiring on 北京 with escalation on both sides, joint mediation, a legal-aid
application filed in 天津 handed to 保定's centre on the 河北 hub and decided there. The faults: the receiving hub
stopped while a transfer is sent and restarted (delivered once), a message replayed and out of order (applied once,
in order), a tampered body, a stale timestamp and an unknown peer (401, nothing changed), a sender killed between
its commit and the send (sent after the restart)."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

import pytest

from bench.federation_hubs import signed_post, start_hubs, stop_hubs, wait_until
from mediation_hub.core.shanghai import today_shanghai
from tests.factories import valid_id_number, valid_phone

pytestmark = [pytest.mark.load, pytest.mark.slow]


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def hubs(request, tmp_path_factory):
    if request.param == "postgresql" and not os.environ.get("MEDIATION_HUB_TEST_DATABASE_URL"):
        pytest.skip("MEDIATION_HUB_TEST_DATABASE_URL is not set")
    running, secrets = start_hubs(request.param, tmp_path_factory.mktemp(f"hubs-{request.param}"))
    running["_secrets"] = secrets  # type: ignore[assignment]
    yield running
    running.pop("_secrets")
    stop_hubs(running, request.param)


def _case(hub, *, days_ago: int = 10, party_number: str | None = None, summary: str = "跨省务工人员与房东租赁纠纷"):
    """A case registered and accepted on ``hub`` by its mediator: parties in 保定 and 北京 (cross-region)."""
    received = today_shanghai() - timedelta(days=days_ago)
    body = {
        "organization_id": hub.org_ids["committee"],
        "category": "neighbour",
        "source": "party_application",
        "summary": summary,
        "received_on": received.isoformat(),
        "occurred_region_code": "130602",
        "major": False,
        "parties": [
            {
                "role": "applicant",
                "kind": "person",
                "name": "张建国",
                "region_code": "130602",
                "id_number": party_number or valid_id_number(),
                "phone": valid_phone(),
            },
            {
                "role": "respondent",
                "kind": "person",
                "name": "李春梅",
                "region_code": "110105",
                "id_number": valid_id_number(),
                "phone": valid_phone(),
            },
        ],
    }
    status, case = hub.api("POST", "/api/v1/cases", "mediator", body)
    assert status == 201, case
    status, accepted = hub.api(
        "POST", f"/api/v1/cases/{case['id']}/accept", "mediator", {"accepted_on": received.isoformat()}
    )
    assert status == 200, accepted
    return case


def _send(
    sender, receiver_hub, case_id: int, *, mode: str = "transfer", requested_on: date | None = None, hubs_=None
) -> dict:
    to = sender.remote_org(receiver_hub, "committee", hubs_)
    body = {"case_id": case_id, "to_organization_id": to, "agreement_code": "JJJ-MEDIATION", "mode": mode}
    if requested_on:
        body["requested_on"] = requested_on.isoformat()
    status, transfer = sender.api("POST", "/api/v1/transfers", "mediator", body)
    assert status == 201, transfer
    return transfer


def _incoming(hub, case_number: str) -> dict:
    """The request as the receiving hub shows it, once it arrived."""

    def find():
        status, page = hub.api("GET", "/api/v1/transfers?direction=incoming&per_page=100", "mediator")
        assert status == 200, page
        return next((t for t in page["items"] if t.get("case_number") == case_number), None)

    return wait_until(find, f"{hub.hub_id} shows the request for {case_number}")


def _transfer_status(hub, transfer_id: int) -> str:
    return hub.sql("SELECT status FROM transfers WHERE id = :id", id=transfer_id)[0][0]


def test_transfer_accepted_file_follows_and_outcome_fed_back(hubs):
    hebei, beijing = hubs["hebei"], hubs["beijing"]
    number = valid_id_number()
    case = _case(hebei, party_number=number)
    sent = _send(hebei, "beijing", case["id"], hubs_=hubs)
    assert sent["status"] == "pending"
    offer = _incoming(beijing, case["number"])

    # Before acceptance 北京 sees the minimum view: masked numbers, nothing decryptable of the parties.
    status, view = beijing.api("GET", f"/api/v1/transfers/{offer['id']}", "mediator")
    assert status == 200, view
    assert number not in str(view)
    assert (
        beijing.sql(
            "SELECT count(*) FROM parties p JOIN transfers t ON t.case_id = p.case_id "
            "WHERE t.id = :id AND p.id_number_enc IS NOT NULL",
            id=offer["id"],
        )[0][0]
        == 0
    )

    status, accepted = beijing.api("POST", f"/api/v1/transfers/{offer['id']}/accept", "mediator", {})
    assert status == 200, accepted
    # The sender mirrors the answer the receiving hub owns: the case is handled on 北京 now, read-only here.
    wait_until(lambda: _transfer_status(hebei, sent["id"]) == "accepted", "hebei mirrors the acceptance")
    handler = hebei.sql(
        "SELECT o.hub_id FROM cases c JOIN organizations o ON o.id = c.organization_id WHERE c.id = :id", id=case["id"]
    )[0][0]
    assert handler == "beijing"
    status, read_only = hebei.api("GET", f"/api/v1/cases/{case['id']}", "mediator")
    assert status == 200, read_only

    # The file follows, encrypted with 北京's keys: the number decrypts there to what 河北 registered.
    beijing_case = offer["case_id"]
    wait_until(
        lambda: (
            beijing.sql(
                "SELECT count(*) FROM parties WHERE case_id = :id AND id_number_enc IS NOT NULL", id=beijing_case
            )[0][0]
            == 2
        ),
        "the file arrives on beijing",
    )
    applicant = beijing.sql("SELECT id FROM parties WHERE case_id = :id AND role = 'applicant'", id=beijing_case)[0][0]
    status, revealed = beijing.api("POST", f"/api/v1/cases/{beijing_case}/parties/{applicant}/reveal", "mediator")
    assert status == 200, revealed
    assert revealed["id_number"] == number

    # 北京 concludes; 河北 hears the outcome.
    status, done = beijing.api(
        "POST", f"/api/v1/cases/{beijing_case}/conclude", "mediator", {"outcome": "agreement", "terms": "按期退还押金"}
    )
    assert status == 200, done
    outcome = wait_until(
        lambda: hebei.sql("SELECT outcome FROM federation_links WHERE transfer_id = :id", id=sent["id"])[0][0],
        "hebei hears the outcome",
    )
    assert '"concluded"' in str(outcome) or "concluded" in str(outcome)

    # Each hub counts the case where it was handled: 北京 took it in, 河北 handed it out.
    assert _flow(beijing, "110000", "transferred_in") >= 1
    assert _flow(hebei, "130000", "transferred_out") >= 1


def _flow(hub, region: str, name: str) -> int:
    year = today_shanghai().year
    status, rates = hub.api("GET", f"/api/v1/reports/rates?region={region}&period={year}&basis=handled", "coordinator")
    assert status == 200, rates
    return int(rates["case_flows"][name])


def test_transfer_declined_with_a_reason(hubs):
    hebei, beijing = hubs["hebei"], hubs["beijing"]
    case = _case(hebei, summary="相邻通行纠纷，一方在北京工作")
    sent = _send(hebei, "beijing", case["id"], hubs_=hubs)
    offer = _incoming(beijing, case["number"])
    status, declined = beijing.api(
        "POST", f"/api/v1/transfers/{offer['id']}/decline", "mediator", {"reason_code": "capacity"}
    )
    assert status == 200, declined
    wait_until(lambda: _transfer_status(hebei, sent["id"]) == "declined", "hebei mirrors the decline")
    assert hebei.sql("SELECT reason_code FROM transfers WHERE id = :id", id=sent["id"])[0][0] == "capacity"
    # The case stays with 河北.
    assert (
        hebei.sql(
            "SELECT o.hub_id FROM cases c JOIN organizations o ON o.id = c.organization_id WHERE c.id = :id",
            id=case["id"],
        )[0][0]
        is None
    )


def test_transfer_expiring_on_the_receiving_hub_is_escalated_on_both_sides(hubs):
    hebei, beijing = hubs["hebei"], hubs["beijing"]
    case = _case(hebei, days_ago=60, summary="拖欠装修款纠纷")
    sent = _send(hebei, "beijing", case["id"], requested_on=today_shanghai() - timedelta(days=40), hubs_=hubs)
    offer = _incoming(beijing, case["number"])
    # 北京's scheduler expires it (the receiving hub owns the answer) and 河北 mirrors it.
    wait_until(lambda: _transfer_status(beijing, offer["id"]) == "expired", "beijing expires the request")
    wait_until(lambda: _transfer_status(hebei, sent["id"]) == "expired", "hebei mirrors the expiry")
    for hub, transfer_id in ((beijing, offer["id"]), (hebei, sent["id"])):
        status, page = hub.api("GET", "/api/v1/escalations?per_page=100", "coordinator")
        assert status == 200, page
        assert transfer_id in [t["id"] for t in page["items"]], (hub.hub_id, page)


def test_joint_mediation_across_hubs(hubs):
    hebei, beijing = hubs["hebei"], hubs["beijing"]
    case = _case(hebei, summary="合伙经营纠纷，合伙人分处两地")
    sent = _send(hebei, "beijing", case["id"], mode="joint", hubs_=hubs)
    offer = _incoming(beijing, case["number"])
    status, accepted = beijing.api("POST", f"/api/v1/transfers/{offer['id']}/accept", "mediator", {})
    assert status == 200, accepted
    wait_until(lambda: _transfer_status(hebei, sent["id"]) == "accepted", "hebei mirrors the joint acceptance")
    # 河北 leads; 北京's committee co-mediates on both hubs.
    assert hebei.sql("SELECT count(*) FROM case_co_organizations WHERE case_id = :id", id=case["id"])[0][0] == 1
    assert beijing.sql("SELECT count(*) FROM case_co_organizations WHERE case_id = :id", id=offer["case_id"])[0][0] == 1
    status, done = hebei.api(
        "POST", f"/api/v1/cases/{case['id']}/conclude", "mediator", {"outcome": "agreement", "terms": "共同清算"}
    )
    assert status == 200, done
    wait_until(
        lambda: beijing.sql("SELECT outcome FROM federation_links WHERE transfer_id = :id", id=offer["id"])[0][0],
        "beijing hears the outcome",
    )


def test_legal_aid_filed_in_tianjin_decided_by_baoding_on_the_hebei_hub(hubs):
    tianjin, hebei = hubs["tianjin"], hubs["hebei"]
    number = valid_id_number("130602", date(1988, 6, 1))
    body = {
        "centre_id": tianjin.org_ids["legal_aid"],
        "applicant": {
            "name": "刘桂兰",
            "id_number": number,
            "phone": valid_phone(),
            "region_code": "130602",
            "gender": "female",
            "ethnicity": "汉族",
            "address": "保定市竞秀区",
            "occupation": "务工",
        },
        "matter_category": "labour_remuneration",
        "matter_region_code": "130602",
        "hardship": "declaration",
        "summary": "在天津务工被拖欠工资，用人单位在保定竞秀区",
        "received_on": today_shanghai().isoformat(),
    }
    status, application = tianjin.api("POST", "/api/v1/legal-aid/applications", "officer", body)
    assert status == 201, application
    centre = tianjin.remote_org("hebei", "legal_aid", hubs)
    status, moved = tianjin.api(
        "POST", f"/api/v1/legal-aid/applications/{application['id']}/transfer", "officer", {"to_centre_id": centre}
    )
    assert status == 200, moved
    arrived = wait_until(
        lambda: hebei.sql(
            "SELECT id, status FROM legal_aid_applications WHERE number LIKE :n", n=f"{application['number']}@tianjin"
        ),
        "hebei receives the application",
    )
    remote_id, state = arrived[0]
    assert state == "transferred"
    status, accepted = hebei.api("POST", f"/api/v1/legal-aid/applications/{remote_id}/accept", "officer", {})
    assert status == 200, accepted
    status, decided = hebei.api(
        "POST", f"/api/v1/legal-aid/applications/{remote_id}/decide", "officer", {"granted": True}
    )
    assert status == 200, decided
    outcome = wait_until(
        lambda: tianjin.sql("SELECT outcome FROM federation_links WHERE application_id = :id", id=application["id"])[0][
            0
        ],
        "tianjin hears the decision",
    )
    assert "granted" in str(outcome)


# --- faults ------------------------------------------------------------------------------------------------------


def _inbox_count(hub) -> int:
    return int(hub.sql("SELECT count(*) FROM federation_inbox")[0][0])


def test_receiver_down_while_sending_delivered_once_after_restart(hubs):
    hebei, beijing = hubs["hebei"], hubs["beijing"]
    case = _case(hebei, summary="租赁押金纠纷（接收方停机）")
    beijing.stop()
    try:
        sent = _send(hebei, "beijing", case["id"], hubs_=hubs)
        wait_until(
            lambda: hebei.sql(
                "SELECT attempts FROM federation_outbox WHERE conversation_id = :c AND status = 'pending' "
                "AND attempts >= 2",
                c=f"transfer/hebei/{sent['id']}",
            ),
            "hebei retries while beijing is down",
        )
        time.sleep(3)  # the outage lasts; the tests' schedule retries every second (production: 5 s, 1 min …)
    finally:
        beijing.start()
    _incoming(beijing, case["number"])
    wait_until(
        lambda: (
            hebei.sql(
                "SELECT status FROM federation_outbox WHERE conversation_id = :c", c=f"transfer/hebei/{sent['id']}"
            )[0][0]
            == "delivered"
        ),
        "delivered after the restart",
    )
    assert (
        beijing.sql(
            "SELECT count(*) FROM transfers t JOIN cases c ON c.id = t.case_id WHERE c.number = :n", n=case["number"]
        )[0][0]
        == 1
    )


def _envelope(to: str, conversation: str, sequence: int, type_: str, payload: dict, *, sender: str = "hebei") -> dict:
    import secrets as random

    return {
        "id": "msg_" + random.token_hex(12),
        "type": type_,
        "version": 1,
        "sent_at": "2026-12-07T00:00:00Z",
        "from_hub": sender,
        "to_hub": to,
        "conversation_id": conversation,
        "sequence": sequence,
        "payload": payload,
    }


def _offer_payload(hubs, transfer_id: int, number: str) -> dict:
    hebei, beijing = hubs["hebei"], hubs["beijing"]
    today = today_shanghai()
    return {
        "transfer_id": transfer_id,
        "mode": "transfer",
        "agreement_code": "JJJ-MEDIATION",
        "requested_on": today.isoformat(),
        "respond_by": (today + timedelta(days=10)).isoformat(),
        "note": None,
        "from_organization": {
            "id": hebei.org_ids["committee"],
            "name": "竞秀区先锋街道人民调解委员会",
            "kind": "people_mediation_committee",
            "region_code": "130602",
        },
        "to_organization_id": beijing.org_ids["committee"],
        "case": {
            "id": 900000 + transfer_id,
            "number": number,
            "category_code": "neighbour",
            "source_code": "party_application",
            "summary": "重放测试",
            "received_on": today.isoformat(),
            "accepted_on": today.isoformat(),
            "due_on": (today + timedelta(days=30)).isoformat(),
            "status": "accepted",
            "major": False,
            "occurred_region_code": "130602",
            "parties": [
                {
                    "role": "applicant",
                    "kind": "person",
                    "name": "王五",
                    "id_number_masked": "130602********1234",
                    "phone_masked": "138****0000",
                    "region_code": "130602",
                }
            ],
        },
    }


def test_replayed_and_out_of_order_messages_apply_once_in_order(hubs):
    beijing = hubs["beijing"]
    secret = hubs["_secrets"][("hebei", "beijing")]
    conversation = "transfer/hebei/990001"
    offer = _envelope("beijing", conversation, 1, "transfer.offered", _offer_payload(hubs, 990001, "冀重放测试1号"))
    withdraw = _envelope(
        "beijing",
        conversation,
        2,
        "transfer.answered",
        {"transfer_id": 990001, "outcome": "withdrawn", "answered_on": today_shanghai().isoformat()},
    )
    before = _inbox_count(beijing)
    # The second message first: held until the first arrives.
    assert signed_post(beijing.url, secret, withdraw)[0] == 202
    answers = [signed_post(beijing.url, secret, offer) for _ in range(5)]
    assert [a[1]["status"] for a in answers] == ["applied", "duplicate", "duplicate", "duplicate", "duplicate"]
    assert signed_post(beijing.url, secret, withdraw)[1]["status"] == "duplicate"
    assert _inbox_count(beijing) == before + 2
    # Applied in order: offered, then withdrawn.
    rows = beijing.sql(
        "SELECT t.status FROM transfers t JOIN cases c ON c.id = t.case_id WHERE c.number = :n", n="冀重放测试1号"
    )
    assert [r[0] for r in rows] == ["withdrawn"]


@pytest.mark.parametrize("fault", ["tampered", "stale", "unknown_peer", "wrong_secret", "other_hub"])
def test_forged_messages_are_refused_and_change_nothing(hubs, fault):
    beijing = hubs["beijing"]
    secret = hubs["_secrets"][("hebei", "beijing")]
    number = f"冀伪造{fault}"
    envelope = _envelope(
        "beijing",
        f"transfer/hebei/99{len(fault)}77",
        1,
        "transfer.offered",
        _offer_payload(hubs, 880000 + len(fault), number),
    )
    before = _inbox_count(beijing)
    kwargs = {}
    if fault == "tampered":
        forged = dict(envelope, payload={**envelope["payload"], "agreement_code": "GD-PAIR-GZ"})
        import json

        kwargs["body"] = json.dumps(forged, ensure_ascii=False).encode()
    elif fault == "stale":
        kwargs["timestamp"] = int(time.time()) - 3600
    elif fault == "unknown_peer":
        envelope["from_hub"] = "shanghai"
    elif fault == "wrong_secret":
        from bench.federation_hubs import shared_secret

        secret = shared_secret()
    elif fault == "other_hub":
        envelope["to_hub"] = "tianjin"
    status, body = signed_post(beijing.url, secret, envelope, **kwargs)
    assert status == (403 if fault == "other_hub" else 401), body
    assert body["error"] in {"bad_signature", "unknown_peer", "wrong_hub"}
    assert _inbox_count(beijing) == before
    assert beijing.sql("SELECT count(*) FROM cases WHERE number = :n", n=number)[0][0] == 0


def test_sender_killed_between_commit_and_send_sends_after_restart(hubs):
    hebei, beijing = hubs["hebei"], hubs["beijing"]
    case = _case(hebei, summary="宅基地边界纠纷（发送方中断）")
    # The sender commits without sending (no wake after the commit, no sweep): then it is killed.
    hebei.stop()
    hebei.start(MEDIATION_HUB_FEDERATION_SEND_AT_ONCE="false", MEDIATION_HUB_JOBS_DISABLED="federation.deliver")
    sent = _send(hebei, "beijing", case["id"], hubs_=hubs)
    conversation = f"transfer/hebei/{sent['id']}"
    assert (
        hebei.sql("SELECT status FROM federation_outbox WHERE conversation_id = :c", c=conversation)[0][0] == "pending"
    )
    hebei.kill()
    assert beijing.sql("SELECT count(*) FROM cases WHERE number = :n", n=case["number"])[0][0] == 0
    hebei.start()
    _incoming(beijing, case["number"])
    wait_until(
        lambda: (
            hebei.sql("SELECT status FROM federation_outbox WHERE conversation_id = :c", c=conversation)[0][0]
            == "delivered"
        ),
        "sent after the restart",
    )
