"""Work that outlives the request that asked for it (an import, a large export): the one place that dispatches it.

A job row is committed first (the caller starts it from ``core.uow.after_commit``); the job then runs with its
own application context, database session and unit of work (``transaction()``), committing its progress to the
row as it goes (``commit_batch``), so any process can answer the progress page from the table. Where it runs:

- ``QUEUE_URL`` unset (``make run``, SQLite, one process): in a daemon thread of the process that committed the
  row, as before; nothing else needs to run.
- ``QUEUE_URL`` set (``redis://...``): the job is put on an RQ queue in Redis (``imports``, ``exports``, named
  with the ``QUEUE_PREFIX``) and run by ``mediation-hub worker`` processes, any number on any host
  (``work``). A worker makes the app once and forks a work-horse per job (RQ's model): the horse drops the
  database connections it inherited and runs the job in a fresh app context; a crash of the job (a segfault,
  the OOM killer) takes the horse, never the worker.
- ``inline`` (tests that keep everything in one rolled-back transaction): in the caller's thread and session,
  as a unit of work of its own.

A job that can be resumed gives ``lost``: ``lost(job_id, retry)`` is called when a run of the job ended
without finishing it — its horse killed (the worker saw it die), its whole worker gone (another worker finds
the job abandoned in RQ's started-job registry once the dead worker's heartbeat has expired) or an exception
out of the run. With ``retry`` the domain turns its row back to queued and RQ runs the job again
(``RESUMES`` times at most); without, it marks the row failed with a clear message. Without a queue, or when
no worker is left to notice, the job's heartbeat stops moving and the domain's periodic task marks it failed
(``imports.tasks``, ``exports.tasks``)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from importlib import import_module
from typing import TYPE_CHECKING

from flask import Flask, current_app, has_app_context

from ..extensions import db
from .uow import transaction

if TYPE_CHECKING:
    from redis import Redis
    from rq.job import Job

log = logging.getLogger("mediation_hub.background")
RESUMES = 2  # runs after the first when a run is lost (a killed horse, a dead worker)
QUEUES = ("imports", "exports", "federation")

_worker_app: Flask | None = None  # the app of this worker process (``work``), inherited by its horses
_connections: dict[str, Redis] = {}


def start(
    app: Flask,
    run: Callable[[int], object],
    job_id: int,
    *,
    name: str,
    queue: str,
    inline: bool = False,
    lost: Callable[[int, bool], object] | None = None,
) -> None:
    """Run ``run(job_id)`` for a committed job: at once when ``inline``, on the RQ queue ``queue`` when
    ``QUEUE_URL`` is set (in a thread of this process if Redis cannot be reached), else in a daemon thread named
    ``name-job_id``; what the run leaves pending commits when it ends."""
    if inline:
        with transaction():
            run(job_id)
        return
    url = app.config.get("QUEUE_URL")
    if url:
        try:
            _enqueue(app, url, queue, run, job_id, lost)
            return
        except Exception:  # Redis out of reach: the job runs here rather than wait in a queue nobody reads
            log.exception("background job %s %s could not be queued; running it in this process", queue, job_id)
    thread = threading.Thread(target=_run_in_app, args=(app, run, job_id), name=f"{name}-{job_id}", daemon=True)
    thread.start()


def _run_in_app(app: Flask, run: Callable[[int], object], job_id: int, *, forked: bool = False) -> None:
    with app.app_context():
        if forked:  # a work-horse: the parent's pooled connections are not this process's to use
            for engine in db.engines.values():
                engine.dispose(close=False)
        try:
            with transaction():
                run(job_id)
        finally:
            db.session.remove()


# --- the queue ---------------------------------------------------------------------------------------------------


def queue_name(app: Flask, queue: str) -> str:
    return f"{app.config.get('QUEUE_PREFIX') or ''}{queue}"


def redis_connection(url: str) -> Redis:
    """One client (and its connection pool) per URL and process."""
    if url not in _connections:
        from redis import Redis

        _connections[url] = Redis.from_url(url, socket_connect_timeout=5)
    return _connections[url]


def _dotted(function: Callable[..., object]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def _resolve(dotted: str) -> Callable[..., object]:
    module, _, name = dotted.rpartition(".")
    function: Callable[..., object] = getattr(import_module(module), name)
    return function


def _enqueue(
    app: Flask,
    url: str,
    queue: str,
    run: Callable[[int], object],
    job_id: int,
    lost: Callable[[int, bool], object] | None,
) -> None:
    from rq import Queue, Retry
    from rq.job import Callback

    name = queue_name(app, queue)
    Queue(name, connection=redis_connection(url)).enqueue(
        perform,
        _dotted(run),
        job_id,
        _dotted(lost) if lost is not None else None,
        job_id=f"{name}-{job_id}-{uuid.uuid4().hex[:12]}",
        description=f"{queue} {job_id}",
        job_timeout=int(app.config.get("QUEUE_JOB_TIMEOUT_MINUTES", 360)) * 60,
        retry=Retry(max=RESUMES) if lost is not None else None,
        on_failure=Callback(_run_failed),
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
    )


def perform(target: str, job_id: int, lost: str | None = None) -> None:
    """What a work-horse runs (enqueued by ``start``): ``target(job_id)`` in a fresh app context of the worker's
    app. ``lost`` travels with the job for ``_attempt_lost``."""
    if _worker_app is None:
        raise RuntimeError("background jobs run in `mediation-hub worker` processes")
    _run_in_app(_worker_app, _resolve(target), job_id, forked=True)


def _run_failed(job: Job, connection: object, *exc_info: object) -> None:
    """RQ's failure callback: an exception out of the run (in the horse) or the job found abandoned (a dead
    worker, in the worker that cleans the registry up)."""
    _attempt_lost(job)


def _horse_killed(job: Job, retpid: int, ret_val: int, rusage: object) -> None:
    """The worker saw the horse running ``job`` die (SIGKILL, the OOM killer, a crash)."""
    log.warning("background job %s: its work-horse %s ended with status %s", job.id, retpid, ret_val)
    _attempt_lost(job)


def _attempt_lost(job: Job) -> None:
    """Tell the domain that a run of its job ended unfinished: ``retry`` when RQ will run it again (decided just
    after this from the same ``retries_left``)."""
    if job.func_name != _dotted(perform) or len(job.args) < 3 or not job.args[2]:
        return
    target, job_id, lost = job.args[:3]
    app = _worker_app or (current_app._get_current_object() if has_app_context() else None)  # type: ignore[attr-defined]
    if app is None:
        log.error("background job %s (%s %s) lost outside a worker: left to the periodic check", job.id, target, job_id)
        return
    with app.app_context():
        try:
            with transaction():
                _resolve(str(lost))(int(job_id), job.should_retry)
        finally:
            db.session.remove()


def work(app: Flask, queues: Iterable[str], *, burst: bool = False, name: str | None = None) -> bool:
    """Run an RQ worker on ``queues`` (prefixed) until stopped, or until they are empty with ``burst``; the
    worker keeps ``app`` for the jobs its horses run. Returns whether it ran any job."""
    from rq import Queue, Worker

    global _worker_app
    url = app.config.get("QUEUE_URL")
    if not url:
        raise RuntimeError("MEDIATION_HUB_QUEUE_URL is not set: without a queue the jobs run in the web process")
    _worker_app = app
    connection = redis_connection(url)
    prefix = app.config.get("QUEUE_PREFIX") or ""
    worker = Worker(
        [Queue(queue_name(app, queue), connection=connection) for queue in queues],
        connection=connection,
        name=name or f"{prefix}{socket.gethostname()}-{os.getpid()}",
        work_horse_killed_handler=_horse_killed,
    )
    result: bool = worker.work(burst=burst)
    return result
