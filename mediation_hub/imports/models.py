"""Import jobs: one uploaded file being imported in the background, with its progress and outcome."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, enum_column, utcnow
from ..core.i18n import N_
from ..extensions import Model


class ImportStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


IMPORT_STATUS_LABELS = {
    ImportStatus.queued: N_("排队中"),
    ImportStatus.running: N_("导入中"),
    ImportStatus.done: N_("已完成"),
    ImportStatus.failed: N_("失败"),
}


class ImportJob(Model):
    """An upload of cases into one organisation. ``progress`` is the share of the file read (0..1);
    ``heartbeat_at`` moves with every batch, so a job whose process died is recognisable (imports.tasks).
    ``error_report`` is the path of the csv of failed rows under ``instance/imports/``; ``message`` says
    why a job failed as a whole (an unusable file, the process stopping)."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False, index=True)
    source_system: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    status: Mapped[ImportStatus] = mapped_column(
        enum_column(ImportStatus, "import_status"), nullable=False, default=ImportStatus.queued
    )
    total_rows: Mapped[int | None] = mapped_column(sa.Integer)
    processed_rows: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    progress: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
    imported: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    upload_path: Mapped[str | None] = mapped_column(sa.String(500))  # removed once the import has run
    error_report: Mapped[str | None] = mapped_column(sa.String(500))
    message: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization = relationship("Organization")
    created_by = relationship("User")

    __table_args__ = (
        sa.CheckConstraint("status = 'queued' OR started_at IS NOT NULL", name="started_has_time"),
        sa.CheckConstraint("(status IN ('done', 'failed')) = (finished_at IS NOT NULL)", name="finished_has_time"),
        sa.CheckConstraint("status != 'failed' OR message IS NOT NULL", name="failed_has_message"),
        sa.CheckConstraint(
            "processed_rows >= 0 AND imported >= 0 AND skipped >= 0 AND failed >= 0", name="counts_not_negative"
        ),
        sa.Index("ix_import_jobs_status_heartbeat", "status", "heartbeat_at"),
    )

    @property
    def status_label(self) -> str:
        return gettext(IMPORT_STATUS_LABELS[self.status])

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.done, ImportStatus.failed)
