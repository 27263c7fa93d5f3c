"""Exporting the case list: in the request when it is small, as a background job when it is not.

``export_case_list`` counts the list first (one COUNT in SQL). Up to ``EXPORT_STREAM_ROWS`` cases the whole
file is built in the request (in memory, or a temporary file beyond a few MB) and the audit row is written
once its last row is in; the request commits, then the finished file is sent with its length. Above that, a job
is queued (``queue_case_list_export``, also what the API always does) and, once the request has committed it,
``run_export`` writes the file in a ``mediation-hub worker`` process, or in a thread of the same process when no
queue is configured (``core.background``, as the import runs), as a unit of work of its own that commits its
claim and progress as it goes, under a temporary name in ``EXPORT_DIR`` (``instance/exports``), renamed into
place only when complete; the job becomes ``done`` and the audit row ``personal_data_exported`` is written in
the same transaction. A job that fails or whose process
dies leaves no file anyone can download and no audit row. Only the user who asked sees the job and its file
(404 for everybody else, administrators included); the file is deleted ``EXPORT_KEEP_HOURS`` after it is done
(``exports.tasks``)."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import Flask, current_app

from ..audit import service as audit
from ..auth.models import User
from ..cases import service as cases
from ..cases.export import case_rows, count_cases, export_filename, write_case_list
from ..cases.models import Case
from ..core import background
from ..core.actor import Actor
from ..core.db import affected_rows, utcnow
from ..core.export import MIMETYPES, XLSX_MAX_ROWS, spooled_file
from ..core.i18n import N_
from ..core.messages import coded
from ..core.pii import decrypt, encrypt
from ..core.shanghai import SHANGHAI, today_shanghai
from ..core.uow import after_commit, commit_batch
from ..errors import DomainError, NotFound, StateConflict, ValidationFailed
from ..extensions import db
from .models import ExportFormat, ExportJob, ExportKind, ExportStatus

log = logging.getLogger("mediation_hub.exports")
PARTIAL_PREFIX = ".partial-"
FINAL_PREFIX = "export-"
PROGRESS_EVERY = 500  # rows between two progress records (one short write each)
MAX_UNFINISHED_PER_USER = 3
MESSAGE_MAX = 2000
DATE_FILTERS = ("date_from", "date_to")
INTERNAL_ERROR = N_("导出过程中出现内部错误，请重新导出")  # stored on the job; the page translates it
ABANDONED_MESSAGE = N_("导出进程已中断，请重新导出")  # stored on the job; the page translates it


def exports_dir() -> Path:
    """Where export files are written: ``EXPORT_DIR``, by default ``instance/exports``."""
    path = Path(current_app.config.get("EXPORT_DIR") or Path(current_app.instance_path) / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_for() -> timedelta:
    """How long a finished export stays downloadable (``EXPORT_KEEP_HOURS``)."""
    return timedelta(hours=int(current_app.config.get("EXPORT_KEEP_HOURS", 24)))


# --- filters ----------------------------------------------------------------------------------------------


def _seal(filters: dict[str, Any]) -> str:
    def plain(value: object) -> str:
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"a filter value of type {type(value).__name__} cannot be stored")

    return encrypt(json.dumps(filters, default=plain, ensure_ascii=False, sort_keys=True))


def _unseal(sealed: str) -> dict[str, Any]:
    filters: dict[str, Any] = json.loads(decrypt(sealed))
    for key in DATE_FILTERS:
        if filters.get(key):
            filters[key] = date.fromisoformat(filters[key])
    return filters


def searchable_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The list's filters with a full ID number or phone in ``q`` replaced by its keyed hash ``person_hash``
    (what the list page's form passes; the API may send the number in a body)."""
    searched = cases.searched_number(filters.get("q"))
    if searched is None:
        return filters
    return {**filters, "q": None, "person_hash": filters.get("person_hash") or searched.hash}


def _case_search(actor: Actor, filters: dict[str, Any], *, field_prefix: str = "") -> sa.Select[tuple[Case]]:
    """The list's search for ``filters``; a filter it refuses is named (``filters.region_code`` in the API)."""
    try:
        return cases.search_cases(actor, **filters)
    except ValidationFailed as exc:
        raise ValidationFailed({f"{field_prefix}{key}": messages for key, messages in exc.errors.items()}) from exc


def _check_size(fmt: str, rows: int) -> None:
    if fmt == ExportFormat.xlsx and rows > XLSX_MAX_ROWS:
        raise ValidationFailed(
            {
                "format": [
                    coded(
                        "xlsx_too_many_rows",
                        "xlsx 文件最多容纳 %(max)s 行，本次有 %(rows)s 行：请导出 csv 或缩小筛选范围",
                        max=f"{XLSX_MAX_ROWS:,}",
                        rows=f"{rows:,}",
                    )
                ]
            }
        )


# --- deciding and queueing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltExport:
    """A small export built in the request: the complete file (at its start), its name, type and rows."""

    file: BinaryIO
    filename: str
    mimetype: str
    rows: int


def export_case_list(
    actor: Actor, *, fmt: str, filters: dict[str, Any], audit_filters: dict[str, str], remote_addr: str | None = None
) -> BuiltExport | ExportJob:
    """The case list for ``filters`` (as the list passes them to ``search_cases``) in ``fmt``: built now when it
    has at most ``EXPORT_STREAM_ROWS`` cases (audited once its last row is written), otherwise a queued job
    (the caller calls ``start``: the job runs once it is committed). Flushes, never commits."""
    filters = searchable_filters(filters)
    stmt = _case_search(actor, filters)
    rows = count_cases(stmt)
    _check_size(fmt, rows)
    if rows > int(current_app.config.get("EXPORT_STREAM_ROWS", 5000)):
        return _queue(
            actor, fmt=fmt, filters=filters, audit_filters=audit_filters, remote_addr=remote_addr, rows_expected=rows
        )
    today = today_shanghai()
    handle = spooled_file()
    try:
        written = write_case_list(handle, stmt, fmt, today)
        _record_export(actor, fmt=fmt, rows=written, audit_filters=audit_filters, remote_addr=remote_addr)
    except BaseException:
        handle.close()
        raise
    return BuiltExport(handle, export_filename(fmt, today), MIMETYPES[fmt], written)


def queue_case_list_export(
    actor: Actor, *, fmt: str, filters: dict[str, Any], audit_filters: dict[str, str], remote_addr: str | None = None
) -> ExportJob:
    """A background export of the case list, whatever its size (the API's way); the filters are checked now
    (422 naming ``filters.<field>``); a full ID number or phone in ``q`` is kept as its keyed hash, as the list
    page passes it. Flushes, never commits; the caller calls ``start`` (the job runs once it is committed)."""
    filters = searchable_filters(filters)
    stmt = _case_search(actor, filters, field_prefix="filters.")
    rows = count_cases(stmt)
    _check_size(fmt, rows)
    return _queue(
        actor, fmt=fmt, filters=filters, audit_filters=audit_filters, remote_addr=remote_addr, rows_expected=rows
    )


def _queue(
    actor: Actor,
    *,
    fmt: str,
    filters: dict[str, Any],
    audit_filters: dict[str, str],
    remote_addr: str | None,
    rows_expected: int,
) -> ExportJob:
    if actor.user_id is None:
        raise StateConflict(coded("export_needs_user", "导出属于提出它的用户"))
    unfinished = db.session.execute(
        sa.select(sa.func.count())
        .select_from(ExportJob)
        .where(
            ExportJob.created_by_id == actor.user_id, ExportJob.status.in_((ExportStatus.queued, ExportStatus.running))
        )
    ).scalar_one()
    if unfinished >= MAX_UNFINISHED_PER_USER:
        raise StateConflict(
            coded("exports_in_progress", "您已有 %(count)s 个导出正在生成，请等其完成后再导出", count=unfinished)
        )
    job = ExportJob(
        kind=ExportKind.case_list,
        format=ExportFormat(fmt),
        status=ExportStatus.queued,
        filters_sealed=_seal(filters),
        audit_filters=audit_filters,
        rows_expected=rows_expected,
        filename=export_filename(fmt, today_shanghai()),
        remote_addr=remote_addr,
        created_by_id=actor.user_id,
    )
    db.session.add(job)
    db.session.flush()
    return job


def start(app: Flask, export_id: int) -> None:
    """Run a queued job in a background thread once the caller's transaction has committed it (the thread reads
    the row in a session of its own). With ``EXPORT_RUN_INLINE`` (tests that keep one transaction) it runs at
    once, in the caller's thread and session (which see the row before it is committed): the answer shows the
    finished job."""
    if app.config.get("EXPORT_RUN_INLINE"):
        background.start(app, run_export, export_id, name="export-job", queue="exports", inline=True)
    else:
        after_commit(
            partial(background.start, app, run_export, export_id, name="export-job", queue="exports", lost=lost_export)
        )


def lost_export(export_id: int, retry: bool) -> None:
    """A run of the job ended without finishing it (``core.background``: its worker killed): with ``retry`` it is
    queued again and the file written anew (the dead run's partial file goes with the stray files,
    ``exports.tasks``); without, it fails as abandoned. A job no longer running is left as it is."""
    if retry:
        db.session.execute(
            sa.update(ExportJob)
            .where(ExportJob.id == export_id, ExportJob.status == ExportStatus.running)
            .values(status=ExportStatus.queued, rows_written=0)
        )
        return
    db.session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == export_id, ExportJob.status.in_((ExportStatus.queued, ExportStatus.running)))
        .values(status=ExportStatus.failed, message=ABANDONED_MESSAGE, finished_at=utcnow())
    )


def _record_export(
    actor: Actor,
    *,
    fmt: str,
    rows: int,
    audit_filters: dict[str, str],
    remote_addr: str | None,
    export_id: int | None = None,
) -> None:
    detail: dict[str, object] = {"format": fmt, "rows": rows, "filters": audit_filters}
    if export_id is not None:
        detail["export_job"] = export_id
    audit.record(actor, "personal_data_exported", target_type="case_list", remote_addr=remote_addr, detail=detail)


# --- reading -------------------------------------------------------------------------------------------------


def get_export(actor: Actor, export_id: int) -> ExportJob:
    """The export if the actor asked for it, else NotFound (nobody else may know it exists)."""
    job = None
    if actor.user_id is not None:
        job = db.session.scalar(
            sa.select(ExportJob).where(ExportJob.id == export_id, ExportJob.created_by_id == actor.user_id)
        )
    if job is None:
        raise NotFound("export")
    return job


def open_download(actor: Actor, export_id: int) -> tuple[BinaryIO, str, str]:
    """The finished file, opened, with its download name and type: 409 while it is being written, 404 once it
    has expired (or for anyone but the user who asked)."""
    job = get_export(actor, export_id)
    if job.status != ExportStatus.done:
        raise StateConflict(coded("export_not_done", "导出尚未完成，完成后才能下载"))
    # a done job has its file and expiry (CHECK file_only_when_done, done_has_size_and_expiry)
    assert job.file_path is not None and job.expires_at is not None, "a done export has its file"
    if job.expires_at <= utcnow():
        raise NotFound("export file")
    try:
        handle = open(job.file_path, "rb")  # noqa: SIM115 - closed by the response once sent
    except FileNotFoundError as exc:  # expired and deleted meanwhile, or on another host's disk
        raise NotFound("export file") from exc
    return handle, job.filename, MIMETYPES[job.format.value]


# --- running -------------------------------------------------------------------------------------------------


def _claim(export_id: int) -> bool:
    """queued → running, exactly once however many runners try (the UPDATE's condition decides)."""
    now = utcnow()
    claimed = affected_rows(
        db.session.execute(
            sa.update(ExportJob)
            .where(ExportJob.id == export_id, ExportJob.status == ExportStatus.queued)
            .values(status=ExportStatus.running, started_at=now, heartbeat_at=now)
        )
    )
    commit_batch()  # every runner and the progress page see the claim before the file is written
    return claimed == 1


def _update(export_id: int, **values: object) -> None:
    db.session.execute(
        sa.update(ExportJob).where(ExportJob.id == export_id, ExportJob.status == ExportStatus.running).values(**values)
    )
    commit_batch()  # the progress page of any process reads it while the job goes on


def _owner(job: ExportJob) -> Actor:
    user = db.session.get(User, job.created_by_id)
    if user is None or not user.active:
        raise StateConflict(coded("export_owner_inactive", "提出导出的账户已停用"))
    return user.to_actor()


def _with_progress(rows: Iterator[list[object]], export_id: int) -> Iterator[list[object]]:
    for written, row in enumerate(rows, start=1):
        yield row
        if written % PROGRESS_EVERY == 0:
            _update(export_id, rows_written=written, heartbeat_at=utcnow())


def run_export(export_id: int) -> ExportStatus | None:
    """Write a queued job's file, recording progress as it goes; the job is ``done`` (and audited) only with its
    file complete and in place. Runs in a unit of work of its own (``core.background``), which commits the finish;
    the claim and the progress commit on the way. Returns the final status, or None when the job was not queued
    (another runner has it)."""
    if not _claim(export_id):
        return None
    job = db.session.get_one(ExportJob, export_id)  # claimed just now
    fmt, audit_filters, remote_addr = job.format.value, job.audit_filters, job.remote_addr
    name = f"{export_id}-{uuid.uuid4().hex}.{fmt}"
    partial = final = None
    try:
        directory = exports_dir()
        partial, final = directory / f"{PARTIAL_PREFIX}{name}", directory / f"{FINAL_PREFIX}{name}"
        actor = _owner(job)
        stmt = _case_search(actor, _unseal(job.filters_sealed))
        today = job.created_at.astimezone(SHANGHAI).date()
        with open(partial, "wb") as target:
            rows = write_case_list(target, stmt, fmt, today, rows=_with_progress(case_rows(stmt, today), export_id))
            target.flush()
            os.fsync(target.fileno())
        commit_batch()  # end the transaction that read the rows before the one that finishes the job
        os.replace(partial, final)
        _finish(export_id, actor, fmt=fmt, rows=rows, path=final, audit_filters=audit_filters, remote_addr=remote_addr)
    except Exception as exc:  # the job must end recorded as failed, whatever stopped it, and leave no file
        db.session.rollback()
        for path in (partial, final):
            if path is not None:
                path.unlink(missing_ok=True)
        _fail(export_id, exc)
        return ExportStatus.failed
    return ExportStatus.done


def _finish(
    export_id: int,
    actor: Actor,
    *,
    fmt: str,
    rows: int,
    path: Path,
    audit_filters: dict[str, str],
    remote_addr: str | None,
) -> None:
    """running → done with the file, and the audit row, in one transaction (the job's unit of work commits it)."""
    now = utcnow()
    finished = affected_rows(
        db.session.execute(
            sa.update(ExportJob)
            .where(ExportJob.id == export_id, ExportJob.status == ExportStatus.running)
            .values(
                status=ExportStatus.done,
                rows_written=rows,
                file_path=str(path),
                file_size=path.stat().st_size,
                finished_at=now,
                heartbeat_at=now,
                expires_at=now + keep_for(),
            )
        )
    )
    if finished != 1:
        raise StateConflict(coded("export_abandoned", "导出已被放弃"))
    _record_export(actor, fmt=fmt, rows=rows, audit_filters=audit_filters, remote_addr=remote_addr, export_id=export_id)


def _fail(export_id: int, exc: Exception) -> None:
    if isinstance(exc, DomainError):
        message = exc.message
    else:
        message = INTERNAL_ERROR
        log.exception("export job %s failed", export_id)
    now = utcnow()
    try:
        _update(export_id, status=ExportStatus.failed, message=message[:MESSAGE_MAX], finished_at=now, heartbeat_at=now)
    except Exception:  # the database itself is gone: the job stays running until exports.tasks gives it up
        db.session.rollback()
        log.exception("export job %s: the failure could not be recorded", export_id)
