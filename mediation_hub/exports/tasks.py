"""Export housekeeping (job ``exports.cleanup`` in scheduler.py): give up jobs whose process stopped, delete
expired files with their jobs, and remove files no finished job points to (a partial file left by a crash)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..core.db import affected_rows
from ..extensions import db
from .models import ExportJob, ExportStatus
from .service import ABANDONED_MESSAGE, FINAL_PREFIX, PARTIAL_PREFIX, exports_dir, keep_for

log = logging.getLogger("mediation_hub.exports")
_JOB_OF_FILE = re.compile(r"^(?:" + re.escape(PARTIAL_PREFIX) + "|" + re.escape(FINAL_PREFIX) + r")(\d+)-")


def _stale_limit(now: datetime) -> datetime:
    return now - timedelta(minutes=int(current_app.config.get("EXPORT_STALE_MINUTES", 15)))


def fail_abandoned_exports(now: datetime) -> int:
    """Mark as failed the jobs whose process stopped: running without a heartbeat, or never started (no queue), for
    ``EXPORT_STALE_MINUTES`` (default 15). Returns how many."""
    limit = _stale_limit(now)
    stale = sa.and_(ExportJob.status == ExportStatus.running, ExportJob.heartbeat_at < limit)
    if not current_app.config.get("QUEUE_URL"):  # in a queue a job may wait its turn; in-process, never started
        stale = sa.or_(stale, sa.and_(ExportJob.status == ExportStatus.queued, ExportJob.created_at < limit))
    result = db.session.execute(
        sa.update(ExportJob)
        .where(stale)
        .values(
            status=ExportStatus.failed,
            message=ABANDONED_MESSAGE,
            finished_at=now,
            started_at=sa.func.coalesce(ExportJob.started_at, now),
        )
    )
    return affected_rows(result)


def delete_expired_exports(now: datetime) -> int:
    """Delete finished exports past their ``expires_at`` (failed ones ``EXPORT_KEEP_HOURS`` after they ended),
    the rows first, then their files. Returns how many."""
    expired = sa.or_(
        sa.and_(ExportJob.status == ExportStatus.done, ExportJob.expires_at <= now),
        sa.and_(ExportJob.status == ExportStatus.failed, ExportJob.finished_at <= now - keep_for()),
    )
    jobs = db.session.execute(sa.select(ExportJob.id, ExportJob.file_path).where(expired)).all()
    if jobs:
        db.session.execute(sa.delete(ExportJob).where(ExportJob.id.in_([job.id for job in jobs])))
    for job in jobs:
        if job.file_path:
            _remove(job.file_path)
    return len(jobs)


def remove_stray_files(now: datetime) -> int:
    """Remove files in ``EXPORT_DIR`` that no one can download and no job is still writing: a partial file
    whose job is no longer queued or running, a complete file no finished job points to (a crash between the
    rename and the commit) once it is older than ``EXPORT_STALE_MINUTES``. Returns how many."""
    directory = exports_dir()
    live = set(
        db.session.scalars(
            sa.select(ExportJob.id).where(ExportJob.status.in_((ExportStatus.queued, ExportStatus.running)))
        )
    )
    kept = {
        str(p) for p in db.session.scalars(sa.select(ExportJob.file_path).where(ExportJob.status == ExportStatus.done))
    }
    limit = _stale_limit(now).timestamp()
    removed = 0
    for path in directory.iterdir():
        match = _JOB_OF_FILE.match(path.name)
        if match is None or not path.is_file():
            continue
        if path.name.startswith(PARTIAL_PREFIX):
            stray = int(match[1]) not in live
        else:
            stray = str(path) not in kept and path.stat().st_mtime < limit
        if stray and _remove(path):
            removed += 1
    return removed


def _remove(path: str | Path) -> bool:
    try:
        Path(path).unlink()
    except FileNotFoundError:
        return False
    except OSError:
        log.exception("export file %s could not be deleted", path)
        return False
    return True


def clean_up_exports(now: datetime) -> int:
    """The periodic export housekeeping: abandoned jobs, expired files, stray files. Returns how many of each
    together."""
    return fail_abandoned_exports(now) + delete_expired_exports(now) + remove_stray_files(now)
