"""Runs of periodic jobs, claimed in the database so that a (job, time slot) runs once in the whole deployment.

Every process that schedules jobs (the embedded scheduler of each web worker, the dedicated
``mediation-hub scheduler`` process, another host) tries to insert the same ``(job_id, slot)`` row;
the UNIQUE constraint lets exactly one insert commit, on SQLite and PostgreSQL alike. The winner runs
the task and commits the task's changes together with the run's outcome."""

from __future__ import annotations

import enum
import logging
import os
import socket
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model, db
from . import uow
from .db import UTCDateTime, affected_rows, enum_column, utcnow

log = logging.getLogger("mediation_hub.scheduler")
ERROR_LIMIT = 4000


class RunStatus(enum.StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class JobRun(Model):
    """One claimed run of a periodic job for one time slot (the scheduled fire time, UTC ISO text)."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    slot: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    claimed_by: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[RunStatus] = mapped_column(
        enum_column(RunStatus, "job_run_status"), nullable=False, default=RunStatus.running
    )
    result_count: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.UniqueConstraint("job_id", "slot"),
        sa.CheckConstraint(
            "(status = 'running' AND finished_at IS NULL AND error IS NULL)"
            " OR (status = 'succeeded' AND finished_at IS NOT NULL AND error IS NULL)"
            " OR (status = 'failed' AND finished_at IS NOT NULL AND error IS NOT NULL)",
            name="status_matches_outcome",
        ),
    )


class RunnableJob(Protocol):
    """What run_job needs from a job definition (scheduler.Job)."""

    @property
    def id(self) -> str: ...

    def slot(self, now: datetime) -> str: ...

    def load(self) -> Callable[[datetime], int | None] | None: ...


def process_name() -> str:
    """host:pid of this process, recorded as the claimant."""
    return f"{socket.gethostname()}:{os.getpid()}"[:160]


def claim(job_id: str, slot: str) -> bool:
    """Claim ``(job_id, slot)`` for this process in its own short transaction (committed at once, so
    every other process sees it). False when another process claimed it first.

    Must be called with no pending work in the session: it commits."""
    db.session.add(JobRun(job_id=job_id, slot=slot, claimed_by=process_name(), status=RunStatus.running))
    try:
        uow.commit()
    except IntegrityError:
        uow.rollback()
        return False
    return True


def _record(job_id: str, slot: str, **values: object) -> None:
    db.session.execute(sa.update(JobRun).where(JobRun.job_id == job_id, JobRun.slot == slot).values(**values))


def run_job(app: Flask, job: RunnableJob, now: datetime | None = None) -> RunStatus | None:
    """Run ``job`` for the slot ``now`` falls in, unless that slot is already claimed.

    The task's changes and the run's outcome commit together; a failing task is rolled back, recorded as
    failed and logged, never raised (the scheduler must keep going). Returns the outcome, or None when
    the slot was already claimed (or the job cannot be loaded)."""
    now = now or utcnow()
    with app.app_context():
        try:
            return _claim_and_run(job, now)
        except Exception:  # the database itself failing: log, keep the scheduler alive
            uow.rollback()
            log.exception("job %s: could not be claimed or recorded", job.id)
            return None
        finally:
            db.session.remove()


def _claim_and_run(job: RunnableJob, now: datetime) -> RunStatus | None:
    task = job.load()
    if task is None:
        return None
    slot = job.slot(now)
    if not claim(job.id, slot):
        log.debug("job %s slot %s already claimed elsewhere", job.id, slot)
        return None
    try:
        # Writing first takes SQLite's write lock before the task reads, so a task that reads then writes
        # cannot deadlock with another process; on PostgreSQL it locks only this run's row.
        _record(job.id, slot, started_at=utcnow())
        count = task(now)
        count = int(count) if count is not None else None
        _record(job.id, slot, status=RunStatus.succeeded, finished_at=utcnow(), result_count=count)
        uow.commit()  # the task's changes with the outcome; then the after-commit work the task registered
    except Exception as exc:
        uow.rollback()
        log.exception("job %s slot %s failed", job.id, slot)
        error = (f"{type(exc).__name__}: {exc}\n" + traceback.format_exc())[:ERROR_LIMIT]
        _record(job.id, slot, status=RunStatus.failed, finished_at=utcnow(), error=error)
        uow.commit()
        return RunStatus.failed
    log.info("job %s slot %s succeeded (%s)", job.id, slot, count)
    return RunStatus.succeeded


RUNS_KEPT_DAYS = 30


def prune_job_runs(now: datetime) -> int:
    """Delete finished runs older than RUNS_KEPT_DAYS (a 5-minute job alone records 288 runs a day).
    Runs still marked running are kept: they show a process that died mid-task."""
    from datetime import timedelta

    cutoff = now - timedelta(days=RUNS_KEPT_DAYS)
    result = db.session.execute(sa.delete(JobRun).where(JobRun.started_at < cutoff, JobRun.status != RunStatus.running))
    return affected_rows(result)
