"""Federation: peers, the outbox a change writes to, and the inbox that applies what peers send.

- Peers (``add_peer``, ``rotate_secret``, ``remove_peer``): an administrator adds each other hub with the secret
  both share; messages are signed with Standard Webhooks headers (``integrations.webhook_signing``).
- Outbox (``queue_message``): called by the listeners in the transaction of the change a message reports; the
  message is numbered in its conversation and sent after the commit (``federation.delivery``).
- Inbox (``receive``): verify the signature against the sending peer's secrets, refuse what is not addressed here,
  validate the envelope and the payload against the schema of its type and version, then store and apply it in one
  transaction, in ``sequence`` order per conversation (an early one is held until its predecessor is applied); a
  duplicate is stored once and applied zero times."""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from integrations.webhook_signing import SECRET_PREFIX, verify_any

from ..core.actor import Actor, Role
from ..core.db import utcnow
from ..core.i18n import N_
from ..core.messages import coded
from ..core.pii import decrypt, encrypt
from ..core.uow import after_commit, on_rollback
from ..errors import DomainError, NotFound, StateConflict, ValidationFailed, collect, raise_if
from ..extensions import db
from .models import Conversation, InboxMessage, InboxStatus, OutboxMessage, OutboxStatus, Peer
from .protocol import CURRENT_VERSION, HUB_ID, TYPES, EnvelopeSchema

log = logging.getLogger("mediation_hub.federation")
ROTATION_OVERLAP = timedelta(hours=24)  # how long the previous secret stays valid after a rotation
CONTACT_RESOLUTION = timedelta(minutes=1)  # how often a peer's last contact is written
URL = re.compile(r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")


def hub_id() -> str:
    return str(current_app.config["HUB_ID"])


def federation_actor(peer: str) -> Actor:
    """Who applies a peer's messages here: the system, named after the hub (as the event rows keep it)."""
    return Actor(user_id=None, username=f"hub:{peer}"[:60], role=Role.admin)


# --- peers -------------------------------------------------------------------------------------------------------


def _check_secret(secret: str, errors: dict[str, list[str]]) -> None:
    if not secret.startswith(SECRET_PREFIX) or len(secret) < len(SECRET_PREFIX) + 24:
        collect(errors, "secret", coded("bad_secret", "密钥格式不正确（whsec_ 开头，至少 24 字节）"))


def add_peer(peer_hub: str, url: str, secret: str) -> Peer:
    """Trust another hub: where its inbox is and the secret both sides sign with. 422 naming bad fields; 409 when
    the hub is already a peer (rotate its secret instead)."""
    errors: dict[str, list[str]] = {}
    try:
        HUB_ID(peer_hub)
    except ValidationError:
        collect(errors, "hub_id", coded("bad_hub_id", "平台标识须为小写字母开头的字母、数字、- 或 _（2–40 个）"))
    if peer_hub == hub_id():
        collect(errors, "hub_id", coded("peer_is_self", "不能把本平台添加为对端"))
    if not URL.match(url.strip()):
        collect(errors, "url", coded("bad_url", "地址须为 http(s)://主机[:端口][/路径]"))
    _check_secret(secret, errors)
    raise_if(errors)
    if db.session.get(Peer, peer_hub) is not None:
        raise StateConflict(coded("peer_exists", "对端 %(hub)s 已存在；更换密钥请用 rotate-secret", hub=peer_hub))
    peer = Peer(hub_id=peer_hub, url=url.strip().rstrip("/"), secret_enc=encrypt(secret))
    db.session.add(peer)
    db.session.flush()
    return peer


def rotate_secret(peer_hub: str, secret: str, *, now: datetime | None = None) -> Peer:
    """A new shared secret; the previous one stays valid (messages are signed with both) for ROTATION_OVERLAP."""
    peer = get_peer(peer_hub)
    errors: dict[str, list[str]] = {}
    _check_secret(secret, errors)
    raise_if(errors)
    peer.previous_secret_enc = peer.secret_enc
    peer.previous_valid_until = (now or utcnow()) + ROTATION_OVERLAP
    peer.secret_enc = encrypt(secret)
    db.session.flush()
    return peer


def remove_peer(peer_hub: str) -> int:
    """Stop trusting a hub. What was still owed to it is set aside (undeliverable); returns how many."""
    peer = get_peer(peer_hub)
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.to_hub == peer_hub, OutboxMessage.status == OutboxStatus.pending)
        .values(status=OutboxStatus.undeliverable, last_error="peer_removed", claimed_until=None)
    )
    db.session.delete(peer)
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def get_peer(peer_hub: str) -> Peer:
    peer = db.session.get(Peer, peer_hub)
    if peer is None:
        raise NotFound("peer")
    return peer


def list_peers() -> list[Peer]:
    return list(db.session.scalars(sa.select(Peer).order_by(Peer.hub_id)))


def secrets_in_use(peer: Peer, now: datetime | None = None) -> list[str]:
    """The secrets to sign with and to accept: the current one, and the previous one during a rotation."""
    in_use = [decrypt(peer.secret_enc)]
    if peer.previous_secret_enc and peer.previous_valid_until and peer.previous_valid_until > (now or utcnow()):
        in_use.append(decrypt(peer.previous_secret_enc))
    return in_use


# --- outbox ------------------------------------------------------------------------------------------------------


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


def queue_message(to_hub: str, type_: str, conversation_id: str, payload: dict[str, Any]) -> OutboxMessage:
    """Write a message to the outbox in the current transaction, numbered after the last one of its conversation to
    that peer; it is sent once the transaction commits. The payload is checked against its schema here, so a bug
    fails the change that wrote it rather than the peer."""
    version = CURRENT_VERSION[type_]
    schema = TYPES[(type_, version)]()
    body = schema.dump(payload)
    problems = schema.validate(body)
    if problems:
        raise ValueError(f"{type_} v{version} payload does not match its schema: {problems}")
    last = db.session.scalar(
        sa.select(sa.func.max(OutboxMessage.sequence)).where(
            OutboxMessage.to_hub == to_hub, OutboxMessage.conversation_id == conversation_id
        )
    )
    now = utcnow()
    message_id = new_message_id()
    sequence = (last or 0) + 1
    envelope = {
        "id": message_id,
        "type": type_,
        "version": version,
        "sent_at": now.isoformat().replace("+00:00", "Z"),
        "from_hub": hub_id(),
        "to_hub": to_hub,
        "conversation_id": conversation_id,
        "sequence": sequence,
        "payload": body,
    }
    message = OutboxMessage(
        id=message_id,
        to_hub=to_hub,
        type=type_,
        version=version,
        conversation_id=conversation_id,
        sequence=sequence,
        envelope=envelope,
        status=OutboxStatus.pending,
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(message)
    db.session.flush()
    _wake_after_commit()
    return message


def _wake_after_commit() -> None:
    info = db.session().info
    if info.get("federation_wake"):
        return
    info["federation_wake"] = True

    def wake() -> None:
        from .delivery import wake_sender

        wake_sender(current_app._get_current_object())  # type: ignore[attr-defined]

    def forget() -> None:
        info.pop("federation_wake", None)

    after_commit(wake)
    after_commit(forget)
    on_rollback(forget)


def send_again(message_id: str) -> OutboxMessage:
    """An administrator sends an undeliverable (or refused) message again: its schedule starts afresh."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("message")
    if message.status not in (OutboxStatus.undeliverable, OutboxStatus.refused):
        raise StateConflict(coded("message_not_set_aside", "只有无法送达或被拒收的消息可以重新发送"))
    now = utcnow()
    message.status = OutboxStatus.pending
    message.attempts = 0
    message.created_at = now
    message.next_attempt_at = now
    message.claimed_until = None
    db.session.flush()
    _wake_after_commit()
    return message


# --- inbox -------------------------------------------------------------------------------------------------------


TITLES = {401: "Unauthorized", 403: "Forbidden", 422: "Unprocessable Entity"}


class FederationRefusal(DomainError):
    """A message refused at the door: 401 (unknown peer, bad or stale signature), 403 (addressed to another hub),
    422 (not an envelope, unknown type or version, a payload that does not match, a message that cannot apply).
    Nothing of it is kept; the JSON answer's ``error`` is the code the sender records."""

    def __init__(self, status: int, code: str, message: str, errors: dict[str, Any] | None = None, **params: object):
        super().__init__(coded(code, message, **params), errors or None)
        self.status = status
        self.title = TITLES[status]
        self.code = code


@dataclass
class Receipt:
    id: str
    status: str  # applied | held | duplicate


def authenticate(body: bytes, headers: dict[str, str], now: datetime | None = None) -> dict[str, Any]:
    """The envelope of a signed message from a known peer addressed to this hub, or FederationRefusal."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        envelope = None
    if not isinstance(envelope, dict):
        raise FederationRefusal(401, "not_signed_envelope", N_("不是签名的消息"))
    peer = db.session.get(Peer, str(envelope.get("from_hub") or "")[:40])
    if peer is None:
        raise FederationRefusal(401, "unknown_peer", N_("未知的对端平台"))
    moment = now or utcnow()
    tolerance = int(current_app.config["FEDERATION_TOLERANCE_SECONDS"])
    if not verify_any(secrets_in_use(peer, moment), headers, body, tolerance=tolerance, now=moment.timestamp()):
        raise FederationRefusal(401, "bad_signature", N_("签名无效或已过期"))
    if headers.get("webhook-id") != envelope.get("id"):
        raise FederationRefusal(401, "bad_signature", N_("签名无效或已过期"))
    if envelope.get("to_hub") != hub_id():
        raise FederationRefusal(403, "wrong_hub", N_("消息不是发给本平台的"))
    return envelope


def validate(envelope: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The envelope and its payload loaded by the schema of its type and version, or FederationRefusal (422)."""
    try:
        loaded = EnvelopeSchema().load(envelope)
    except ValidationError as exc:
        raise FederationRefusal(422, "bad_envelope", N_("消息格式不正确"), _messages(exc)) from None
    schema = TYPES.get((loaded["type"], loaded["version"]))
    if schema is None:
        raise FederationRefusal(
            422,
            "unknown_message_type",
            N_("不支持的消息类型或版本 %(type)s v%(version)s"),
            {"type": [f"{loaded['type']} v{loaded['version']}"]},
            type=loaded["type"],
            version=loaded["version"],
        )
    try:
        payload = schema().load(loaded["payload"])
    except ValidationError as exc:
        raise FederationRefusal(422, "bad_payload", N_("消息内容不符合其类型的格式"), _messages(exc)) from None
    return loaded, payload


def _contact(peer: Peer, moment: datetime) -> None:
    """Note that the peer was heard from: at most once a minute, so that messages arriving side by side do not
    queue on the peer's row (an UPDATE locks it to the end of the transaction on PostgreSQL)."""
    last = peer.last_contact_at
    if last is None or utc(last) < moment - CONTACT_RESOLUTION or peer.failing_since is not None:
        peer.last_contact_at = moment
        peer.failing_since = None


def _messages(exc: ValidationError) -> dict[str, Any]:
    return dict(exc.messages) if isinstance(exc.messages, dict) else {"_schema": list(exc.messages)}


def receive(body: bytes, headers: dict[str, str], now: datetime | None = None) -> Receipt:
    """Take one message from a peer: refuse it (nothing written), or store it and apply it in its conversation's
    order, in the caller's transaction (the request commits it before answering 2xx)."""
    envelope = authenticate(body, headers, now)
    loaded, payload = validate(envelope)
    moment = now or utcnow()
    _contact(db.session.get_one(Peer, loaded["from_hub"]), moment)
    if db.session.get(InboxMessage, loaded["id"]) is not None:
        return Receipt(loaded["id"], "duplicate")
    conversation = _lock_conversation(loaded["from_hub"], loaded["conversation_id"])
    if loaded["sequence"] <= conversation.applied_through:
        return Receipt(loaded["id"], "duplicate")
    row = InboxMessage(
        id=loaded["id"],
        from_hub=loaded["from_hub"],
        type=loaded["type"],
        version=loaded["version"],
        conversation_id=loaded["conversation_id"],
        sequence=loaded["sequence"],
        envelope=envelope,
        status=InboxStatus.held,
        received_at=moment,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # the same place of the conversation under another id: already taken
        return Receipt(loaded["id"], "duplicate")
    if loaded["sequence"] != conversation.applied_through + 1:
        return Receipt(loaded["id"], "held")
    _apply(row, payload, moment)
    conversation.applied_through = row.sequence
    _apply_held(conversation, moment)
    return Receipt(loaded["id"], "applied")


def _lock_conversation(from_hub: str, conversation_id: str) -> Conversation:
    """The conversation's row, locked for this transaction (PostgreSQL: FOR UPDATE; SQLite: the write lock every
    writing request takes first), so two messages of one conversation are applied one after the other."""
    try:
        with db.session.begin_nested():
            db.session.add(Conversation(from_hub=from_hub, conversation_id=conversation_id, applied_through=0))
            db.session.flush()
    except IntegrityError:
        pass
    conversation = db.session.scalars(
        sa.select(Conversation)
        .where(Conversation.from_hub == from_hub, Conversation.conversation_id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return conversation


def _apply(row: InboxMessage, payload: dict[str, Any], moment: datetime) -> None:
    """Apply one message with its handler; a domain refusal (it cannot apply here) refuses the message."""
    from .handlers import HANDLERS

    handler = HANDLERS[row.type]
    try:
        with db.session.begin_nested():
            handler(row.from_hub, row.conversation_id, payload)
            db.session.flush()
    except (ValidationFailed, NotFound, StateConflict) as exc:
        raise FederationRefusal(
            422, "cannot_apply", N_("消息无法在本平台执行：%(reason)s"), exc.errors, reason=exc.message
        ) from exc
    except IntegrityError as exc:  # a rule of this hub's schema the message breaks (a number already taken …)
        log.warning("message %s (%s) breaks a constraint here (%s)", row.id, row.type, type(exc.orig).__name__)
        raise FederationRefusal(
            422, "cannot_apply", N_("消息无法在本平台执行：%(reason)s"), reason=gettext("与本平台已有数据冲突")
        ) from None
    row.status = InboxStatus.applied
    row.applied_at = moment


def _apply_held(conversation: Conversation, moment: datetime) -> None:
    """Apply the held messages that now follow in order (a later one that arrived first)."""
    while True:
        row = db.session.scalar(
            sa.select(InboxMessage).where(
                InboxMessage.from_hub == conversation.from_hub,
                InboxMessage.conversation_id == conversation.conversation_id,
                InboxMessage.sequence == conversation.applied_through + 1,
                InboxMessage.status == InboxStatus.held,
            )
        )
        if row is None:
            return
        try:
            _, payload = validate(row.envelope)
            _apply(row, payload, moment)
        except FederationRefusal as exc:  # it stays held (and visible); the message that arrived now stands
            log.error("held message %s of %s cannot apply: %s", row.id, row.conversation_id, exc.code)
            return
        conversation.applied_through = row.sequence


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- status ------------------------------------------------------------------------------------------------------


@dataclass
class PeerStatus:
    hub_id: str
    url: str
    last_contact_at: datetime | None
    failing_since: datetime | None
    queued: int
    undeliverable: int
    refused: int
    delivered: int
    oldest_waiting: datetime | None
    received: int
    held: int


def status(now: datetime | None = None) -> list[PeerStatus]:
    """Per peer: last contact, messages queued (and the oldest of them), undeliverable, refused, delivered, and
    the messages taken from it (held ones waiting for an earlier one). Two grouped reads."""
    out = {
        (row.to_hub, row.status): (int(row.n), row.oldest)
        for row in db.session.execute(
            sa.select(
                OutboxMessage.to_hub,
                OutboxMessage.status,
                sa.func.count().label("n"),
                sa.func.min(OutboxMessage.created_at).label("oldest"),
            ).group_by(OutboxMessage.to_hub, OutboxMessage.status)
        )
    }
    into = {
        (row.from_hub, row.status): int(row.n)
        for row in db.session.execute(
            sa.select(InboxMessage.from_hub, InboxMessage.status, sa.func.count().label("n")).group_by(
                InboxMessage.from_hub, InboxMessage.status
            )
        )
    }
    result = []
    for peer in list_peers():
        queued, oldest = out.get((peer.hub_id, OutboxStatus.pending), (0, None))
        result.append(
            PeerStatus(
                hub_id=peer.hub_id,
                url=peer.url,
                last_contact_at=peer.last_contact_at,
                failing_since=peer.failing_since,
                queued=queued,
                undeliverable=out.get((peer.hub_id, OutboxStatus.undeliverable), (0, None))[0],
                refused=out.get((peer.hub_id, OutboxStatus.refused), (0, None))[0],
                delivered=out.get((peer.hub_id, OutboxStatus.delivered), (0, None))[0],
                oldest_waiting=utc(oldest) if oldest else None,
                received=into.get((peer.hub_id, InboxStatus.applied), 0),
                held=into.get((peer.hub_id, InboxStatus.held), 0),
            )
        )
    return result


def set_aside(limit: int = 100) -> list[OutboxMessage]:
    """The messages an administrator may send again: undeliverable or refused, newest first."""
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.status.in_([OutboxStatus.undeliverable, OutboxStatus.refused]))
            .order_by(OutboxMessage.last_attempt_at.desc(), OutboxMessage.id)
            .limit(limit)
        )
    )
