"""Import jobs: an uploaded file imported in the background, its progress kept in ``import_jobs``.

``create_job`` stores the upload under ``instance/imports/`` and checks its header at once (so a wrong file is
refused on the spot; the upload is deleted again if the job row is never committed); once the caller's
transaction has committed the job, ``start_job`` has ``service.import_file`` run with its own app context,
database session and unit of work (``core.background``): in a ``mediation-hub worker`` process when
``QUEUE_URL`` is set, else in a thread of the same process; it commits the progress after every batch. Any
process can then answer the progress page or the API from the table.

A run that dies (its worker killed) is resumed (``lost_job``): the job goes back to queued and runs again; the
rows the dead run committed, batch by batch, are recognised as this job's own (same run, same row) and counted
as imported, the others are imported now. After ``background.RESUMES`` lost runs the job fails with a clear
message. Without a queue, if the process stops (a deploy, a worker recycled), ``imports.tasks.
fail_abandoned_imports`` marks the job failed once its heartbeat is older than ``IMPORT_STALE_MINUTES`` and the
file can simply be uploaded again (rows already imported are skipped). With several hosts, ``instance/imports``
must be shared storage (the upload, the error reports)."""

from __future__ import annotations

import logging
import uuid
from functools import partial
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale

from ..core import background
from ..core.actor import SYSTEM, Actor, Role
from ..core.db import affected_rows, utcnow
from ..core.limits import shown_size, upload_limit
from ..core.messages import coded
from ..core.uow import after_commit, commit_batch, on_rollback, rollback
from ..errors import DomainError, NotFound, StateConflict, ValidationFailed
from ..extensions import db
from ..registry.models import Organization
from ..registry.service import organization_scope
from .models import ImportJob, ImportStatus
from .readers import SUFFIXES, UnusableFile
from .service import ImportProgress, check_header, check_source_system, import_file, import_organization
from .tasks import ABANDONED_MESSAGE

log = logging.getLogger("mediation_hub.imports")
FILENAME_MAX = 255
MESSAGE_MAX = 2000
COPY_CHUNK = 1024 * 1024


def imports_dir() -> Path:
    """Where uploads wait and error reports stay: ``IMPORT_DIR``, by default ``instance/imports``."""
    path = Path(current_app.config.get("IMPORT_DIR") or Path(current_app.instance_path) / "imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- scope --------------------------------------------------------------------------------------------------


def job_scope(actor: Actor) -> sa.ColumnElement[bool]:
    """Jobs an actor sees: all for administrators; a registry administrator's region's; a mediator's own
    organisation's; nobody else's."""
    if actor.is_admin or actor.is_system:
        return sa.true()
    if actor.role == Role.mediator:
        return ImportJob.organization_id == actor.organization_id
    if actor.role == Role.registry_admin:
        return ImportJob.organization_id.in_(sa.select(Organization.id).where(organization_scope(actor)))
    return sa.false()


def jobs_visible_to(actor: Actor) -> sa.Select:
    return sa.select(ImportJob).where(job_scope(actor)).order_by(ImportJob.id.desc())


def get_job(actor: Actor, job_id: int) -> ImportJob:
    """The job if the actor may see it, else NotFound."""
    job = db.session.scalar(jobs_visible_to(actor).where(ImportJob.id == job_id))
    if job is None:
        raise NotFound("import job")
    return job


def error_report_path(actor: Actor, job_id: int) -> Path:
    """The error report of a finished job (a csv; only the header when no row failed)."""
    job = get_job(actor, job_id)
    if not job.finished:
        raise StateConflict(
            coded(
                "import_not_finished",
                "导入尚未完成（当前状态：%(status)s），完成后才有错误报告",
                status=job.status_label,
            )
        )
    if not job.error_report or not Path(job.error_report).exists():
        raise NotFound("error report")
    return Path(job.error_report)


# --- creating and running -------------------------------------------------------------------------------------


def create_job(
    actor: Actor, *, organization_id: int | None, filename: str, upload: BinaryIO, source_system: str | None = None
) -> ImportJob:
    """Queue an import of an uploaded csv/xlsx into an organisation: who may import there, the file's type, size
    and header are checked now (one 422 naming the problem, e.g. the missing columns or the limit the file is
    beyond); flushes, never commits. A refused upload leaves no file behind (nor one that fails otherwise, nor
    one whose job row the caller's transaction does not commit)."""
    org = import_organization(actor, organization_id)
    source_system = check_source_system(source_system)
    filename = Path(filename or "").name[-FILENAME_MAX:]
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationFailed({"file": [coded("unsupported_file_type", "只支持 csv 和 xlsx 文件")]})
    path = imports_dir() / f"upload-{uuid.uuid4().hex}{suffix}"
    try:
        _store_upload(upload, path, upload_limit(current_app.config))
        check_header(path)
        job = ImportJob(
            organization_id=org.id,
            source_system=source_system,
            filename=filename,
            status=ImportStatus.queued,
            upload_path=str(path),
            created_by_id=actor.user_id,
        )
        db.session.add(job)
        db.session.flush()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    on_rollback(partial(path.unlink, missing_ok=True))  # it holds personal data in clear: no file without its job
    return job


def _store_upload(upload: BinaryIO, path: Path, limit: int) -> None:
    """Copy the upload to ``path``, refusing one larger than ``limit`` bytes (the request's own limit stops a
    larger body first; this holds for any caller)."""
    written = 0
    with open(path, "wb") as target:
        while chunk := upload.read(COPY_CHUNK):
            written += len(chunk)
            if written > limit:
                raise UnusableFile(coded("file_too_large", "文件超过 %(size)s", size=shown_size(limit)))
            target.write(chunk)


def start_job(app: Flask, job_id: int) -> None:
    """Run a job ``create_job`` made in a background thread once the caller's transaction has committed it (the
    thread reads the row in a session of its own). With ``IMPORT_RUN_INLINE`` (tests that keep everything in one
    rolled-back transaction) it runs at once, in the caller's thread and session, whose first batch commits the
    job row with it: the answer shows the finished job."""
    if app.config.get("IMPORT_RUN_INLINE"):
        background.start(app, run_job, job_id, name="import-job", queue="imports", inline=True)
    else:
        after_commit(partial(background.start, app, run_job, job_id, name="import-job", queue="imports", lost=lost_job))


def lost_job(job_id: int, retry: bool) -> None:
    """A run of the job ended without finishing it (``core.background``: its worker killed). With ``retry`` the
    job goes back to queued and is resumed; without, it fails with the message of an abandoned import and its
    upload is deleted. A job no longer running (it ended, or was given up) is left as it is."""
    if retry:
        db.session.execute(
            sa.update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status == ImportStatus.running)
            .values(status=ImportStatus.queued)
        )
        return
    upload = db.session.scalar(sa.select(ImportJob.upload_path).where(ImportJob.id == job_id))
    given_up = affected_rows(
        db.session.execute(
            sa.update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status.in_((ImportStatus.queued, ImportStatus.running)))
            .values(status=ImportStatus.failed, message=ABANDONED_MESSAGE, finished_at=utcnow(), upload_path=None)
        )
    )
    if given_up and upload:
        after_commit(partial(Path(upload).unlink, missing_ok=True))


def _claim(job_id: int) -> bool:
    """queued → running, exactly once however many runners try (the UPDATE's condition decides)."""
    now = utcnow()
    claimed = affected_rows(
        db.session.execute(
            sa.update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status == ImportStatus.queued)
            .values(
                status=ImportStatus.running, started_at=sa.func.coalesce(ImportJob.started_at, now), heartbeat_at=now
            )
        )
    )
    commit_batch()  # every runner and the progress page see the claim before the first row is read
    return claimed == 1


def _update(job_id: int, **values) -> None:
    db.session.execute(sa.update(ImportJob).where(ImportJob.id == job_id).values(**values))
    commit_batch()  # the progress page and the API of any process read it while the import goes on


def _actor_of(job: ImportJob) -> Actor:
    return job.created_by.to_actor() if job.created_by is not None else SYSTEM


def run_job(job_id: int) -> ImportStatus | None:
    """Import a queued job's file, recording progress after every batch and the outcome at the end; the upload
    is deleted afterwards (it holds personal data in clear). Runs in a unit of work of its own
    (``core.background``); the claim, the progress and the outcome each commit at once. Returns the final status,
    or None when the job was not queued (another runner has it).

    The row errors and the job's message are stored and read later by anyone, so they are written in the default
    language (Chinese), also when the job runs inside the request of someone reading English."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _run_job(job_id)


def _run_job(job_id: int) -> ImportStatus | None:
    if not _claim(job_id):
        return None
    job = db.session.get_one(ImportJob, job_id)  # claimed just now
    assert job.upload_path is not None  # removed only once the import has run
    upload, actor = Path(job.upload_path), _actor_of(job)
    for unfinished in upload.parent.glob(f"errors-{job_id}-*.csv"):  # of a run that was lost (resumed now)
        unfinished.unlink(missing_ok=True)
    errors_path = upload.with_name(f"errors-{job_id}-{uuid.uuid4().hex[:8]}.csv")

    def progress(step: ImportProgress) -> None:
        _update(
            job_id,
            processed_rows=step.processed_rows,
            progress=step.fraction,
            imported=step.imported,
            skipped=step.skipped,
            failed=step.failed,
            heartbeat_at=utcnow(),
        )

    try:
        summary = import_file(
            upload,
            job.organization_id,
            actor,
            source_system=job.source_system,
            on_progress=progress,
            errors_path=errors_path,
            run=f"job-{job_id}",
            filename=job.filename,
        )
    except Exception as exc:  # the job must end recorded as failed, whatever stopped it
        rollback()
        message = exc.message if isinstance(exc, DomainError) else coded("internal_error", "导入过程中出现内部错误")
        if not isinstance(exc, DomainError):
            log.exception("import job %s failed", job_id)
        _update(
            job_id,
            status=ImportStatus.failed,
            message=message[:MESSAGE_MAX],
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
            error_report=str(errors_path) if errors_path.exists() else None,
        )
        return ImportStatus.failed
    finally:
        upload.unlink(missing_ok=True)
    _update(
        job_id,
        status=ImportStatus.done,
        total_rows=summary.total,
        processed_rows=summary.total,
        progress=1.0,
        imported=summary.imported,
        skipped=summary.skipped,
        failed=summary.failed,
        error_report=str(errors_path),
        upload_path=None,
        finished_at=utcnow(),
        heartbeat_at=utcnow(),
        message=("忽略的列: " + "、".join(summary.ignored_columns)) if summary.ignored_columns else None,
    )
    return ImportStatus.done
