"""``mediation-hub peers …`` and ``mediation-hub federation …`` through Flask's CLI runner, in the test's
transaction (a command's commit releases a SAVEPOINT; everything is rolled back at the end). This hub is ``hebei``;
no sender thread is woken and nothing is sent over the network (``federation deliver`` uses a fake client)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from integrations.governance_reports import DeliveryResult
from mediation_hub.extensions import db
from mediation_hub.federation import delivery, service
from mediation_hub.federation.models import OutboxMessage, OutboxStatus, Peer

SECRET_A = "whsec_" + base64.b64encode(b"A" * 24).decode()
SECRET_B = "whsec_" + base64.b64encode(b"B" * 24).decode()
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OUTCOME = {"transfer_id": 7, "status": "concluded", "outcome": "agreement"}


@pytest.fixture(autouse=True)
def hebei(app, monkeypatch):
    monkeypatch.setitem(app.config, "HUB_ID", "hebei")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://127.0.0.1:5001")
    monkeypatch.setitem(app.config, "FEDERATION_SEND_AT_ONCE", False)


def run(app, *args: str, stdin: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=stdin)


def add_beijing(app):
    with time_machine.travel(NOW, tick=False):
        result = run(app, "peers", "add", "beijing", "http://127.0.0.1:9", "--secret-stdin", stdin=SECRET_A + "\n")
    assert result.exit_code == 0, result.output
    return result


def outbox(to_hub: str = "beijing") -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.to_hub == to_hub)
            .order_by(OutboxMessage.conversation_id, OutboxMessage.sequence)
        )
    )


def test_peers_add_then_list_shows_it_and_queues_the_directory(app):
    result = add_beijing(app)
    assert result.stdout == "peer beijing added (http://127.0.0.1:9); directory queued\n"
    assert SECRET_A not in result.output
    peer = db.session.get_one(Peer, "beijing")
    assert service.secrets_in_use(peer, NOW) == [SECRET_A]
    assert peer.secret_enc != SECRET_A  # kept encrypted
    [directory] = outbox()
    assert (directory.type, directory.conversation_id, directory.sequence, directory.status) == (
        "directory.snapshot",
        "directory/hebei",
        1,
        OutboxStatus.pending,
    )
    assert peer.directory_sent_hash is not None

    listed = run(app, "peers", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout == "beijing\thttp://127.0.0.1:9\tlast contact never\n"


def test_peers_add_a_second_time_exits_2_with_a_message(app):
    add_beijing(app)
    result = run(app, "peers", "add", "beijing", "http://127.0.0.1:8", "--secret-stdin", stdin=SECRET_B + "\n")
    assert result.exit_code == 2
    assert "对端 beijing 已存在" in result.stderr
    peer = db.session.get_one(Peer, "beijing")
    assert (peer.url, service.secrets_in_use(peer, NOW)) == ("http://127.0.0.1:9", [SECRET_A])  # unchanged
    assert len(outbox()) == 1  # no second directory


def test_peers_add_with_a_bad_secret_exits_2_naming_the_secret(app):
    result = run(app, "peers", "add", "tianjin", "http://127.0.0.1:10", "--secret-stdin", stdin="whsec_short\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("secret: ")
    assert "whsec_short" not in result.output
    assert db.session.get(Peer, "tianjin") is None
    assert outbox("tianjin") == []


def test_peers_add_with_a_bad_id_and_address_names_both(app):
    result = run(app, "peers", "add", "Tian Jin", "ftp://x", "--secret-stdin", stdin=SECRET_A + "\n")
    assert result.exit_code == 2
    assert {line.split(":")[0] for line in result.stderr.splitlines()} == {"hub_id", "url"}


def test_peers_add_without_a_secret_on_stdin_exits_2(app):
    result = run(app, "peers", "add", "tianjin", "http://127.0.0.1:10", "--secret-stdin", stdin="\n")
    assert result.exit_code == 2
    assert "standard input" in result.output
    assert db.session.get(Peer, "tianjin") is None


def test_peers_rotate_secret_keeps_the_previous_one_for_24_hours(app):
    add_beijing(app)
    with time_machine.travel(NOW, tick=False):
        result = run(app, "peers", "rotate-secret", "beijing", "--secret-stdin", stdin=SECRET_B + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "peer beijing: new secret in use; the previous one is valid until 2026-03-03 08:00 UTC\n"
    peer = db.session.get_one(Peer, "beijing")
    assert service.secrets_in_use(peer, NOW + timedelta(hours=23)) == [SECRET_B, SECRET_A]
    assert service.secrets_in_use(peer, NOW + timedelta(hours=24)) == [SECRET_B]
    assert run(app, "peers", "list").stdout == "beijing\thttp://127.0.0.1:9\tlast contact never (secret rotating)\n"

    unknown = run(app, "peers", "rotate-secret", "shanghai", "--secret-stdin", stdin=SECRET_B + "\n")
    assert unknown.exit_code == 2
    bad = run(app, "peers", "rotate-secret", "beijing", "--secret-stdin", stdin="whsec_short\n")
    assert bad.exit_code == 2 and bad.stderr.startswith("secret: ")


def test_federation_status_prints_each_peers_counts(app):
    add_beijing(app)  # the directory: 1 queued, written at 08:00:00
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        aside = service.queue_message("beijing", "case.outcome", "transfer/hebei/7", OUTCOME)
        refused = service.queue_message("beijing", "case.outcome", "transfer/hebei/7", OUTCOME)
    aside.status, refused.status = OutboxStatus.undeliverable, OutboxStatus.refused
    peer = db.session.get_one(Peer, "beijing")
    peer.last_contact_at = NOW - timedelta(days=1)
    peer.failing_since = NOW + timedelta(minutes=1)
    db.session.commit()

    result = run(app, "federation", "status")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "this hub: hebei at http://127.0.0.1:5001",
        "beijing: last contact 2026-03-01 08:00:00, failing since 2026-03-02 08:01:00; queued 1 (oldest "
        "2026-03-02 08:00:00); undeliverable 1; refused 1; delivered 0; received 0; held 0",
    ]


def test_federation_deliver_sends_what_is_due(app, monkeypatch):
    add_beijing(app)
    sent: list[dict] = []

    class Fake:
        def send(self, url, secret, message_id, body):
            sent.append(json.loads(body))
            return DeliveryResult(status_code=200, duration_ms=1)

    monkeypatch.setattr(delivery, "_client", lambda peer: Fake())
    result = run(app, "federation", "deliver")
    assert (result.exit_code, result.stdout) == (0, "1 message(s) delivered\n")
    assert [(m["type"], m["to_hub"]) for m in sent] == [("directory.snapshot", "beijing")]
    assert [m.status for m in outbox()] == [OutboxStatus.delivered]


def test_federation_send_directory_queues_only_a_changed_one_unless_forced(app):
    add_beijing(app)
    assert run(app, "federation", "send-directory").stdout == "directory queued to 0 peer(s)\n"
    assert run(app, "federation", "send-directory", "--force").stdout == "directory queued to 1 peer(s)\n"
    assert [m.sequence for m in outbox()] == [1, 2]


def test_peers_remove_reports_the_messages_set_aside(app):
    add_beijing(app)  # 1 queued (the directory)
    service.queue_message("beijing", "case.outcome", "transfer/hebei/7", OUTCOME)
    done = service.queue_message("beijing", "case.outcome", "transfer/hebei/7", OUTCOME)
    done.status = OutboxStatus.delivered
    db.session.commit()

    result = run(app, "peers", "remove", "beijing")
    assert result.exit_code == 0, result.output
    assert result.stdout == "peer beijing removed; 2 queued message(s) set aside\n"
    assert db.session.get(Peer, "beijing") is None
    assert sorted(m.status for m in outbox()) == sorted(
        [OutboxStatus.undeliverable, OutboxStatus.undeliverable, OutboxStatus.delivered]
    )
    again = run(app, "peers", "remove", "beijing")
    assert again.exit_code == 2
    assert run(app, "peers", "list").stdout == ""


def test_federation_send_again_queues_a_set_aside_message_and_refuses_a_delivered_one(app):
    add_beijing(app)
    [directory] = outbox()
    directory.status, directory.attempts = OutboxStatus.undeliverable, 16
    done = service.queue_message("beijing", "case.outcome", "transfer/hebei/7", OUTCOME)
    done.status = OutboxStatus.delivered
    db.session.commit()

    later = NOW + timedelta(days=4)
    with time_machine.travel(later, tick=False):
        result = run(app, "federation", "send-again", directory.id)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"message {directory.id} queued again\n"
    db.session.refresh(directory)
    assert (directory.status, directory.attempts, directory.created_at, directory.next_attempt_at) == (
        OutboxStatus.pending,
        0,
        later,
        later,
    )

    refused = run(app, "federation", "send-again", done.id)
    assert refused.exit_code == 2
    assert "只有无法送达或被拒收的消息可以重新发送" in refused.stderr
    assert run(app, "federation", "send-again", "msg_nosuchmessage").exit_code == 2
