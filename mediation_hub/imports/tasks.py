"""Periodic import housekeeping (job ``imports.abandoned`` in scheduler.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..core.db import affected_rows
from ..extensions import db
from .models import ImportJob, ImportStatus

ABANDONED_MESSAGE = (
    "导入进程已中断，请重新上传该文件（已导入的行会被跳过）"
    " (the process running this import stopped; upload the file again, imported rows are skipped)"
)


def fail_abandoned_imports(now: datetime) -> int:
    """Mark as failed the jobs whose process stopped: running without a heartbeat, or never started (no queue), for
    ``IMPORT_STALE_MINUTES`` (default 15). Returns how many."""
    limit = now - timedelta(minutes=int(current_app.config.get("IMPORT_STALE_MINUTES", 15)))
    stale = sa.and_(ImportJob.status == ImportStatus.running, ImportJob.heartbeat_at < limit)
    if not current_app.config.get("QUEUE_URL"):  # in a queue a job may wait its turn; in-process, never started
        stale = sa.or_(stale, sa.and_(ImportJob.status == ImportStatus.queued, ImportJob.created_at < limit))
    result = db.session.execute(
        sa.update(ImportJob)
        .where(stale)
        .values(
            status=ImportStatus.failed,
            message=ABANDONED_MESSAGE,
            finished_at=now,
            started_at=sa.func.coalesce(ImportJob.started_at, now),
        )
    )
    return affected_rows(result)
