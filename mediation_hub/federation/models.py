"""Federation: the peers this hub trusts, the messages it owes them (outbox), the messages it took from them
(inbox), and the links between a local record and its counterpart on another hub.

A message is written to ``federation_outbox`` in the transaction of the change it reports and sent after the
commit (``federation.delivery``); a receiver stores it in ``federation_inbox`` keyed by its id in the transaction
that applies it. Both tables keep the envelope as sent (encrypted: ``EncryptedEnvelope``), so "send again" needs
nothing else. docs/FEDERATION.md describes the protocol."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, enum_column, utcnow
from ..core.i18n import N_
from ..core.pii import decrypt, encrypt
from ..extensions import Model


class EncryptedEnvelope:
    """The envelope as sent or taken, kept encrypted at rest (``core.pii``, this hub's key): a case's file and a
    legal-aid application carry full ID numbers and phones, which are never stored in clear."""

    envelope_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)

    @property
    def envelope(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(decrypt(self.envelope_enc))
        return value

    @envelope.setter
    def envelope(self, value: dict[str, Any]) -> None:
        self.envelope_enc = encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


class Peer(Model):
    """Another hub: where to reach it and the shared signing secret(s) (``core.pii.encrypt`` of ``whsec_…``).

    During a rotation the previous secret stays valid until ``previous_valid_until``: messages are signed with
    both and either verifies, so the two hubs need not change theirs at the same moment."""

    __tablename__ = "federation_peers"

    hub_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    secret_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)
    previous_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    # Contact: the last message it accepted from us or we accepted from it; the first failed send since then.
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unreachable_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    directory_sent_hash: Mapped[str | None] = mapped_column(sa.String(64))


class OutboxStatus(enum.StrEnum):
    pending = "pending"  # to be sent (again) once ``next_attempt_at`` has come
    delivered = "delivered"  # the peer answered 2xx: stored there
    refused = "refused"  # the peer answered that it will never take it (unknown type, bad payload): not retried
    undeliverable = "undeliverable"  # retried for the whole schedule; set aside until an administrator sends it again


OUTBOX_STATUS_LABELS = {
    OutboxStatus.pending: N_("待发送"),
    OutboxStatus.delivered: N_("已送达"),
    OutboxStatus.refused: N_("对方拒收"),
    OutboxStatus.undeliverable: N_("无法送达"),
}


class OutboxMessage(EncryptedEnvelope, Model):
    """One message owed to a peer. ``claimed_until``: a sender holds it until then (any process, any host: the
    claim is a conditional UPDATE), so one message is never sent twice at once."""

    __tablename__ = "federation_outbox"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)  # the envelope's id (webhook-id)
    to_hub: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    conversation_id: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    sequence: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "federation_outbox_status"), nullable=False, default=OutboxStatus.pending
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(200))  # a fixed message or the peer's refusal code
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.UniqueConstraint("to_hub", "conversation_id", "sequence", name="uq_federation_outbox_sequence"),
        sa.Index("ix_federation_outbox_due", "status", "next_attempt_at"),
        sa.Index("ix_federation_outbox_peer_status", "to_hub", "status"),
    )

    @property
    def status_label(self) -> str:
        return OUTBOX_STATUS_LABELS[self.status]


class InboxStatus(enum.StrEnum):
    applied = "applied"
    held = "held"  # arrived before an earlier message of its conversation: applied once that one is


class InboxMessage(EncryptedEnvelope, Model):
    """One message taken from a peer, stored in the transaction that applied it (or holds it for its turn)."""

    __tablename__ = "federation_inbox"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    from_hub: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    conversation_id: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    sequence: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    status: Mapped[InboxStatus] = mapped_column(enum_column(InboxStatus, "federation_inbox_status"), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # One message per place in a conversation: a replay under a new id cannot be applied a second time.
        sa.UniqueConstraint("from_hub", "conversation_id", "sequence", name="uq_federation_inbox_sequence"),
        sa.Index("ix_federation_inbox_peer_status", "from_hub", "status"),
    )


class Conversation(Model):
    """How far a peer's conversation has been applied here; its row is locked while a message of it applies."""

    __tablename__ = "federation_conversations"

    from_hub: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    applied_through: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class LinkKind(enum.StrEnum):
    transfer = "transfer"  # a transfer or joint-mediation request between hubs (the local transfers row)
    legal_aid = "legal_aid"  # a legal-aid application handed over between hubs (the local application row)


class FederatedLink(Model):
    """A local record and its counterpart on a peer: the local transfer (and its case) or legal-aid application,
    the peer's id of it, the conversation their messages belong to and which side this hub is on."""

    __tablename__ = "federation_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[LinkKind] = mapped_column(enum_column(LinkKind, "federation_link_kind"), nullable=False)
    peer_hub: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    conversation_id: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    outgoing: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)  # this hub sent it
    transfer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("transfers.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("legal_aid_applications.id", ondelete="CASCADE"), unique=True
    )
    remote_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # the transfer's or application's id there
    # What the peer fed back: the file's arrival, the case's outcome or the application's decision (no numbers).
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("peer_hub", "conversation_id", name="uq_federation_links_conversation"),
        sa.CheckConstraint(
            "(kind = 'transfer') = (transfer_id IS NOT NULL AND case_id IS NOT NULL)", name="transfer_has_case"
        ),
        sa.CheckConstraint("(kind = 'legal_aid') = (application_id IS NOT NULL)", name="legal_aid_has_application"),
    )
