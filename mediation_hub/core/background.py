"""Work that outlives the request that asked for it, the way the import runs its jobs: a job row is committed
first (the caller starts the thread from ``core.uow.after_commit``); then a thread of the same process runs it
with its own application context, database session and unit of work (``transaction()``), committing its progress
to the row as it goes (``commit_batch``), so any process can answer the progress page from the table. With
``inline`` (tests that keep everything in one rolled-back transaction) the job runs in the caller's thread and
session, as a unit of work of its own.

If the process stops (a deploy, a worker recycled), the job's heartbeat stops moving and the domain's periodic
task marks it failed (``imports.tasks``, ``exports.tasks``)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from ..extensions import db
from .uow import transaction


def start(app: Flask, run: Callable[[int], object], job_id: int, *, name: str, inline: bool = False) -> None:
    """Run ``run(job_id)`` for a committed job: in a daemon thread, or at once when ``inline``; what the run
    leaves pending commits when it ends."""
    if inline:
        with transaction():
            run(job_id)
        return
    thread = threading.Thread(target=_run_in_app, args=(app, run, job_id), name=f"{name}-{job_id}", daemon=True)
    thread.start()


def _run_in_app(app: Flask, run: Callable[[int], object], job_id: int) -> None:
    with app.app_context():
        try:
            with transaction():
                run(job_id)
        finally:
            db.session.remove()
