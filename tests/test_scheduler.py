"""Periodic jobs: claims in the database, failures recorded, settings that move or switch off jobs,
and several processes started at once running each (job, slot) exactly once."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from mediation_hub import scheduler as sched
from mediation_hub.core.jobs import JobRun, RunStatus, claim
from mediation_hub.extensions import db
from mediation_hub.notifications.models import Notification
from mediation_hub.scheduler import Job, build_scheduler, effective_jobs, run_due_jobs

# Slow (scheduler processes started at once): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

# 2025-03-03 09:37:10 in Shanghai.
NOW = datetime(2025, 3, 3, 1, 37, 10, tzinfo=UTC)


# --- tasks used by the tests (loaded by dotted path, as the real ones are) ------------------------------


def counting_task(now):
    """Writes a notification and reports how many it wrote."""
    from mediation_hub.notifications.service import notify

    notify(kind="test", message=f"run at {now:%H:%M}", region_code="110000")
    return 1


def failing_task(now):
    from mediation_hub.notifications.service import notify

    notify(kind="test", message="half done", region_code="110000")
    raise RuntimeError("the partner hub did not answer")


def probe_a(now):
    return _probe("probe.a", now)


def probe_b(now):
    return _probe("probe.b", now)


def _probe(name, now):
    db.session.execute(
        sa.text("INSERT INTO job_probe (job_id, now_text, pid) VALUES (:j, :n, :p)"),
        {"j": name, "n": now.isoformat(), "p": os.getpid()},
    )
    return 1


COUNTING = Job("test.count", "tests.test_scheduler:counting_task", "interval", {"minutes": 5})
FAILING = Job("test.fail", "tests.test_scheduler:failing_task", "interval", {"minutes": 5})
MISSING = Job("test.missing", "mediation_hub.no_such_module.tasks:nothing", "interval", {"minutes": 5})


@pytest.fixture
def scheduler_log(caplog):
    """The scheduler's log records. The app's JSON logging stops them propagating to the root logger, and an
    Alembic upgrade earlier in the session (its fileConfig) disables loggers that already exist."""
    logger = logging.getLogger("mediation_hub.scheduler")
    was_disabled, logger.disabled = logger.disabled, False
    logger.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    yield caplog
    logger.removeHandler(caplog.handler)
    logger.disabled = was_disabled


def _runs(job_id):
    return db.session.scalars(sa.select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.slot)).all()


# --- claims and runs ------------------------------------------------------------------------------------


def test_claim_succeeds_once_per_job_and_slot():
    assert claim("test.count", "2025-03-03T01:35:00Z") is True
    assert claim("test.count", "2025-03-03T01:35:00Z") is False
    assert claim("test.count", "2025-03-03T01:40:00Z") is True  # the next slot is a new claim
    assert claim("test.other", "2025-03-03T01:35:00Z") is True  # another job, same slot
    run = _runs("test.count")[0]
    assert run.status == RunStatus.running and run.claimed_by.endswith(f":{os.getpid()}")


def test_run_commits_task_and_outcome_together_once_per_slot(app):
    assert run_due_jobs(app, NOW, [COUNTING]) == {"test.count": "succeeded"}
    assert run_due_jobs(app, NOW.replace(minute=39), [COUNTING]) == {"test.count": "skipped"}  # same 5-min slot
    assert run_due_jobs(app, NOW.replace(minute=40), [COUNTING]) == {"test.count": "succeeded"}
    runs = _runs("test.count")
    # 09:37:10 Shanghai falls in the 09:35 slot (01:35 UTC); 09:40 opens the next one.
    assert [r.slot for r in runs] == ["2025-03-03T01:35:00Z", "2025-03-03T01:40:00Z"]
    assert [(r.status, r.result_count, r.error) for r in runs] == [(RunStatus.succeeded, 1, None)] * 2
    assert all(r.finished_at >= r.started_at for r in runs)
    assert db.session.scalar(sa.select(sa.func.count()).where(Notification.kind == "test")) == 2


def test_failing_task_is_rolled_back_recorded_and_does_not_stop_the_others(app, scheduler_log):
    outcome = run_due_jobs(app, NOW, [FAILING, COUNTING])
    assert outcome == {"test.fail": "failed", "test.count": "succeeded"}
    [run] = _runs("test.fail")
    assert run.status == RunStatus.failed and run.finished_at is not None
    assert run.error.startswith("RuntimeError: the partner hub did not answer")
    # The failed task's notification was rolled back; the succeeding one's was kept.
    assert db.session.scalars(sa.select(Notification.message).where(Notification.kind == "test")).all() == [
        "run at 01:37"
    ]  # the task gets now in UTC
    assert "job test.fail slot 2025-03-03T01:35:00Z failed" in scheduler_log.text


def test_a_job_whose_task_is_not_there_yet_is_skipped_with_a_warning(app, scheduler_log):
    assert run_due_jobs(app, NOW, [MISSING, COUNTING]) == {"test.count": "succeeded"}
    assert "job test.missing skipped" in scheduler_log.text
    assert _runs("test.missing") == []


# --- slots ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "slot"),
    [
        (Job("j", "m:f", "interval", {"minutes": 15}), "2025-03-03T01:30:00Z"),  # 09:37 -> 09:30
        (Job("j", "m:f", "interval", {"hours": 1}), "2025-03-03T01:00:00Z"),  # 09:37 -> 09:00
        (Job("j", "m:f", "cron", {"hour": 8, "minute": 0}), "2025-03-03T00:00:00Z"),  # today's 08:00 Shanghai
        (Job("j", "m:f", "cron", {"hour": 10, "minute": 0}), "2025-03-02T02:00:00Z"),  # not yet today: yesterday's
        (Job("j", "m:f", "cron", {"crontab": "0 9 * * 1-5"}), "2025-03-03T01:00:00Z"),  # Monday 09:00
        (Job("j", "m:f", "cron", {"crontab": "0 9 1 * *"}), "2025-03-01T01:00:00Z"),  # the 1st of the month
    ],
)
def test_slot_is_the_latest_fire_time_at_or_before_now(job, slot):
    assert job.slot(NOW) == slot


@pytest.mark.parametrize(
    ("weekdays", "slot"),
    [
        ("1-5", "2025-03-03T01:00:00Z"),  # crontab Monday-Friday: Monday 3 March
        ("0", "2025-03-02T01:00:00Z"),  # crontab Sunday = 0: Sunday 2 March
        ("7", "2025-03-02T01:00:00Z"),  # ... or 7
        ("6", "2025-03-01T01:00:00Z"),  # Saturday 1 March
        ("0-2", "2025-03-03T01:00:00Z"),  # Sunday-Tuesday includes Monday
        ("2-4", "2025-02-27T01:00:00Z"),  # Tuesday-Thursday: the previous Thursday, 27 February
        ("sat,sun", "2025-03-02T01:00:00Z"),
    ],
)
def test_crontab_weekdays_count_from_sunday(weekdays, slot):
    assert Job("j", "m:f", "cron", {"crontab": f"0 9 * * {weekdays}"}).slot(NOW) == slot


def test_a_run_exactly_on_the_fire_time_belongs_to_that_slot():
    job = Job("j", "m:f", "interval", {"minutes": 15})
    assert job.slot(datetime(2025, 3, 3, 1, 45, tzinfo=UTC)) == "2025-03-03T01:45:00Z"


# --- settings -------------------------------------------------------------------------------------------


def test_the_job_list_names_every_periodic_task():
    assert {job.id: job.func for job in sched.JOBS} == {
        "transfers.expire": "mediation_hub.transfers.tasks:expire_overdue_transfers",
        "legal_aid.overdue": "mediation_hub.legal_aid.tasks:flag_overdue_legal_aid",
        "cases.reminders": "mediation_hub.cases.tasks:send_case_reminders",
        "reporting.deliver": "mediation_hub.reporting.tasks:deliver_due_reports",
        "reporting.snapshots": "mediation_hub.reporting.tasks:freeze_due_snapshots",
        "scheduler.prune": "mediation_hub.core.jobs:prune_job_runs",
        "privacy.retention": "mediation_hub.privacy.tasks:erase_expired_personal_data",
        "imports.abandoned": "mediation_hub.imports.tasks:fail_abandoned_imports",
        "calendar.watch": "mediation_hub.calendars.tasks:watch_calendar",
        "exports.cleanup": "mediation_hub.exports.tasks:clean_up_exports",
        "auth.sessions": "mediation_hub.auth.tasks:prune_sessions",
        "federation.deliver": "mediation_hub.federation.tasks:deliver_outbox",
        "federation.directory": "mediation_hub.federation.tasks:share_directory",
        "federation.unreachable": "mediation_hub.federation.tasks:report_unreachable_peers",
    }


def test_old_finished_runs_are_pruned(app):
    from datetime import timedelta

    from mediation_hub.core.jobs import prune_job_runs

    def run(job_id, age_days, status):
        db.session.add(
            JobRun(
                job_id=job_id,
                slot=f"s{age_days}",
                claimed_by="h:1",
                status=status,
                started_at=NOW - timedelta(days=age_days),
                finished_at=None if status == RunStatus.running else NOW - timedelta(days=age_days),
                error="boom" if status == RunStatus.failed else None,
            )
        )

    run("old.ok", 31, RunStatus.succeeded)
    run("old.failed", 40, RunStatus.failed)
    run("old.stuck", 40, RunStatus.running)  # a process died mid-task: kept for inspection
    run("recent.ok", 29, RunStatus.succeeded)
    db.session.flush()
    assert prune_job_runs(NOW) == 2
    assert sorted(db.session.scalars(sa.select(JobRun.job_id))) == ["old.stuck", "recent.ok"]


def test_disabled_jobs_are_not_scheduled(app, monkeypatch, scheduler_log):
    other = Job("test.other", "tests.test_scheduler:counting_task", "cron", {"hour": 8, "minute": 0})
    monkeypatch.setenv("MEDIATION_HUB_JOBS_DISABLED", "test.other, test.nothing")
    scheduler = build_scheduler(app, BackgroundScheduler(), [COUNTING, other, MISSING])
    assert [j.id for j in scheduler.get_jobs()] == ["test.count"]
    assert "MEDIATION_HUB_JOBS_DISABLED names unknown jobs: test.nothing" in scheduler_log.text  # a typo shows
    monkeypatch.delenv("MEDIATION_HUB_JOBS_DISABLED")
    monkeypatch.setitem(app.config, "SCHEDULER_JOBS", {"test.count": {"enabled": False}})
    scheduler = build_scheduler(app, BackgroundScheduler(), [COUNTING, other])
    assert [j.id for j in scheduler.get_jobs()] == ["test.other"]
    assert run_due_jobs(app, NOW, [COUNTING]) == {}


def test_environment_moves_a_job(app, monkeypatch):
    monkeypatch.setenv("MEDIATION_HUB_JOB_TEST_COUNT_CRON", "30 7 * * *")
    monkeypatch.setenv("MEDIATION_HUB_JOB_TEST_FAIL_MINUTES", "20")
    count, fail = effective_jobs(app, [COUNTING, FAILING])
    assert (count.trigger, count.params) == ("cron", {"crontab": "30 7 * * *"})
    assert count.slot(NOW) == "2025-03-02T23:30:00Z"  # 07:30 Shanghai today
    assert (fail.trigger, fail.params) == ("interval", {"minutes": 20})
    assert fail.slot(NOW) == "2025-03-03T01:20:00Z"  # 09:37 -> 09:20 (20-minute slots from midnight)
    scheduled = build_scheduler(app, BackgroundScheduler(), [COUNTING]).get_job("test.count")
    assert str(scheduled.trigger) == "cron[month='*', day='*', day_of_week='*', hour='7', minute='30']"


def test_app_setting_wins_over_the_environment(app, monkeypatch):
    monkeypatch.setenv("MEDIATION_HUB_JOB_TEST_COUNT_MINUTES", "20")
    monkeypatch.setitem(app.config, "SCHEDULER_JOBS", {"test.count": {"minutes": 60}})
    [job] = effective_jobs(app, [COUNTING])
    assert job.params == {"minutes": 60} and job.slot(NOW) == "2025-03-03T01:00:00Z"


@pytest.mark.parametrize(
    "setting",
    [
        {"test.count": {"cron": "not a crontab"}},
        {"test.count": {"cron": "0 9 * * 8"}},
        {"test.count": {"minutes": 0}},
        {"test.count": {"minutes": "often"}},
        {"test.count": {"every": 5}},
        {"no.such.job": {"enabled": False}},
    ],
)
def test_malformed_settings_stop_the_start(app, monkeypatch, setting):
    from mediation_hub.config import ConfigError

    monkeypatch.setitem(app.config, "SCHEDULER_JOBS", setting)
    with pytest.raises(ConfigError):
        effective_jobs(app, [COUNTING])


def test_no_embedded_scheduler_under_tests_or_other_commands(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_ENABLED", True)
    sched.init_app(app)  # TESTING
    assert sched.EXTENSION_KEY not in app.extensions
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert sched.is_serving_process() is True  # a WSGI worker: no click command around
    import click

    for name, params, expected in [
        ("run", {"reload": False}, True),
        ("run", {"reload": True}, False),
        ("upgrade", {}, False),
    ]:
        with click.Context(click.Command(name), info_name=name) as ctx:
            ctx.params.update(params)
            assert sched.is_serving_process() is expected, name
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")  # the reloader's child serves
    with click.Context(click.Command("run"), info_name="run") as ctx:
        ctx.params["reload"] = True
        assert sched.is_serving_process() is True


def test_cli_once_runs_due_jobs_and_reports(app, monkeypatch):
    monkeypatch.setattr(sched, "JOBS", [COUNTING, FAILING])
    result = app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert result.exit_code == 1, result.output  # one job failed
    assert "test.count               succeeded" in result.output
    assert "test.fail                failed" in result.output


# --- several processes at once --------------------------------------------------------------------------

WORKER = """
import os, sys, time
from datetime import datetime
url, ready, go = sys.argv[1:4]
nows = [datetime.fromisoformat(n) for n in sys.argv[4:]]
from mediation_hub import create_app
from mediation_hub.scheduler import Job, run_due_jobs
from tests.conftest import TEST_KEYS
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, **TEST_KEYS})
jobs = [Job("probe.a", "tests.test_scheduler:probe_a", "interval", {"minutes": 5}),
        Job("probe.b", "tests.test_scheduler:probe_b", "cron", {"minute": 0})]
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
for now in nows:
    run_due_jobs(app, now, jobs)
"""
PROCESSES = 4
# Three instants: 09:37:10 and 09:39:59 share both slots; 09:41 opens probe.a's 09:40 slot, not probe.b's
# (hourly, at minute 0).
INSTANTS = [NOW, NOW.replace(minute=39, second=59), NOW.replace(minute=41, second=0)]


@pytest.fixture
def separate_database(tmp_path, request):
    """A database of its own for the worker processes: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scheduler.db'}"
        return
    base = os.environ.get("MEDIATION_HUB_TEST_DATABASE_URL")
    if not base:
        pytest.skip("MEDIATION_HUB_TEST_DATABASE_URL is not set")
    url = sa.engine.make_url(base)
    name = f"{url.database}_sched_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.real_commits
@pytest.mark.parametrize(
    "separate_database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_processes_started_at_once_run_each_slot_exactly_once(separate_database, tmp_path):
    engine = sa.create_engine(separate_database)
    JobRun.__table__.create(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE job_probe (job_id VARCHAR(20), now_text VARCHAR(40), pid INTEGER)"))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": root}
    env.pop("MEDIATION_HUB_SCHEDULER_ENABLED", None)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                separate_database,
                str(tmp_path / f"ready{i}"),
                str(go),
                *(n.isoformat() for n in INSTANTS),
            ],
            cwd=root,
            env=env,
        )
        for i in range(PROCESSES)
    ]
    try:
        deadline = time.monotonic() + 120  # generous: a loaded CI machine starts Python slowly
        while not all((tmp_path / f"ready{i}").exists() for i in range(PROCESSES)):
            assert time.monotonic() < deadline, "workers did not start"
            assert all(w.poll() is None for w in workers), "a worker died while starting"
            time.sleep(0.01)
        go.touch()  # every process starts claiming at the same moment
        assert [w.wait(timeout=60) for w in workers] == [0] * PROCESSES
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT job_id, slot, status, claimed_by FROM job_runs ORDER BY job_id, slot"))
        runs = runs.all()
        probes = conn.execute(sa.text("SELECT job_id, COUNT(*) FROM job_probe GROUP BY job_id ORDER BY job_id")).all()
    engine.dispose()
    # probe.a (5-minute slots): 09:35 and 09:40; probe.b (hourly): 09:00 only.
    assert [(r.job_id, r.slot, r.status) for r in runs] == [
        ("probe.a", "2025-03-03T01:35:00Z", "succeeded"),
        ("probe.a", "2025-03-03T01:40:00Z", "succeeded"),
        ("probe.b", "2025-03-03T01:00:00Z", "succeeded"),
    ]
    # Each slot's task ran once: three probe rows in all, however many processes tried.
    assert [tuple(p) for p in probes] == [("probe.a", 2), ("probe.b", 1)]
