"""Federation in one process, fast: the Standard Webhooks signatures, the inbox (refusals, the directory, order and
duplicates), the outbox (numbering, schedule, claims, sending with a fake client), the unreachable-peer notice and
the status counts. tests/test_federation_hubs.py runs three real hubs; nothing here starts a server or sleeps.

This hub is ``hebei``; its peer is ``beijing`` (and ``tianjin`` where two are needed). ``delivery.send_one`` commits
(``core.uow.commit_batch``): under the per-test transaction (``join_transaction_mode="create_savepoint"``) a commit
only releases a SAVEPOINT, so it runs as written and everything is still rolled back at the end; the relay thread a
commit would wake is switched off (``FEDERATION_SEND_AT_ONCE``)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from integrations.governance_reports import DeliveryError, DeliveryResult
from integrations.webhook_signing import sign, signature_header, verify, verify_any
from mediation_hub.core.actor import Role
from mediation_hub.errors import NotFound, StateConflict, ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.federation import delivery, service
from mediation_hub.federation.models import (
    Conversation,
    InboxMessage,
    InboxStatus,
    OutboxMessage,
    OutboxStatus,
    Peer,
)
from mediation_hub.federation.service import FederationRefusal
from mediation_hub.federation.tasks import report_unreachable_peers
from mediation_hub.notifications.models import Notification
from mediation_hub.registry.models import Organization, OrgKind

# Secrets in the whsec_ format: the base64 of 24 known bytes each.
SECRET_A = "whsec_" + base64.b64encode(b"A" * 24).decode()
SECRET_B = "whsec_" + base64.b64encode(b"B" * 24).decode()
SECRET_WRONG = "whsec_" + base64.b64encode(b"W" * 24).decode()
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
DIRECTORY = "directory/beijing"


@pytest.fixture(autouse=True)
def hebei(app, monkeypatch):
    """This hub is ``hebei`` with the shipped schedule; no sender thread is woken by a commit."""
    monkeypatch.setitem(app.config, "HUB_ID", "hebei")
    monkeypatch.setitem(app.config, "FEDERATION_SEND_AT_ONCE", False)
    monkeypatch.setitem(app.config, "FEDERATION_TOLERANCE_SECONDS", 300)
    monkeypatch.setitem(app.config, "FEDERATION_BACKOFF_SECONDS", (5, 60, 600, 3600, 21600))
    monkeypatch.setitem(app.config, "FEDERATION_GIVE_UP_HOURS", 72)
    monkeypatch.setitem(app.config, "FEDERATION_UNREACHABLE_MINUTES", 60)


@pytest.fixture
def beijing():
    return service.add_peer("beijing", "http://127.0.0.1:9/", SECRET_A)


def envelope(
    message_id: str = "msg_bj00000001",
    *,
    sequence: int = 1,
    type_: str = "directory.snapshot",
    version: int = 1,
    conversation_id: str = DIRECTORY,
    payload: dict | None = None,
    from_hub: str = "beijing",
    to_hub: str = "hebei",
) -> dict:
    return {
        "id": message_id,
        "type": type_,
        "version": version,
        "sent_at": "2026-03-02T08:00:00Z",
        "from_hub": from_hub,
        "to_hub": to_hub,
        "conversation_id": conversation_id,
        "sequence": sequence,
        "payload": {"organizations": []} if payload is None else payload,
    }


def signed(env: dict, secret: str = SECRET_A, at: datetime = NOW, webhook_id: str | None = None):
    """The body and the Standard Webhooks headers a peer sends with it."""
    body = json.dumps(env, ensure_ascii=False).encode()
    message_id = webhook_id or env["id"]
    timestamp = int(at.timestamp())
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
    return body, headers


def receive(env: dict, secret: str = SECRET_A, at: datetime = NOW, webhook_id: str | None = None):
    body, headers = signed(env, secret, at, webhook_id)
    return service.receive(body, headers, now=at)


def org(remote_id: int, name: str, kind: str = "people_mediation_committee", region: str = "110105") -> dict:
    return {"id": remote_id, "name": name, "kind": kind, "region_code": region, "specialties": [], "agreements": []}


def snapshot(*orgs: dict) -> dict:
    return {"organizations": list(orgs)}


def remote_orgs(hub: str = "beijing") -> dict[int, Organization]:
    rows = db.session.scalars(sa.select(Organization).where(Organization.hub_id == hub)).all()
    return {row.remote_id: row for row in rows if row.remote_id is not None}


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# --- signing -----------------------------------------------------------------------------------------------------


def test_sign_reproduces_the_standard_webhooks_test_vector():
    # The vector published with the Standard Webhooks reference libraries: a receiver's library verifies ours.
    body = b'{"test": 2432232314}'
    signature = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(secrets: list[str], timestamp: int = 1_772_438_400, message_id: str = "msg_rotation01", body=b"{}"):
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, message_id, timestamp, body),
    }


def test_verify_any_accepts_either_secret_of_a_rotation_and_refuses_a_wrong_one():
    at = 1_772_438_400  # 2026-03-02 08:00:00 UTC
    in_use = [SECRET_B, SECRET_A]  # the new one, and the previous one still valid
    assert verify_any(in_use, _headers([SECRET_A]), b"{}", now=at)
    assert verify_any(in_use, _headers([SECRET_B]), b"{}", now=at)
    assert verify_any([SECRET_A], _headers([SECRET_B, SECRET_A]), b"{}", now=at)  # a sender signing with both
    assert not verify_any(in_use, _headers([SECRET_WRONG]), b"{}", now=at)
    assert not verify_any([SECRET_B], _headers([SECRET_A]), b"{}", now=at)  # the rotation is over
    assert not verify_any(in_use, _headers([SECRET_A]), b'{"x":1}', now=at)  # a body changed after signing


def test_verify_refuses_a_timestamp_outside_the_tolerance_either_way():
    at = 1_772_438_400
    headers = _headers([SECRET_A], timestamp=at)
    assert verify(SECRET_A, headers, b"{}", tolerance=300, now=at + 300)  # 300 s old: the limit itself passes
    assert not verify(SECRET_A, headers, b"{}", tolerance=300, now=at + 301)  # 301 s old: stale
    assert verify(SECRET_A, headers, b"{}", tolerance=300, now=at - 300)
    assert not verify(SECRET_A, headers, b"{}", tolerance=300, now=at - 301)  # 301 s in the future
    assert not verify_any([SECRET_A, SECRET_B], headers, b"{}", tolerance=60, now=at + 61)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_verify_refuses_a_message_without_one_of_the_three_headers(missing):
    at = 1_772_438_400
    headers = _headers([SECRET_A], timestamp=at)
    assert verify_any([SECRET_A], headers, b"{}", now=at)
    del headers[missing]
    assert not verify_any([SECRET_A], headers, b"{}", now=at)


def test_verify_refuses_a_timestamp_that_is_not_a_number():
    headers = {**_headers([SECRET_A]), "webhook-timestamp": "yesterday"}
    assert not verify(SECRET_A, headers, b"{}", now=1_772_438_400)


def test_rotate_secret_keeps_the_previous_one_valid_for_24_hours_then_only_the_new_one(beijing):
    with time_machine.travel(NOW, tick=False) as clock:
        peer = service.rotate_secret("beijing", SECRET_B)
        assert peer.previous_valid_until == NOW + timedelta(hours=24)  # 2026-03-03 08:00 UTC
        assert service.secrets_in_use(peer) == [SECRET_B, SECRET_A]  # signed with both, the new one first

        almost = NOW + timedelta(hours=23, minutes=59, seconds=59)
        clock.move_to(almost)
        old = envelope("msg_bjrotate01", payload=snapshot(org(11, "朝阳区劳动争议人民调解委员会")))
        body, headers = signed(old, SECRET_A, at=almost)
        assert service.receive(body, headers).status == "applied"  # the previous secret, one second before

        clock.move_to(NOW + timedelta(hours=24))  # previous_valid_until itself: no longer valid
        assert service.secrets_in_use(peer) == [SECRET_B]
        late = envelope("msg_bjrotate02", sequence=2, payload=snapshot(org(11, "朝阳区劳动争议人民调解委员会")))
        body, headers = signed(late, SECRET_A, at=NOW + timedelta(hours=24))
        with pytest.raises(FederationRefusal) as refused:
            service.receive(body, headers)
        assert (refused.value.status, refused.value.code) == (401, "bad_signature")
        body, headers = signed(late, SECRET_B, at=NOW + timedelta(hours=24))
        assert service.receive(body, headers).status == "applied"


def test_rotate_secret_refuses_a_malformed_secret_and_keeps_the_current_one(beijing):
    with pytest.raises(ValidationFailed) as refused:
        service.rotate_secret("beijing", "whsec_short")
    assert set(refused.value.errors) == {"secret"}
    assert service.secrets_in_use(beijing, NOW) == [SECRET_A]
    with pytest.raises(NotFound):
        service.rotate_secret("shanghai", SECRET_B)


def test_add_peer_names_each_bad_field_and_refuses_a_second_add(beijing):
    with pytest.raises(ValidationFailed) as refused:
        service.add_peer("Tian Jin", "ftp://127.0.0.1", "not-a-secret")
    assert set(refused.value.errors) == {"hub_id", "url", "secret"}
    with pytest.raises(ValidationFailed) as refused:
        service.add_peer("hebei", "http://127.0.0.1:8", SECRET_B)  # this hub itself
    assert set(refused.value.errors) == {"hub_id"}
    with pytest.raises(StateConflict):
        service.add_peer("beijing", "http://127.0.0.1:8", SECRET_B)
    assert beijing.url == "http://127.0.0.1:9"  # the trailing slash dropped


# --- the inbox, called directly -------------------------------------------------------------------------------------


def _refusal(env: dict, **kwargs) -> FederationRefusal:
    with pytest.raises(FederationRefusal) as refused:
        receive(env, **kwargs)
    return refused.value


def test_a_message_from_an_unknown_peer_is_401_unknown_peer(beijing):
    refusal = _refusal(envelope(from_hub="shanghai"))
    assert (refusal.status, refusal.code) == (401, "unknown_peer")


def test_a_message_addressed_to_another_hub_is_403_wrong_hub(beijing):
    refusal = _refusal(envelope(to_hub="tianjin"))
    assert (refusal.status, refusal.code) == (403, "wrong_hub")


def test_a_webhook_id_other_than_the_envelope_id_is_401(beijing):
    # Validly signed, but for another id: a replay of a body under a new id would slip past the dedupe otherwise.
    refusal = _refusal(envelope("msg_bj00000001"), webhook_id="msg_bj00000999")
    assert (refusal.status, refusal.code) == (401, "bad_signature")


def test_a_wrong_secret_or_a_stale_timestamp_is_401_and_nothing_is_stored(beijing):
    refusal = _refusal(envelope(payload=snapshot(org(11, "朝阳区调解委员会"))), secret=SECRET_WRONG)
    assert (refusal.status, refusal.code) == (401, "bad_signature")
    body, headers = signed(envelope(payload=snapshot(org(11, "朝阳区调解委员会"))), at=NOW - timedelta(seconds=301))
    with pytest.raises(FederationRefusal) as stale:
        service.receive(body, headers, now=NOW)
    assert (stale.value.status, stale.value.code) == (401, "bad_signature")
    assert (count(InboxMessage), remote_orgs()) == (0, {})


def test_a_body_that_is_not_an_envelope_is_401(beijing):
    with pytest.raises(FederationRefusal) as refused:
        service.receive(b"[1, 2]", {"webhook-id": "x"}, now=NOW)
    assert (refused.value.status, refused.value.code) == (401, "not_signed_envelope")


@pytest.mark.parametrize(("type_", "version"), [("case.reopened", 1), ("directory.snapshot", 2)])
def test_an_unknown_type_or_version_is_422_and_nothing_is_stored(beijing, type_, version):
    refusal = _refusal(envelope(type_=type_, version=version, payload=snapshot(org(11, "朝阳区调解委员会"))))
    assert (refusal.status, refusal.code) == (422, "unknown_message_type")
    assert refusal.errors == {"type": [f"{type_} v{version}"]}
    assert (count(InboxMessage), count(Conversation), remote_orgs()) == (0, 0, {})


def test_a_payload_that_does_not_match_its_schema_is_422_naming_the_fields(beijing):
    bad = {"organizations": [{"id": "eleven", "name": "", "kind": "people_mediation_committee", "region_code": "1"}]}
    refusal = _refusal(envelope(payload=bad))
    assert (refusal.status, refusal.code) == (422, "bad_payload")
    assert set(refusal.errors) == {"organizations"}
    assert set(refusal.errors["organizations"][0]) == {"id", "name", "region_code"}
    refusal = _refusal(envelope(payload={}))
    assert set(refusal.errors) == {"organizations"}  # required
    assert count(InboxMessage) == 0


def test_an_envelope_missing_its_sequence_is_422_bad_envelope(beijing):
    env = envelope()
    del env["sequence"]
    refusal = _refusal(env)
    assert (refusal.status, refusal.code) == (422, "bad_envelope")
    assert set(refusal.errors) == {"sequence"}


def test_a_directory_snapshot_creates_remote_organisations_then_a_later_one_retires_the_missing(beijing, make_org):
    local = make_org(name="东城区人民调解委员会", region_code="110101")
    first = snapshot(
        org(11, "朝阳区劳动争议人民调解委员会"),
        org(12, "北京市法律援助中心", kind="legal_aid_centre", region="110000"),
        org(13, "东城区人民调解委员会", region="110101"),  # the name and place of a local organisation
    )
    assert receive(envelope("msg_bjdir00001", payload=first)).status == "applied"
    remote = remote_orgs()
    assert sorted(remote) == [11, 12, 13]
    assert (remote[11].name, remote[11].kind, remote[11].region_code, remote[11].active) == (
        "朝阳区劳动争议人民调解委员会",
        OrgKind.people_mediation_committee,
        "110105",
        True,
    )
    assert remote[12].kind == OrgKind.legal_aid_centre
    assert remote[13].name == "东城区人民调解委员会（beijing）"
    assert local.name == "东城区人民调解委员会" and local.hub_id is None
    inbox = db.session.get_one(InboxMessage, "msg_bjdir00001")
    assert (inbox.status, inbox.applied_at) == (InboxStatus.applied, NOW)
    assert db.session.get_one(Peer, "beijing").last_contact_at == NOW

    second = snapshot(org(11, "朝阳区劳动争议人民调解委员会"), org(13, "东城区人民调解委员会", region="110101"))
    assert receive(envelope("msg_bjdir00002", sequence=2, payload=second)).status == "applied"
    remote = remote_orgs()
    db.session.refresh(remote[12])
    assert {rid: row.active for rid, row in remote.items()} == {11: True, 12: False, 13: True}
    assert remote[13].name == "东城区人民调解委员会（beijing）"  # still beside the local one
    conversation = db.session.get_one(Conversation, ("beijing", DIRECTORY))
    assert conversation.applied_through == 2


def test_a_snapshot_naming_an_unknown_region_cannot_apply(beijing):
    refusal = _refusal(envelope(payload=snapshot(org(11, "某调解委员会", region="999999"))))
    assert (refusal.status, refusal.code) == (422, "cannot_apply")
    assert set(refusal.errors) == {"region_code"}


def test_a_duplicate_by_id_or_by_sequence_is_applied_zero_more_times(beijing):
    assert receive(envelope("msg_bjdup00001", payload=snapshot(org(11, "朝阳区调解委员会")))).status == "applied"
    # The same message again (a retry after a lost answer): the same id.
    again = envelope("msg_bjdup00001", payload=snapshot(org(11, "朝阳区调解委员会改名")))
    assert receive(again).status == "duplicate"
    # A replay of place 1 of the conversation under a new id.
    replay = envelope("msg_bjdup00002", payload=snapshot(org(11, "朝阳区调解委员会再改名")))
    assert receive(replay).status == "duplicate"
    assert remote_orgs()[11].name == "朝阳区调解委员会"
    assert count(InboxMessage) == 1
    assert db.session.get_one(Conversation, ("beijing", DIRECTORY)).applied_through == 1


def test_a_second_id_for_a_held_place_is_a_duplicate(beijing):
    assert receive(envelope("msg_bjheld0003", sequence=3)).status == "held"
    assert receive(envelope("msg_bjheld0033", sequence=3)).status == "duplicate"  # the place is taken
    assert [m.id for m in db.session.scalars(sa.select(InboxMessage))] == ["msg_bjheld0003"]


def test_sequence_two_before_one_is_held_then_both_apply_in_order(beijing):
    two = envelope("msg_bjorder002", sequence=2, payload=snapshot(org(11, "朝阳区调解委员会（新名）")))
    one = envelope("msg_bjorder001", sequence=1, payload=snapshot(org(11, "朝阳区调解委员会")))
    assert receive(two).status == "held"
    held = db.session.get_one(InboxMessage, "msg_bjorder002")
    assert (held.status, held.applied_at) == (InboxStatus.held, None)
    assert db.session.get_one(Conversation, ("beijing", DIRECTORY)).applied_through == 0
    assert remote_orgs() == {}  # nothing of it applied yet

    assert receive(one).status == "applied"
    conversation = db.session.get_one(Conversation, ("beijing", DIRECTORY))
    assert conversation.applied_through == 2
    statuses = {m.id: m.status for m in db.session.scalars(sa.select(InboxMessage))}
    assert statuses == {"msg_bjorder001": InboxStatus.applied, "msg_bjorder002": InboxStatus.applied}
    assert remote_orgs()[11].name == "朝阳区调解委员会（新名）"  # 1 then 2: the later snapshot stands


def test_a_duplicate_still_counts_as_contact_and_clears_failing_since(beijing):
    beijing.failing_since = NOW - timedelta(hours=2)
    receive(envelope("msg_bjcontact1"))
    assert receive(envelope("msg_bjcontact1")).status == "duplicate"
    assert (beijing.last_contact_at, beijing.failing_since) == (NOW, None)


# --- the inbox over HTTP ------------------------------------------------------------------------------------------


def test_inbox_over_http_unsigned_is_401_signed_is_200_applied(client, beijing):
    db.session.commit()  # the peer outlives the refused request's rollback (a savepoint of the test's transaction)
    body, headers = signed(envelope("msg_bjhttp0001", payload=snapshot(org(11, "朝阳区调解委员会"))))
    with time_machine.travel(NOW, tick=False):
        response = client.post("/api/v1/federation/inbox", data=body, content_type="application/json")
        assert response.status_code == 401
        assert response.get_json()["error"] == "bad_signature"
        assert count(InboxMessage) == 0

        response = client.post("/api/v1/federation/inbox", data=body, content_type="application/json", headers=headers)
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {"id": "msg_bjhttp0001", "status": "applied"}
        assert remote_orgs()[11].name == "朝阳区调解委员会"

        # The same message again: 200 duplicate; one of place 3: 202 held.
        response = client.post("/api/v1/federation/inbox", data=body, content_type="application/json", headers=headers)
        assert (response.status_code, response.get_json()["status"]) == (200, "duplicate")
        held = envelope("msg_bjhttp0003", sequence=3)
        body3, headers3 = signed(held)
        response = client.post(
            "/api/v1/federation/inbox", data=body3, content_type="application/json", headers=headers3
        )
        assert (response.status_code, response.get_json()["status"]) == (202, "held")


def test_inbox_over_http_from_an_unknown_peer_is_401_json(client):
    body, headers = signed(envelope(from_hub="shanghai"))
    with time_machine.travel(NOW, tick=False):
        response = client.post("/api/v1/federation/inbox", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unknown_peer"


def test_inbox_over_http_a_message_that_cannot_apply_is_422_and_leaves_nothing(client, beijing):
    db.session.commit()
    body, headers = signed(envelope("msg_bjhttp0422", payload=snapshot(org(11, "某调解委员会", region="999999"))))
    with time_machine.travel(NOW, tick=False):
        response = client.post("/api/v1/federation/inbox", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["error"] == "cannot_apply"
    assert "region_code" in answer["errors"]["json"]
    assert (count(InboxMessage), count(Conversation), remote_orgs()) == (0, 0, {})


def test_federation_types_lists_the_seven_types(client):
    response = client.get("/api/v1/federation/types")
    assert response.status_code == 200
    assert response.get_json() == [
        {"type": "case.handover", "version": 1, "schema": "FederationCaseHandoverV1"},
        {"type": "case.outcome", "version": 1, "schema": "FederationCaseOutcomeV1"},
        {"type": "directory.snapshot", "version": 1, "schema": "FederationDirectorySnapshotV1"},
        {"type": "legal_aid.decided", "version": 1, "schema": "FederationLegalAidDecidedV1"},
        {"type": "legal_aid.forwarded", "version": 1, "schema": "FederationLegalAidForwardedV1"},
        {"type": "transfer.answered", "version": 1, "schema": "FederationTransferAnsweredV1"},
        {"type": "transfer.offered", "version": 1, "schema": "FederationTransferOfferedV1"},
    ]


def test_the_openapi_document_publishes_the_envelope_and_every_payload_schema(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name in (
        "FederationEnvelope",
        "FederationDirectorySnapshotV1",
        "FederationTransferOfferedV1",
        "FederationTransferAnsweredV1",
        "FederationCaseHandoverV1",
        "FederationCaseOutcomeV1",
        "FederationLegalAidForwardedV1",
        "FederationLegalAidDecidedV1",
    ):
        assert name in schemas, name
    assert set(schemas["FederationEnvelope"]["required"]) == {
        "id",
        "type",
        "version",
        "sent_at",
        "from_hub",
        "to_hub",
        "conversation_id",
        "sequence",
        "payload",
    }
    inbox = spec["paths"]["/api/v1/federation/inbox"]["post"]
    assert inbox["security"] == []  # signed, no bearer token
    assert {p["name"] for p in inbox["parameters"] if p["in"] == "header"} == {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
    assert inbox["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FederationEnvelope"
    }


# --- the outbox ---------------------------------------------------------------------------------------------------

OUTCOME = {
    "transfer_id": 7,
    "status": "concluded",
    "outcome": "agreement",
    "concluded_on": date(2026, 2, 27),
    "organization": "容城县人民调解委员会",
}


def queue(to_hub: str = "beijing", conversation: str = "transfer/hebei/7") -> OutboxMessage:
    return service.queue_message(to_hub, "case.outcome", conversation, OUTCOME)


def test_queue_message_numbers_messages_per_peer_and_conversation(beijing):
    service.add_peer("tianjin", "http://127.0.0.1:10", SECRET_B)
    with time_machine.travel(NOW, tick=False):
        first, second, third = queue(), queue(), queue()
        other_conversation = queue(conversation="transfer/hebei/8")
        other_peer = queue(to_hub="tianjin")
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert (other_conversation.sequence, other_peer.sequence) == (1, 1)
    assert first.envelope == {
        "id": first.id,
        "type": "case.outcome",
        "version": 1,
        "sent_at": "2026-03-02T08:00:00Z",
        "from_hub": "hebei",
        "to_hub": "beijing",
        "conversation_id": "transfer/hebei/7",
        "sequence": 1,
        "payload": {**OUTCOME, "concluded_on": "2026-02-27"},
    }
    assert first.id.startswith("msg_") and len(first.id) == 28  # msg_ + 24 hex digits
    assert len({first.id, second.id, third.id}) == 3
    assert (first.status, first.attempts, first.created_at, first.next_attempt_at) == (
        OutboxStatus.pending,
        0,
        NOW,
        NOW,
    )


def test_queue_message_refuses_a_payload_that_does_not_match_its_schema(beijing):
    with pytest.raises(ValueError, match="status"):
        service.queue_message("beijing", "case.outcome", "transfer/hebei/7", {"transfer_id": 7})
    with pytest.raises(ValueError, match="outcome"):
        service.queue_message(
            "beijing",
            "transfer.answered",
            "transfer/hebei/7",
            {"transfer_id": 7, "outcome": "maybe", "answered_on": date(2026, 3, 2)},
        )
    assert count(OutboxMessage) == 0


def _at_attempt(attempts: int, created_at: datetime = NOW) -> OutboxMessage:
    return OutboxMessage(attempts=attempts, created_at=created_at)


def test_next_attempt_follows_the_schedule_then_repeats_its_last_wait():
    waits = {1: 5, 2: 60, 3: 600, 4: 3600, 5: 21600, 6: 21600, 9: 21600}
    for attempts, seconds in waits.items():
        assert delivery.next_attempt(_at_attempt(attempts), NOW) == NOW + timedelta(seconds=seconds), attempts


def test_next_attempt_gives_up_once_the_next_try_would_pass_72_hours():
    # Written at NOW; give-up at NOW + 72 h. After a 6th failure the wait is 6 h (21600 s).
    last_allowed = NOW + timedelta(hours=66)  # 66 h + 6 h = exactly 72 h: still tried
    assert delivery.next_attempt(_at_attempt(6), last_allowed) == NOW + timedelta(hours=72)
    assert delivery.next_attempt(_at_attempt(6), last_allowed + timedelta(seconds=1)) is None
    # After a 1st failure the wait is 5 s: at 72 h - 5 s it is tried at 72 h, at 72 h - 4 s never.
    assert delivery.next_attempt(_at_attempt(1), NOW + timedelta(hours=72, seconds=-5)) == NOW + timedelta(hours=72)
    assert delivery.next_attempt(_at_attempt(1), NOW + timedelta(hours=72, seconds=-4)) is None


def test_a_claim_is_taken_once_and_again_only_after_it_lapsed(beijing):
    with time_machine.travel(NOW, tick=False):
        message = queue()
    assert delivery.claim(message.id, NOW) is True
    assert delivery.claim(message.id, NOW) is False  # a second sender at the same moment
    assert delivery.claim(message.id, NOW + timedelta(seconds=60)) is False  # claimed_until == now: still held
    assert delivery.claim(message.id, NOW + timedelta(seconds=61)) is True  # lapsed (claimed_until < now)
    db.session.expire(message)
    assert message.claimed_until == NOW + timedelta(seconds=61 + 60)


def test_a_message_that_is_not_pending_cannot_be_claimed(beijing):
    with time_machine.travel(NOW, tick=False):
        message = queue()
    message.status = OutboxStatus.delivered
    db.session.flush()
    assert delivery.claim(message.id, NOW) is False


class FakeClient:
    """Stands in for the signed-POST client: records each call; raises ``error`` when one is set."""

    def __init__(self):
        self.error: DeliveryError | None = None
        self.calls: list[tuple[str, list[str], str, dict]] = []

    def send(self, url, secret, message_id, body):
        self.calls.append((url, list(secret), message_id, json.loads(body)))
        if self.error is not None:
            raise self.error
        return DeliveryResult(status_code=200, duration_ms=1)


@pytest.fixture
def fake_client(monkeypatch):
    fake = FakeClient()
    monkeypatch.setattr(delivery, "_client", lambda peer: fake)
    return fake


def _queued(clock_at: datetime = NOW) -> OutboxMessage:
    with time_machine.travel(clock_at, tick=False):
        message = queue()
    db.session.commit()  # as after the change that wrote it (a savepoint released; the test still rolls back)
    return message


def test_send_one_delivered_records_the_contact(beijing, fake_client):
    message = _queued()
    with time_machine.travel(NOW + timedelta(seconds=2), tick=False):
        assert delivery.send_one(message.id) == "delivered"
    url, secrets, message_id, body = fake_client.calls[0]
    assert (url, secrets, message_id) == ("http://127.0.0.1:9/api/v1/federation/inbox", [SECRET_A], message.id)
    assert body == message.envelope
    at = NOW + timedelta(seconds=2)
    assert (message.status, message.attempts, message.delivered_at, message.last_error, message.claimed_until) == (
        OutboxStatus.delivered,
        1,
        at,
        None,
        None,
    )
    peer = db.session.get_one(Peer, "beijing")
    assert (peer.last_contact_at, peer.failing_since) == (at, None)
    with time_machine.travel(NOW + timedelta(seconds=3), tick=False):
        assert delivery.send_one(message.id) is None  # delivered: nothing to claim


def test_send_one_signs_with_both_secrets_during_a_rotation(beijing, fake_client):
    message = _queued()
    with time_machine.travel(NOW, tick=False):
        service.rotate_secret("beijing", SECRET_B)
        db.session.commit()
        assert delivery.send_one(message.id) == "delivered"
    assert fake_client.calls[0][1] == [SECRET_B, SECRET_A]


@pytest.mark.parametrize(
    ("status_code", "answer", "recorded"),
    [
        (422, b'{"code": 422, "error": "unknown_message_type"}', "unknown_message_type"),
        (422, b'{"error": "cannot_apply", "message": "..."}', "cannot_apply"),
        (422, b"<html>not json</html>", "http_422"),
        (400, b'{"error": "Not A Code!"}', "http_400"),
    ],
)
def test_send_one_a_lasting_refusal_is_recorded_with_the_peers_code(
    beijing, fake_client, status_code, answer, recorded
):
    message = _queued()
    fake_client.error = DeliveryError(
        f"HTTP {status_code}：接收方未接受", status_code=status_code, code="answer_rejected", answer=answer
    )
    with time_machine.travel(NOW, tick=False):
        assert delivery.send_one(message.id) == "refused"
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.refused, 1, recorded)
    assert message.next_attempt_at == NOW  # never tried again by itself
    assert delivery.due_ids(NOW + timedelta(days=1)) == []


@pytest.mark.parametrize(
    "error",
    [
        DeliveryError("HTTP 503：接收方未接受", status_code=503, code="answer_rejected", answer=b"busy"),
        DeliveryError("HTTP 401：接收方未接受", status_code=401, code="answer_rejected", answer=b'{"error": "x"}'),
        DeliveryError("连接失败", code="connection_failed"),
    ],
    ids=["503", "401-secrets-out-of-step", "connection"],
)
def test_send_one_a_passing_failure_is_retried_after_5_seconds(beijing, fake_client, error):
    message = _queued()
    fake_client.error = error
    with time_machine.travel(NOW, tick=False):
        assert delivery.send_one(message.id) == "pending"
    assert (message.status, message.attempts, message.claimed_until) == (OutboxStatus.pending, 1, None)
    assert message.next_attempt_at == NOW + timedelta(seconds=5)
    assert message.last_error == f"{error.code}: {error}"
    assert db.session.get_one(Peer, "beijing").failing_since == NOW
    assert delivery.due_ids(NOW + timedelta(seconds=4)) == []
    assert delivery.due_ids(NOW + timedelta(seconds=5)) == [message.id]


def test_send_one_retries_over_the_whole_schedule_then_sets_the_message_aside(beijing, fake_client):
    # Attempts at 0, 5, 65, 665, 4265, 25865 s, then every 21600 s: the 16th at 241865 s (67 h 11 min 5 s) fails
    # and its next try, 263465 s, would pass 72 h (259200 s): undeliverable after 16 attempts.
    message = _queued()
    fake_client.error = DeliveryError("连接失败", code="connection_failed")
    tried_at: list[int] = []
    with time_machine.travel(NOW, tick=False) as clock:
        while True:
            moment = message.next_attempt_at
            clock.move_to(moment)
            tried_at.append(int((moment - NOW).total_seconds()))
            status = delivery.send_one(message.id)
            if status != "pending":
                break
    assert tried_at == [0, 5, 65, 665, 4265, *(25865 + 21600 * k for k in range(11))]
    assert tried_at[-1] == 241865
    assert (status, message.status, message.attempts) == ("undeliverable", OutboxStatus.undeliverable, 16)
    assert message.last_attempt_at == NOW + timedelta(seconds=241865)
    assert db.session.get_one(Peer, "beijing").failing_since == NOW  # the first failure of the outage
    assert delivery.due_ids(NOW + timedelta(days=10)) == []


def test_send_one_a_first_failure_past_the_give_up_time_is_undeliverable_at_once(beijing, fake_client):
    fake_client.error = DeliveryError("连接失败", code="connection_failed")
    kept, dropped = _queued(), _queued()  # sequences 1 and 2 of one conversation: send the second one by id
    with time_machine.travel(NOW + timedelta(hours=72, seconds=-5), tick=False):
        assert delivery.send_one(kept.id) == "pending"  # tried again at 72 h exactly
    assert kept.next_attempt_at == NOW + timedelta(hours=72)
    with time_machine.travel(NOW + timedelta(hours=72, seconds=-4), tick=False):
        assert delivery.send_one(dropped.id) == "undeliverable"


def test_send_one_loses_to_a_sender_holding_the_claim(beijing, fake_client):
    message = _queued()
    assert delivery.claim(message.id, NOW) is True
    db.session.commit()
    assert delivery.send_one(message.id, NOW + timedelta(seconds=30)) is None
    assert fake_client.calls == []
    assert delivery.send_one(message.id, NOW + timedelta(seconds=61)) == "delivered"


def test_due_ids_never_offers_message_2_while_message_1_is_pending(beijing, fake_client):
    with time_machine.travel(NOW, tick=False):
        one, two = queue(), queue()
        other = queue(conversation="transfer/hebei/8")
        later = queue(conversation="transfer/hebei/9")
    later.next_attempt_at = NOW + timedelta(minutes=5)
    db.session.commit()
    assert set(delivery.due_ids(NOW)) == {one.id, other.id}
    assert delivery.due_ids(NOW, to_hub="tianjin") == []

    fake_client.error = DeliveryError("连接失败", code="connection_failed")
    with time_machine.travel(NOW, tick=False):
        assert delivery.send_one(one.id) == "pending"  # due again at +5 s
    assert set(delivery.due_ids(NOW + timedelta(seconds=1))) == {other.id}  # 2 still waits behind 1
    assert set(delivery.due_ids(NOW + timedelta(seconds=5))) == {one.id, other.id}

    fake_client.error = None
    with time_machine.travel(NOW + timedelta(seconds=5), tick=False):
        assert delivery.send_one(one.id) == "delivered"
    assert set(delivery.due_ids(NOW + timedelta(seconds=5))) == {two.id, other.id}
    assert set(delivery.due_ids(NOW + timedelta(minutes=5))) == {two.id, other.id, later.id}


def test_deliver_due_sends_a_conversation_in_order(beijing, fake_client):
    with time_machine.travel(NOW, tick=False):
        queue(), queue(), queue()
    db.session.commit()
    with time_machine.travel(NOW, tick=False):
        assert delivery.deliver_due() == 3
    assert [body["sequence"] for _, _, _, body in fake_client.calls] == [1, 2, 3]


def test_send_again_brings_an_undeliverable_message_back_and_refuses_a_delivered_one(beijing):
    with time_machine.travel(NOW, tick=False):
        aside, done = queue(), queue()
    aside.status, aside.attempts, aside.last_error = OutboxStatus.undeliverable, 16, "connection_failed: 连接失败"
    aside.next_attempt_at = NOW + timedelta(hours=67)
    done.status = OutboxStatus.delivered
    db.session.flush()
    later = NOW + timedelta(days=4)
    with time_machine.travel(later, tick=False):
        again = service.send_again(aside.id)
    assert (again.status, again.attempts, again.created_at, again.next_attempt_at, again.claimed_until) == (
        OutboxStatus.pending,
        0,
        later,  # the 72 hours count afresh
        later,
        None,
    )
    with pytest.raises(StateConflict) as refused:
        service.send_again(done.id)
    assert refused.value.status == 409
    assert refused.value.error_code == "message_not_set_aside"
    assert done.status == OutboxStatus.delivered
    with pytest.raises(NotFound):
        service.send_again("msg_nosuchmessage")


def test_send_again_takes_a_refused_message_too(beijing):
    with time_machine.travel(NOW, tick=False):
        refused = queue()
    refused.status, refused.last_error = OutboxStatus.refused, "unknown_message_type"
    assert service.send_again(refused.id).status == OutboxStatus.pending


def test_remove_peer_sets_its_pending_messages_aside(beijing):
    service.add_peer("tianjin", "http://127.0.0.1:10", SECRET_B)
    with time_machine.travel(NOW, tick=False):
        first, second, delivered = queue(), queue(), queue()
        elsewhere = queue(to_hub="tianjin")
    delivered.status = OutboxStatus.delivered
    first.claimed_until = NOW + timedelta(seconds=60)
    db.session.flush()
    assert service.remove_peer("beijing") == 2
    for message in (first, second, delivered, elsewhere):
        db.session.refresh(message)
    assert [(m.status, m.last_error) for m in (first, second)] == [(OutboxStatus.undeliverable, "peer_removed")] * 2
    assert first.claimed_until is None
    assert delivered.status == OutboxStatus.delivered
    assert elsewhere.status == OutboxStatus.pending
    assert db.session.get(Peer, "beijing") is None
    assert [p.hub_id for p in service.list_peers()] == ["tianjin"]
    with pytest.raises(NotFound):
        service.remove_peer("beijing")
    # Its messages are refused from now on.
    refusal = _refusal(envelope())
    assert refusal.code == "unknown_peer"


# --- the unreachable-peer notice ------------------------------------------------------------------------------------


def _notices() -> list[tuple[int | None, str]]:
    rows = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "federation_peer_unreachable").order_by(Notification.id)
    )
    return [(row.user_id, row.message) for row in rows]


def test_a_peer_failing_61_minutes_is_reported_once_to_each_active_admin(beijing, make_user):
    admins = [make_user(role=Role.admin), make_user(role=Role.admin)]
    make_user(role=Role.admin, active=False)
    make_user(role=Role.mediator)
    tianjin = service.add_peer("tianjin", "http://127.0.0.1:10", SECRET_B)
    beijing.failing_since = NOW - timedelta(minutes=61)  # since 06:59 UTC, 61 minutes before 08:00
    tianjin.failing_since = NOW - timedelta(minutes=59)
    db.session.flush()

    assert report_unreachable_peers(NOW) == 1
    notices = _notices()
    assert sorted(user_id for user_id, _ in notices) == sorted(a.id for a in admins)
    assert {message for _, message in notices} == {
        "对端平台 beijing 自 2026-03-02 06:59 (UTC) 起无法连接，待发消息将继续重试"
    }
    assert beijing.unreachable_reported_at == NOW
    assert tianjin.unreachable_reported_at is None

    assert report_unreachable_peers(NOW + timedelta(minutes=1)) == 1  # tianjin at 60 minutes: now reported
    assert report_unreachable_peers(NOW + timedelta(minutes=30)) == 0  # nothing new: one notice per outage
    notices = _notices()
    assert len(notices) == 4
    assert sum("beijing" in message for _, message in notices) == 2


def test_a_peer_failing_59_minutes_is_not_reported(beijing, make_user):
    make_user(role=Role.admin)
    beijing.failing_since = NOW - timedelta(minutes=59)
    assert report_unreachable_peers(NOW) == 0
    assert _notices() == []


def test_a_reported_outage_that_ends_can_be_reported_again_when_the_next_one_lasts(beijing, make_user, fake_client):
    admin = make_user(role=Role.admin)
    beijing.failing_since = NOW - timedelta(minutes=61)
    assert report_unreachable_peers(NOW) == 1
    message = _queued(NOW + timedelta(minutes=5))
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert delivery.send_one(message.id) == "delivered"  # back up: the outage is over
    assert (beijing.failing_since, beijing.unreachable_reported_at) == (None, None)
    beijing.failing_since = NOW + timedelta(hours=2)
    assert report_unreachable_peers(NOW + timedelta(hours=3, minutes=1)) == 1
    assert [user_id for user_id, _ in _notices()] == [admin.id, admin.id]


# --- status -------------------------------------------------------------------------------------------------------


def _outbox_row(to_hub: str, status: OutboxStatus, sequence: int, created_at: datetime) -> None:
    db.session.add(
        OutboxMessage(
            id=f"msg_{to_hub[:2]}status{sequence:04d}",
            to_hub=to_hub,
            type="case.outcome",
            version=1,
            conversation_id="status/test",
            sequence=sequence,
            envelope={},
            status=status,
            created_at=created_at,
            next_attempt_at=created_at,
        )
    )


def _inbox_row(from_hub: str, status: InboxStatus, sequence: int) -> None:
    db.session.add(
        InboxMessage(
            id=f"msg_{from_hub[:2]}inbox{sequence:04d}",
            from_hub=from_hub,
            type="directory.snapshot",
            version=1,
            conversation_id="status/test",
            sequence=sequence,
            envelope={},
            status=status,
            received_at=NOW,
        )
    )


def test_status_counts_each_peers_messages(beijing):
    service.add_peer("tianjin", "http://127.0.0.1:10", SECRET_B)
    service.add_peer("shandong", "http://127.0.0.1:11", SECRET_B)  # nothing exchanged yet
    beijing.last_contact_at = NOW - timedelta(hours=3)
    beijing.failing_since = NOW - timedelta(hours=2)
    # beijing: 3 pending (oldest written at 05:30), 1 undeliverable, 2 refused, 4 delivered; 2 received, 1 held.
    for sequence, status, written in [
        (1, OutboxStatus.delivered, NOW - timedelta(hours=5)),
        (2, OutboxStatus.delivered, NOW - timedelta(hours=5)),
        (3, OutboxStatus.delivered, NOW - timedelta(hours=4)),
        (4, OutboxStatus.delivered, NOW - timedelta(hours=4)),
        (5, OutboxStatus.refused, NOW - timedelta(hours=4)),
        (6, OutboxStatus.refused, NOW - timedelta(hours=3)),
        (7, OutboxStatus.undeliverable, NOW - timedelta(hours=3)),
        (8, OutboxStatus.pending, NOW - timedelta(hours=1)),
        (9, OutboxStatus.pending, NOW - timedelta(hours=2, minutes=30)),
        (10, OutboxStatus.pending, NOW - timedelta(minutes=10)),
    ]:
        _outbox_row("beijing", status, sequence, written)
    _outbox_row("tianjin", OutboxStatus.pending, 1, NOW - timedelta(minutes=1))
    _outbox_row("hunan", OutboxStatus.pending, 1, NOW)  # not a peer (removed): not listed
    _inbox_row("beijing", InboxStatus.applied, 1)
    _inbox_row("beijing", InboxStatus.applied, 2)
    _inbox_row("beijing", InboxStatus.held, 4)
    _inbox_row("tianjin", InboxStatus.applied, 1)
    db.session.flush()

    rows = {row.hub_id: row for row in service.status()}
    assert list(rows) == ["beijing", "shandong", "tianjin"]
    bj = rows["beijing"]
    assert (bj.url, bj.last_contact_at, bj.failing_since) == (
        "http://127.0.0.1:9",
        NOW - timedelta(hours=3),
        NOW - timedelta(hours=2),
    )
    assert (bj.queued, bj.undeliverable, bj.refused, bj.delivered, bj.received, bj.held) == (3, 1, 2, 4, 2, 1)
    assert bj.oldest_waiting == NOW - timedelta(hours=2, minutes=30)  # 05:30 UTC
    tj = rows["tianjin"]
    assert (tj.queued, tj.undeliverable, tj.refused, tj.delivered, tj.received, tj.held) == (1, 0, 0, 0, 1, 0)
    assert tj.oldest_waiting == NOW - timedelta(minutes=1)
    sd = rows["shandong"]
    assert (sd.queued, sd.undeliverable, sd.refused, sd.delivered, sd.received, sd.held, sd.oldest_waiting) == (
        0,
        0,
        0,
        0,
        0,
        0,
        None,
    )
    assert [m.id for m in service.set_aside()] == sorted(["msg_bestatus0005", "msg_bestatus0006", "msg_bestatus0007"])
