"""Export jobs: one large export being written in the background, its progress, and the finished file."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, enum_column, utcnow
from ..core.i18n import N_
from ..extensions import Model


class ExportStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ExportKind(enum.StrEnum):
    case_list = "case_list"


class ExportFormat(enum.StrEnum):
    csv = "csv"
    xlsx = "xlsx"


EXPORT_STATUS_LABELS = {
    ExportStatus.queued: N_("排队中"),
    ExportStatus.running: N_("生成中"),
    ExportStatus.done: N_("已完成"),
    ExportStatus.failed: N_("失败"),
}
EXPORT_KIND_LABELS = {ExportKind.case_list: N_("案件列表")}


class ExportJob(Model):
    """A list export asked for by one user (the only one who may see or download it).

    ``filters_sealed`` holds the filters as the list passed them to its search, encrypted with the personal-data
    key (a name or a number typed into the search box is personal data); ``audit_filters`` is what the audit
    row will say about them once the file is complete. ``file_path`` is set only when the file is complete
    (it is written under a temporary name and renamed into place), ``expires_at`` is when it is deleted."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ExportKind] = mapped_column(enum_column(ExportKind, "export_kind"), nullable=False)
    format: Mapped[ExportFormat] = mapped_column(enum_column(ExportFormat, "export_format"), nullable=False)
    status: Mapped[ExportStatus] = mapped_column(
        enum_column(ExportStatus, "export_status"), nullable=False, default=ExportStatus.queued
    )
    filters_sealed: Mapped[str] = mapped_column(sa.Text, nullable=False)
    audit_filters: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    rows_expected: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    rows_written: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    filename: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    file_path: Mapped[str | None] = mapped_column(sa.String(500))
    file_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    message: Mapped[str | None] = mapped_column(sa.Text)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by = relationship("User")

    __table_args__ = (
        sa.CheckConstraint("status = 'queued' OR started_at IS NOT NULL", name="started_has_time"),
        sa.CheckConstraint("(status IN ('done', 'failed')) = (finished_at IS NOT NULL)", name="finished_has_time"),
        sa.CheckConstraint("(status = 'done') = (file_path IS NOT NULL)", name="file_only_when_done"),
        sa.CheckConstraint(
            "status != 'done' OR (file_size IS NOT NULL AND expires_at IS NOT NULL)", name="done_has_size_and_expiry"
        ),
        sa.CheckConstraint("status != 'failed' OR message IS NOT NULL", name="failed_has_message"),
        sa.CheckConstraint("rows_expected >= 0 AND rows_written >= 0", name="rows_not_negative"),
        sa.Index("ix_export_jobs_status_heartbeat", "status", "heartbeat_at"),
    )

    @property
    def status_label(self) -> str:
        from flask_babel import gettext

        return gettext(EXPORT_STATUS_LABELS[self.status])

    @property
    def kind_label(self) -> str:
        from flask_babel import gettext

        return gettext(EXPORT_KIND_LABELS[self.kind])

    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.done, ExportStatus.failed)

    @property
    def progress(self) -> float:
        """The share of the rows written, 0..1 (1 once done, whatever the count said at the start)."""
        if self.status == ExportStatus.done:
            return 1.0
        if not self.rows_expected:
            return 0.0
        return min(1.0, self.rows_written / self.rows_expected)
