"""Report subscriptions of governance centres, frozen snapshots, and the delivery outbox.

A snapshot and its delivery row are written in one transaction (the outbox); the HTTP call happens
later, outside any transaction, and every attempt is recorded."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..cases.models import CaseEvent
from ..core.db import UTCDateTime, enum_column, utcnow
from ..core.i18n import N_
from ..extensions import Model


class Frequency(enum.StrEnum):
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"


FREQUENCY_LABELS = {Frequency.weekly: N_("每周"), Frequency.monthly: N_("每月"), Frequency.quarterly: N_("每季度")}


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


DELIVERY_STATUS_LABELS = {
    DeliveryStatus.pending: N_("待投递"),
    DeliveryStatus.delivered: N_("已投递"),
    DeliveryStatus.failed: N_("投递失败"),
}


class ReportSubscription(Model):
    """A governance centre (综治中心) that receives the rates report for a region on a schedule."""

    __tablename__ = "report_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), nullable=False)
    frequency: Mapped[Frequency] = mapped_column(enum_column(Frequency, "report_frequency"), nullable=False)
    # handled (承办: where the cases were handled) or occurred (属地: where the disputes arose, a governance
    # centre's default): the basis of every snapshot the subscription receives
    basis: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="handled", server_default="handled")
    endpoint_url: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    secret_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)  # core.pii.encrypt of "whsec_…"
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    organization = relationship("Organization")
    region = relationship("Region")

    __table_args__ = (sa.CheckConstraint("basis IN ('handled', 'occurred')", name="basis_known"),)

    @property
    def frequency_label(self) -> str:
        return gettext(FREQUENCY_LABELS[self.frequency])


class ReportSnapshot(Model):
    """The report for one subscription and period, frozen when the period ended (never recomputed)."""

    __tablename__ = "report_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("report_subscriptions.id"), nullable=False)
    period_start: Mapped[date] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    subscription: Mapped[ReportSubscription] = relationship()

    __table_args__ = (
        # One snapshot per subscription and period, however many scheduler processes race for it.
        sa.UniqueConstraint("subscription_id", "period_start", name="uq_report_snapshots_subscription_period"),
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
    )


class ReportDelivery(Model):
    """Outbox row: the snapshot still to be (or already) pushed to the subscriber's endpoint.

    ``claimed_until`` is a lease: a worker claims the row, commits, calls out, then records the result;
    a worker that died mid-call leaves a lease that simply runs out."""

    __tablename__ = "report_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(sa.ForeignKey("report_snapshots.id"), nullable=False, unique=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "report_delivery_status"), nullable=False, default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    snapshot: Mapped[ReportSnapshot] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(order_by="DeliveryAttempt.id", viewonly=True)

    __table_args__ = (
        sa.CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)", name="delivered_has_time"),
        sa.CheckConstraint("status != 'pending' OR next_attempt_at IS NOT NULL", name="pending_has_next_attempt"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_report_deliveries_status_next", "status", "next_attempt_at"),
    )

    @property
    def status_label(self) -> str:
        return gettext(DELIVERY_STATUS_LABELS[self.status])


class DeliveryAttempt(Model):
    """One HTTP attempt of a delivery: when, the answer's status code or the error, how long it took."""

    __tablename__ = "report_delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("report_deliveries.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    succeeded: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.Text)
    duration_ms: Mapped[int] = mapped_column(sa.Integer, nullable=False)


# Indexes the report queries need on other domains' tables (declared here, next to the queries that use them,
# so the migration picks them up): the completion test is a correlated EXISTS per case; region and studio
# scopes filter events by handler (the flow report's index on transfers' request date is declared with the
# transfers; the rate aggregates' tables are in ``reporting.aggregates``, one of ``mediation_hub.MODEL_MODULES``).
sa.Index("ix_case_events_case_code_date", CaseEvent.case_id, CaseEvent.code, CaseEvent.on_date)
sa.Index("ix_case_events_region_code_date", CaseEvent.region_code, CaseEvent.code, CaseEvent.on_date)
sa.Index("ix_case_events_studio_code_date", CaseEvent.studio_id, CaseEvent.code, CaseEvent.on_date)
