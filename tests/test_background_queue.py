"""Background work off the web process (core/background.py): with ``QUEUE_URL`` an import or an export asked for
through the API is queued in Redis and run by a real ``mediation-hub worker`` subprocess; a work-horse or a whole
worker killed mid-import resumes the job from its committed batches; without a queue the job runs in a thread
of the process, as before.

Redis at 127.0.0.1:6379 (db 14, keys named with a prefix of the test's own, deleted afterwards); the database is
the session's (SQLite file, or PostgreSQL with MEDIATION_HUB_TEST_DATABASE_URL), committed for real."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from redis import Redis

from mediation_hub.cases.models import Case, CaseStatus
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.uow import transaction
from mediation_hub.exports.models import ExportJob, ExportStatus
from mediation_hub.extensions import db
from mediation_hub.imports import jobs
from mediation_hub.imports.models import ImportJob, ImportStatus
from mediation_hub.imports.service import import_file
from mediation_hub.imports.tasks import ABANDONED_MESSAGE
from tests.conftest import TEST_KEYS
from tests.import_samples import row, write_csv

REDIS_URL = "redis://127.0.0.1:6379/14"
WORKER = str(Path(sys.executable).with_name("mediation-hub"))
ROWS = 3000  # enough batches (500 rows each) to kill a run between two of them


@pytest.fixture
def queue(app, monkeypatch, tmp_path):
    """The app queues its jobs in Redis under a prefix of this test's own; ``env`` starts a worker like it."""
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    settings = {
        "QUEUE_URL": REDIS_URL,
        "QUEUE_PREFIX": prefix,
        "IMPORT_DIR": str(tmp_path / "imports"),
        "EXPORT_DIR": str(tmp_path / "exports"),
    }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MEDIATION_HUB_")}
    env.update({f"MEDIATION_HUB_{key}": value for key, value in TEST_KEYS.items()})
    env.update(
        MEDIATION_HUB_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        MEDIATION_HUB_QUEUE_URL=REDIS_URL,
        MEDIATION_HUB_QUEUE_PREFIX=prefix,
        MEDIATION_HUB_EXPORT_DIR=settings["EXPORT_DIR"],
    )
    redis = Redis.from_url(REDIS_URL)
    yield SimpleNamespace(prefix=prefix, env=env, redis=redis)
    for key in redis.scan_iter(f"*{prefix}*"):
        redis.delete(key)
    for registry in ("rq:queues", "rq:workers"):  # sets of every queue and worker: take out this test's
        redis.srem(registry, *[m for m in redis.smembers(registry) if prefix.encode() in m] or [b""])
    redis.close()


def run_worker(queue, *queues: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [WORKER, "worker", "--burst", "--queue", ",".join(queues)],
        env=queue.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result


# A worker whose import stores each batch only after a pause (its work-horses are forks of it, so they inherit the
# pause): a test can then kill a run between two committed batches however fast the machine imports 3,000 rows.
PAUSED_WORKER = """
import importlib, sys, time
import mediation_hub
for name in mediation_hub.MODEL_MODULES:  # every model first, as create_app loads them
    importlib.import_module(f"mediation_hub.{name}")
from mediation_hub.imports import service
pause, store = float(sys.argv.pop(1)), service._Importer.finish_batch
def finish_batch(self, batch):
    time.sleep(pause)
    store(self, batch)
service._Importer.finish_batch = finish_batch
from mediation_hub.cli import main
sys.argv[0] = "mediation-hub"
main()
"""


def start_worker(queue, *queues: str, batch_pause: float = 0.5) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PAUSED_WORKER, str(batch_pause), "worker", "--burst", "--queue", ",".join(queues)],
        env=queue.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def upload(api, org_id: int, path: Path):
    data = {
        "organization_id": str(org_id),
        "source_system": "county-x",
        "file": (io.BytesIO(path.read_bytes()), "历史.csv"),
    }
    response = api.post("/api/v1/imports/cases", data=data, content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    return response.json


def many_rows(tmp_path: Path, count: int = ROWS) -> Path:
    return write_csv(tmp_path / "many.csv", [row(f"K{i:05d}") for i in range(count)])


def import_job(job_id: int) -> SimpleNamespace:
    """The job row as it is now (a copy: the read's transaction ends at once, so the next read sees more)."""
    db.session.expire_all()
    job = db.session.get_one(ImportJob, job_id)
    copy = SimpleNamespace(**{column.key: getattr(job, column.key) for column in sa.inspect(ImportJob).column_attrs})
    db.session.rollback()
    return copy


def set_status(job_id: int, status: ImportStatus) -> None:
    db.session.execute(
        sa.update(ImportJob).where(ImportJob.id == job_id).values(status=status, started_at=sa.func.current_timestamp())
    )
    db.session.commit()


def cases_of(org_id: int) -> tuple[int, int]:
    """(cases, distinct source numbers) of an organisation."""
    counted = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(Case.source_number))).where(Case.organization_id == org_id)
    ).one()
    db.session.rollback()
    return tuple(counted)


def wait_for_progress(job_id: int, worker: subprocess.Popen) -> ImportJob:
    """The job once a batch or more, not all, are committed by the worker."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = import_job(job_id)
        if job.status == ImportStatus.running and 0 < job.processed_rows < ROWS:
            return job
        assert job.status in (ImportStatus.queued, ImportStatus.running), (job.status, job.message)
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.02)
    raise AssertionError("the import made no progress")


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def background_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("import-job-", "export-job-"))]


def assert_imported_once(job_id: int, org_id: int) -> None:
    job = import_job(job_id)
    assert (job.status, job.total_rows, job.imported, job.skipped, job.failed) == (ImportStatus.done, ROWS, ROWS, 0, 0)
    assert job.upload_path is None and job.message is None
    assert Path(job.error_report).read_text(encoding="utf-8-sig").count("\n") == 1  # the header: no row failed
    assert cases_of(org_id) == (ROWS, ROWS)  # every row once: nothing half-written, nothing twice


# --- through the queue ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.real_commits
def test_an_import_asked_through_the_api_runs_in_a_worker(queue, api_as, make_org, tmp_path):
    org = make_org()
    api = api_as(role=Role.admin)
    job = upload(api, org.id, write_csv(tmp_path / "two.csv", [row("W1"), row("W2")]))

    # the web process only queued it: no thread, the job waits in Redis
    assert job["status"] == "queued" and background_threads() == []
    time.sleep(0.2)
    assert import_job(job["id"]).status == ImportStatus.queued
    assert queue.redis.llen(f"rq:queue:{queue.prefix}imports") == 1

    run_worker(queue, "imports")
    done = api.get(f"/api/v1/imports/{job['id']}").json
    assert (done["status"], done["imported"], done["skipped"], done["failed"]) == ("done", 2, 0, 0)
    assert cases_of(org.id) == (2, 2)
    assert queue.redis.llen(f"rq:queue:{queue.prefix}imports") == 0


@pytest.mark.slow
@pytest.mark.real_commits
def test_an_export_asked_through_the_api_runs_in_a_worker(queue, api_as, make_user, make_org, make_case):
    mediator = make_user(role=Role.mediator, organization=make_org())
    numbers = sorted(make_case(mediator.organization, CaseStatus.registered).number for _ in range(3))
    db.session.commit()
    api = api_as(mediator)
    response = api.post("/api/v1/cases/exports", json={"format": "csv"})
    assert response.status_code == 202, response.json
    job = response.json
    assert job["status"] == "queued" and background_threads() == []

    # a worker on the imports queue alone leaves it waiting; one on the exports queue runs it
    run_worker(queue, "imports")
    assert api.get(f"/api/v1/exports/{job['id']}").json["status"] == "queued"
    run_worker(queue, "exports")
    done = api.get(f"/api/v1/exports/{job['id']}").json
    assert (done["status"], done["rows_written"]) == ("done", 3)
    lines = list(csv.reader(io.StringIO(api.get(done["file_url"]).get_data().decode("utf-8-sig"))))
    assert sorted(line[0] for line in lines[1:]) == numbers


@pytest.mark.slow
@pytest.mark.real_commits
def test_a_killed_work_horse_resumes_the_import_from_its_committed_batches(queue, api_as, make_org, tmp_path):
    org = make_org()
    job = upload(api_as(role=Role.admin), org.id, many_rows(tmp_path))
    worker = start_worker(queue, "imports")
    try:
        seen = wait_for_progress(job["id"], worker)
        [horse] = children(worker.pid)
        os.kill(horse, signal.SIGKILL)
        output, _ = worker.communicate(timeout=300)
    finally:
        worker.kill()
    assert worker.returncode == 0, output
    assert "Work-horse terminated unexpectedly" in output and "(signal 9)" in output
    assert 0 < seen.imported < ROWS  # killed with part of the file in
    assert_imported_once(job["id"], org.id)


@pytest.mark.slow
@pytest.mark.real_commits
def test_an_import_of_a_dead_worker_is_resumed_by_another_worker(queue, api_as, make_org, tmp_path):
    org = make_org()
    job = upload(api_as(role=Role.admin), org.id, many_rows(tmp_path))
    worker = start_worker(queue, "imports")
    try:
        wait_for_progress(job["id"], worker)
        [horse] = children(worker.pid)
        for pid in (worker.pid, horse):  # the host goes down: the worker and its horse at once
            os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        worker.kill()
    stopped = import_job(job["id"])
    imported_before = cases_of(org.id)[0]
    assert stopped.status == ImportStatus.running and 0 < imported_before < ROWS
    assert imported_before % 500 == 0  # whole batches only

    # The dead worker's heartbeat keeps the job in RQ's started registry for about 90 s; age it at once.
    started = f"rq:wip:{queue.prefix}imports"
    assert queue.redis.zcard(started) == 1
    queue.redis.zadd(started, dict.fromkeys(queue.redis.zrange(started, 0, -1), 1))
    run_worker(queue, "imports")  # its clean-up at start finds the job abandoned: resumed (else it stays running)
    assert_imported_once(job["id"], org.id)


@pytest.mark.real_commits
def test_a_job_lost_once_too_often_fails_cleanly(app, make_org, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    org = make_org()
    job = jobs.create_job(
        SYSTEM, organization_id=org.id, filename="a.csv", upload=io.BytesIO(many_rows(tmp_path, 3).read_bytes())
    )
    db.session.commit()
    job_id, upload_path = job.id, Path(job.upload_path)
    set_status(job_id, ImportStatus.running)

    with transaction():
        jobs.lost_job(job_id, retry=True)
    assert import_job(job_id).status == ImportStatus.queued  # resumed by the next run

    set_status(job_id, ImportStatus.running)
    with transaction():
        jobs.lost_job(job_id, retry=False)
    given_up = import_job(job_id)
    assert (given_up.status, given_up.message, given_up.upload_path) == (ImportStatus.failed, ABANDONED_MESSAGE, None)
    assert given_up.finished_at is not None and not upload_path.exists()  # personal data in clear: gone


def test_a_resumed_run_counts_its_own_rows_and_still_finds_duplicates(make_org, tmp_path):
    """The same run (a job's) again over a file whose first rows it committed before it was killed: those rows
    count as imported, a later row repeating one of them is still a duplicate, a new row is imported."""
    org = make_org()
    first = write_csv(tmp_path / "first.csv", [row("R1"), row("R2")])
    whole = write_csv(tmp_path / "whole.csv", [row("R1"), row("R2"), row("R3"), row("R1")])
    import_file(first, org.id, SYSTEM, source_system="county-x", run="job-77")
    summary = import_file(whole, org.id, SYSTEM, source_system="county-x", run="job-77")
    assert (summary.total, summary.imported, summary.skipped, summary.failed) == (4, 3, 0, 1)
    assert [(f.row, f.source_number) for f in summary.failures] == [(5, "R1")]
    # another run (an upload of the same file again) skips what is in
    again = import_file(whole, org.id, SYSTEM, source_system="county-x", run="job-78")
    assert (again.imported, again.skipped, again.failed) == (0, 4, 0)


# --- without a queue --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.real_commits
@pytest.mark.parametrize("url", [None, "redis://127.0.0.1:1/14"], ids=["no queue", "redis out of reach"])
def test_without_a_queue_the_import_runs_in_a_thread_of_the_process(app, api_as, make_org, monkeypatch, tmp_path, url):
    monkeypatch.setitem(app.config, "QUEUE_URL", url)
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    org = make_org()
    job = upload(api_as(role=Role.admin), org.id, write_csv(tmp_path / "two.csv", [row("T1"), row("T2")]))
    deadline = time.monotonic() + 60
    while import_job(job["id"]).status != ImportStatus.done:
        assert time.monotonic() < deadline, import_job(job["id"]).message
        time.sleep(0.05)
    assert (import_job(job["id"]).imported, cases_of(org.id)) == (2, (2, 2))


@pytest.mark.real_commits
def test_a_queued_export_waits_its_turn_and_a_queued_import_too(app, make_org, make_user, monkeypatch):
    """In a queue a job may wait longer than the stale limit: the periodic check gives up only running jobs
    without a heartbeat; without a queue a job queued that long was never started and is given up."""
    from datetime import timedelta

    from mediation_hub.core.db import utcnow
    from mediation_hub.exports import service as export_service
    from mediation_hub.exports import tasks as export_tasks
    from mediation_hub.imports import tasks as import_tasks

    org = make_org()
    user = make_user(role=Role.mediator, organization=org)
    old = utcnow() - timedelta(minutes=30)
    imp = ImportJob(organization_id=org.id, source_system="x", filename="a.csv", status=ImportStatus.queued)
    exp = export_service._queue(
        user.to_actor(), fmt="csv", filters={}, audit_filters={}, remote_addr=None, rows_expected=1
    )
    db.session.add(imp)
    db.session.flush()
    imp.created_at = exp.created_at = old
    db.session.commit()
    monkeypatch.setitem(app.config, "QUEUE_URL", REDIS_URL)
    assert import_tasks.fail_abandoned_imports(utcnow()) == 0 and export_tasks.fail_abandoned_exports(utcnow()) == 0
    monkeypatch.setitem(app.config, "QUEUE_URL", None)
    assert import_tasks.fail_abandoned_imports(utcnow()) == 1 and export_tasks.fail_abandoned_exports(utcnow()) == 1
    db.session.commit()
    assert (db.session.get(ImportJob, imp.id).status, db.session.get(ExportJob, exp.id).status) == (
        ImportStatus.failed,
        ExportStatus.failed,
    )
