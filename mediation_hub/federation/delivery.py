"""Sending the outbox: claim a message in the database, POST it signed, record what the peer answered.

Every process may send: a message is claimed with one conditional UPDATE (``claimed_until``), committed before the
call, so two senders never send one message at once; a sender that dies mid-call leaves a claim that lapses after
CLAIM_SECONDS, and the message is sent again (the receiver stores it by id: applied once). Within a conversation a
message waits while an earlier one to the same peer is still pending (the receiver would hold it anyway).

Schedule (FEDERATION_BACKOFF_SECONDS): 5 s, 1 min, 10 min, 1 h, 6 h, then every 6 h until FEDERATION_GIVE_UP_HOURS
(3 days) since it was written (or sent again), then set aside as undeliverable for an administrator to send again.
A peer that answers with a refusal it will never change its mind on (422: an unknown type, a payload it cannot apply)
gets the message marked refused with the peer's code; a 401/403 (secrets out of step) is retried like a network failure.

Who sends: after a commit that wrote messages, ``wake_sender`` (a thread per process that drains what is due, or a
job on the RQ queue when one is configured); the scheduler's ``federation.deliver`` sweeps what is left."""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from integrations.governance_reports import DeliveryError, GovernanceReportClient
from integrations.outbound import DestinationGuard

from ..core.db import affected_rows, utcnow
from ..core.uow import commit_batch, transaction
from ..extensions import db
from .models import OutboxMessage, OutboxStatus, Peer
from .service import secrets_in_use

log = logging.getLogger("mediation_hub.federation")
CLAIM_SECONDS = 60
BATCH = 200
RETRIED_STATUSES = {401, 403, 404, 408, 425, 429}  # secrets out of step, a hub not yet upgraded, throttling
REFUSAL_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def next_attempt(message: OutboxMessage, now: datetime) -> datetime | None:
    """When to try again after ``message.attempts`` failed attempts (the settings' schedule, its last wait
    repeated), or None when that would pass the give-up time counted from when it was written."""
    backoff = current_app.config["FEDERATION_BACKOFF_SECONDS"] or (5,)
    delay = timedelta(seconds=backoff[min(message.attempts, len(backoff)) - 1])
    due = now + delay
    give_up = timedelta(hours=int(current_app.config["FEDERATION_GIVE_UP_HOURS"]))
    return due if due - message.created_at <= give_up else None


def _client(peer: Peer) -> GovernanceReportClient:
    """The signed-POST client, allowed to reach this peer's host (an administrator named it; private networks and
    plain http included, as between hubs of one government network)."""
    host = re.sub(r"^https?://", "", peer.url).split("/")[0].rsplit(":", 1)[0].strip("[]")
    return GovernanceReportClient(
        timeout=float(current_app.config["FEDERATION_TIMEOUT_SECONDS"]),
        guard=DestinationGuard([host]),
        user_agent=f"mediation-hub/1 (federation {current_app.config['HUB_ID']})",
        ca_certs=current_app.config.get("WEBHOOK_CA_BUNDLE"),
        read_limit=2048,
    )


def due_ids(now: datetime, limit: int = BATCH, to_hub: str | None = None) -> list[str]:
    """Messages due now and not claimed, oldest first; only the first pending one of each conversation."""
    earlier = sa.orm.aliased(OutboxMessage)
    waiting_behind = (
        sa.select(earlier.id)
        .where(
            earlier.to_hub == OutboxMessage.to_hub,
            earlier.conversation_id == OutboxMessage.conversation_id,
            earlier.sequence < OutboxMessage.sequence,
            earlier.status == OutboxStatus.pending,
        )
        .exists()
    )
    stmt = (
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.pending,
            OutboxMessage.next_attempt_at <= now,
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            ~waiting_behind,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at, OutboxMessage.sequence)
        .limit(limit)
    )
    if to_hub is not None:
        stmt = stmt.where(OutboxMessage.to_hub == to_hub)
    return list(db.session.scalars(stmt))


def claim(message_id: str, now: datetime) -> bool:
    """Take the message for CLAIM_SECONDS (one conditional UPDATE); False when another sender has it."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.pending,
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


def send_one(message_id: str, now: datetime | None = None) -> str | None:
    """Claim, send and record one message; commits the claim before the call and the outcome after it. Returns
    the message's status afterwards, or None when it was not claimed here."""
    now = now or utcnow()
    if not claim(message_id, now):
        db.session.rollback()
        return None
    message = db.session.get_one(OutboxMessage, message_id)
    peer = db.session.get(Peer, message.to_hub)
    body = json.dumps(message.envelope, ensure_ascii=False, separators=(",", ":")).encode()
    target = (peer.url + "/api/v1/federation/inbox", secrets_in_use(peer, now), _client(peer)) if peer else None
    # The claim commits with what the call needs read, and no transaction stays open during the call: on SQLite a
    # writing transaction holds the hub's one write lock, and a slow peer would hold up every other write for as
    # long as it takes to answer. Nothing of the expired rows is touched until the call is over.
    commit_batch()
    error: DeliveryError | None = None
    if target is None:
        error = DeliveryError("对端平台已移除", code="unknown_peer")
    else:
        url, signing, client = target
        try:
            client.send(url, signing, message_id, body)
        except DeliveryError as exc:
            error = exc
    message = db.session.get_one(OutboxMessage, message_id)
    _record(message, db.session.get(Peer, message.to_hub), error, utcnow())
    commit_batch()
    return message.status.value


def _record(message: OutboxMessage, peer: Peer | None, error: DeliveryError | None, now: datetime) -> None:
    message.attempts += 1
    message.last_attempt_at = now
    message.claimed_until = None
    if error is None:
        message.status = OutboxStatus.delivered
        message.delivered_at = now
        message.last_error = None
        if peer is not None:
            peer.last_contact_at = now
            peer.failing_since = None
            peer.unreachable_reported_at = None
        return
    refusal = _refusal_code(error)
    if refusal is not None:
        message.status = OutboxStatus.refused
        message.last_error = refusal
        log.warning("message %s (%s) refused by %s: %s", message.id, message.type, message.to_hub, refusal)
        return
    message.last_error = f"{error.code}: {error}"[:200]
    if peer is not None and peer.failing_since is None:
        peer.failing_since = now
    due = next_attempt(message, now)
    if due is None:
        message.status = OutboxStatus.undeliverable
        log.error(
            "message %s (%s) to %s undeliverable after %s attempts",
            message.id,
            message.type,
            message.to_hub,
            message.attempts,
        )
    else:
        message.next_attempt_at = due


def _refusal_code(error: DeliveryError) -> str | None:
    """The peer's code when it refused the message for good (a 4xx other than the retried ones)."""
    status = error.status_code
    if status is None or not 400 <= status < 500 or status in RETRIED_STATUSES:
        return None
    try:
        code = json.loads(error.answer or b"{}").get("error")
    except (ValueError, AttributeError):
        code = None
    return code if isinstance(code, str) and REFUSAL_CODE.match(code) else f"http_{status}"


def deliver_due(now: datetime | None = None, *, limit: int = BATCH, to_hub: str | None = None) -> int:
    """Send what is due, batch after batch until nothing is; returns how many were delivered."""
    delivered = 0
    while True:
        moment = now or utcnow()
        ids = due_ids(moment, limit, to_hub)
        db.session.rollback()
        if not ids:
            return delivered
        sent_any = False
        for message_id in ids:
            status = send_one(message_id)
            sent_any = sent_any or status is not None
            delivered += status == OutboxStatus.delivered.value
        if not sent_any or now is not None:
            return delivered


# --- waking the sender after a commit ------------------------------------------------------------------------------


class _Relay:
    """One sender thread per process and app: woken after each commit that wrote messages, it drains what is due
    and sleeps until woken again (the scheduler's sweep catches what a crash left)."""

    def __init__(self, app: Flask):
        self.app = app
        self.event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="federation-sender", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            self.event.wait()
            self.event.clear()
            with self.app.app_context():
                try:
                    with transaction():
                        deliver_due()
                except Exception:
                    log.exception("federation sender failed; the scheduler's sweep sends what is left")
                finally:
                    db.session.remove()


_relays: dict[int, _Relay] = {}
_relays_lock = threading.Lock()


def wake_sender(app: Flask) -> None:
    """Send what is due now, in the background of this process (or on the RQ queue when one is configured)."""
    if not app.config.get("FEDERATION_SEND_AT_ONCE", True):
        return
    if app.config.get("QUEUE_URL"):
        from ..core import background

        background.start(app, drain, 0, name="federation", queue="federation")
        return
    with _relays_lock:
        relay = _relays.get(id(app))
        if relay is None or not relay.thread.is_alive():
            relay = _relays[id(app)] = _Relay(app)
    relay.event.set()


def drain(_job_id: int) -> Any:
    """The queued form of a wake (background.start's job): send what is due."""
    return deliver_due()
