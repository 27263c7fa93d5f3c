"""Cross-region transfers and joint-mediation requests of cases, and the co-mediating organisations.

A transfer moves a case to a partner organisation under an agreement (mode ``transfer``) or asks the
partner to co-mediate while the sender keeps the lead (mode ``joint``). Exactly one answer wins: the
service changes ``status`` only with a conditional UPDATE from ``pending``."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, enum_column, provisional_flag, utcnow
from ..core.i18n import N_
from ..extensions import Model


class TransferMode(enum.StrEnum):
    transfer = "transfer"  # 转办: the receiver becomes the handling organisation
    joint = "joint"  # 联合调解: the sender leads, the receiver co-mediates


class TransferStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"


class DeclineReason(enum.StrEnum):
    outside_competence = "outside_competence"
    wrong_region = "wrong_region"
    conflict_of_interest = "conflict_of_interest"
    capacity = "capacity"
    duplicate = "duplicate"
    other = "other"


# Labels as stored and written into notifications (Chinese); translate them with gettext where they are shown.
MODE_LABELS = {TransferMode.transfer: N_("转办"), TransferMode.joint: N_("联合调解")}
STATUS_LABELS = {
    TransferStatus.pending: N_("待答复"),
    TransferStatus.accepted: N_("已接收"),
    TransferStatus.declined: N_("已退回"),
    TransferStatus.expired: N_("已超期"),
    TransferStatus.withdrawn: N_("已撤回"),
}
DECLINE_REASON_LABELS = {
    DeclineReason.outside_competence: N_("不属本组织受理范围"),
    DeclineReason.wrong_region: N_("地区不符"),
    DeclineReason.conflict_of_interest: N_("存在利益冲突"),
    DeclineReason.capacity: N_("力量不足，无法承接"),
    DeclineReason.duplicate: N_("重复转办"),
    DeclineReason.other: N_("其他（须说明）"),
}
ANSWERED_STATUSES = (TransferStatus.accepted, TransferStatus.declined)


class Transfer(Model):
    """One request to move a case (or share it) with a partner organisation under an agreement."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    from_organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False)
    to_organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False)
    agreement_code: Mapped[str] = mapped_column(sa.ForeignKey("agreements.code"), nullable=False)
    mode: Mapped[TransferMode] = mapped_column(enum_column(TransferMode, "transfer_mode"), nullable=False)
    status: Mapped[TransferStatus] = mapped_column(
        enum_column(TransferStatus, "transfer_status"), nullable=False, default=TransferStatus.pending
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    requested_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    respond_by: Mapped[date] = mapped_column(sa.Date, nullable=False)
    respond_by_provisional: Mapped[bool] = provisional_flag()  # counted over a provisional calendar year
    # When the request left ``pending`` (answered, expired or withdrawn); UTC and the Shanghai business date.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_on: Mapped[date | None] = mapped_column(sa.Date)
    reason_code: Mapped[DeclineReason | None] = mapped_column(enum_column(DeclineReason, "transfer_decline_reason"))
    reason_text: Mapped[str | None] = mapped_column(sa.Text)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.Text)
    # Working days from the request to the answer (accepted/declined only), for the median in reports.
    working_days_to_answer: Mapped[int | None] = mapped_column(sa.Integer)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    case = relationship("Case")
    from_organization = relationship("Organization", foreign_keys=[from_organization_id])
    to_organization = relationship("Organization", foreign_keys=[to_organization_id])
    agreement = relationship("Agreement")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("from_organization_id <> to_organization_id", name="not_to_itself"),
        sa.CheckConstraint("respond_by >= requested_on", name="respond_by_after_request"),
        sa.CheckConstraint(
            "(status = 'pending') = (answered_at IS NULL AND answered_on IS NULL)", name="closed_has_time"
        ),
        sa.CheckConstraint("(status = 'declined') = (reason_code IS NOT NULL)", name="declined_has_reason"),
        sa.CheckConstraint(
            "reason_code IS NULL OR reason_code <> 'other' OR "
            "(reason_text IS NOT NULL AND length(trim(reason_text)) > 0)",
            name="other_needs_text",
        ),
        sa.CheckConstraint(
            "(status IN ('accepted', 'declined')) = (working_days_to_answer IS NOT NULL)",
            name="answered_has_working_days",
        ),
        sa.CheckConstraint(
            "working_days_to_answer IS NULL OR working_days_to_answer >= 0", name="working_days_not_negative"
        ),
        sa.Index("ix_transfers_to_status", "to_organization_id", "status"),
        sa.Index("ix_transfers_from_status", "from_organization_id", "status"),
        sa.Index("ix_transfers_status_respond_by", "status", "respond_by"),
        sa.Index("ix_transfers_requested_on", "requested_on"),  # reports count requests by period
        # At most one open request per case and mode, whatever the number of concurrent requests.
        sa.Index(
            "uq_transfers_one_pending",
            "case_id",
            "mode",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    @property
    def mode_label(self) -> str:
        return MODE_LABELS[self.mode]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def reason_label(self) -> str | None:
        return DECLINE_REASON_LABELS[self.reason_code] if self.reason_code else None

    def overdue_on(self, day: date) -> bool:
        """Pending and past its answer-by date on business date ``day``."""
        return self.status == TransferStatus.pending and day > self.respond_by


class CaseCoOrganization(Model):
    """A partner organisation co-mediating a case after accepting a joint request (the handler leads)."""

    __tablename__ = "case_co_organizations"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), primary_key=True, index=True)
    since: Mapped[date] = mapped_column(sa.Date, nullable=False)
    transfer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("transfers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    organization = relationship("Organization")


def co_mediated_case_ids(organization_id: int | None) -> sa.Select[tuple[int]]:
    """Ids of the cases an organisation co-mediates (for ``cases_visible_to``: ``Case.id.in_(...)``)."""
    return sa.select(CaseCoOrganization.case_id).where(CaseCoOrganization.organization_id == organization_id)


def transferred_out_case_ids(organization_ids: sa.Select[Any] | int | None = None) -> sa.Select[tuple[int]]:
    """Ids of the cases handed over by an accepted transfer (mode ``transfer``) from the organisation
    ``organization_ids`` (an id, or a select of ids; None for any sender): the cases its users keep reading."""
    stmt = sa.select(Transfer.case_id).where(
        Transfer.status == TransferStatus.accepted, Transfer.mode == TransferMode.transfer
    )
    if isinstance(organization_ids, sa.Select):
        return stmt.where(Transfer.from_organization_id.in_(organization_ids))
    if organization_ids is not None:
        return stmt.where(Transfer.from_organization_id == organization_ids)
    return stmt
