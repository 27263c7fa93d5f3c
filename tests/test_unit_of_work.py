"""The unit of work (``core/uow.py``, issue 15 item 1): one boundary ends each transaction.

A guard reads the sources: ``commit()`` only in ``uow.BOUNDARY_MODULES``, ``commit_batch()`` only in the packages
that run long jobs. Then the boundaries themselves, on a bare ``HubFlask`` with the hub's error handlers and a few
probe routes (the suite's app has served requests already, and Flask takes no new routes after that), whose
requests run in the test's rolled-back transaction: what a request committed is still there after it, what it
rolled back is gone. Each probe writes an audit row named ``uow-probe``."""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Blueprint, Flask, request
from flask.testing import FlaskClient
from flask_babel import Babel

from mediation_hub.audit.models import AuditEntry
from mediation_hub.core import background, uow
from mediation_hub.core.uow import HubFlask, keep_writes_on_error, transaction, writing
from mediation_hub.errors import StateConflict, register_error_handlers
from mediation_hub.exports import service as exports
from mediation_hub.extensions import db

ROOT = Path(__file__).resolve().parent.parent
SOURCE_PACKAGES = ("mediation_hub", "integrations")
# The packages whose long jobs commit batch by batch (imports, rebuilt aggregates and report deliveries, export
# progress, the federation sender's claim before a call and its outcome after) and core, which defines commit_batch.
BATCH_PACKAGES = (
    "mediation_hub/imports/",
    "mediation_hub/reporting/",
    "mediation_hub/exports/",
    "mediation_hub/federation/",
    "mediation_hub/core/",
)
PROBE = "uow-probe"


# --- the guard ----------------------------------------------------------------------------------------------------


def calls_named(name: str) -> Iterator[str]:
    """``path:line`` of every call of a function or method called ``name`` in the app's sources."""
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=relative)):
                if isinstance(node, ast.Call) and _called_name(node.func) == name:
                    yield f"{relative}:{node.lineno}"


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def test_only_the_boundary_modules_commit():
    outside = [site for site in calls_named("commit") if site.split(":")[0] not in uow.BOUNDARY_MODULES]
    assert outside == [], "commit() outside the boundary modules (core/uow.py): " + ", ".join(outside)


def test_only_long_jobs_commit_batch_by_batch():
    outside = [site for site in calls_named("commit_batch") if not site.startswith(BATCH_PACKAGES)]
    assert outside == [], "commit_batch() outside the job packages: " + ", ".join(outside)


def test_the_guard_sees_a_commit():
    found = list(calls_named("commit"))
    assert any(site.startswith("mediation_hub/core/uow.py:") for site in found)  # writing() and commit() itself


# --- probe routes ---------------------------------------------------------------------------------------------------

probe = Blueprint("uow_probe", __name__, url_prefix="/api/probe")
seen: list[tuple[str, bool]] = []  # (what ran, whether a transaction was open then)


def write(mark: str = "view") -> None:
    db.session.add(AuditEntry(username=PROBE, action=mark))
    db.session.flush()


def note(what: str) -> None:
    seen.append((what, db.session().in_transaction()))


def conflict() -> StateConflict:
    return StateConflict("probe conflict")


@probe.post("/answer/<int:status>")
def answer(status: int):
    write()
    if request.args.get("keep"):
        keep_writes_on_error()
    return "", status


@probe.post("/raise")
def raise_conflict():
    write()
    if request.args.get("keep"):
        keep_writes_on_error()
    raise conflict()


@probe.post("/crash")
def crash():
    write()
    keep_writes_on_error()  # a server error keeps nothing all the same
    raise RuntimeError("probe crash")


@probe.post("/ops/<int:status>")
def ops(status: int):
    write()
    uow.on_commit(lambda: (note("on_commit"), write("on_commit")))
    uow.after_commit(partial(note, "after_commit"))
    return "", status


def broken() -> None:
    raise OSError("probe: the disk went away")


@probe.post("/failing-op")
def failing_op():
    write()
    uow.after_commit(broken)
    uow.after_commit(partial(note, "after_commit"))  # the ops after a failing one still run
    return "", 201


@probe.get("/writing/<int:status>")
def in_writing(status: int):
    with writing():
        write()
        uow.after_commit(partial(note, "after_commit"))
    note("view")
    return "", status


@probe.get("/writing-fails")
def writing_fails():
    with writing():
        write()
        raise conflict()


@pytest.fixture(scope="module")
def probe_app(app: Flask) -> Flask:
    """A bare HubFlask on the suite's database, with the hub's error handlers (and the translations their messages
    go through) and the probe routes."""
    bare = HubFlask(__name__)
    bare.config.update(TESTING=True, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(bare)
    Babel(bare)
    register_error_handlers(bare)
    bare.register_blueprint(probe)
    return bare


@pytest.fixture
def hub(probe_app: Flask, _rollback_per_test) -> Iterator[FlaskClient]:
    """The probe app's client; its requests (and this test) use the test's connection, in its outer transaction."""
    connection = db.engines[None]  # the suite app's, swapped for the test's connection by conftest
    seen.clear()
    with probe_app.app_context():
        engines = db.engines
        engine = engines[None]
        engines[None] = connection
        try:
            yield probe_app.test_client()
        finally:
            db.session.remove()
            engines[None] = engine


def written(mark: str = "view") -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.username == PROBE, AuditEntry.action == mark)
    )


@pytest.fixture
def uow_errors() -> Iterator[list[logging.LogRecord]]:
    """The records ``mediation_hub.uow`` logs (its parent logger does not pass them on to pytest's handler)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("mediation_hub.uow")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


# --- the request boundary -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 204, 302, 303])
def test_an_answer_below_400_commits(hub, status):
    assert hub.post(f"/api/probe/answer/{status}").status_code == status
    assert written() == 1


@pytest.mark.parametrize("status", [400, 404, 409, 422, 429])
def test_an_error_answer_rolls_back(hub, status):
    assert hub.post(f"/api/probe/answer/{status}").status_code == status
    assert written() == 0


def test_a_raised_error_rolls_back(hub):
    response = hub.post("/api/probe/raise")
    assert response.status_code == 409 and response.json["code"] == 409
    assert written() == 0


@pytest.mark.parametrize("route", ["/api/probe/answer/401?keep=1", "/api/probe/raise?keep=1"])
def test_an_error_answer_that_keeps_its_writes_commits_them(hub, route):
    assert hub.post(route).status_code in (401, 409)
    assert written() == 1


def test_a_server_error_keeps_nothing(hub):
    assert hub.post("/api/probe/crash").status_code == 500
    assert written() == 0


def test_keeping_writes_holds_for_one_request_only(hub):
    assert hub.post("/api/probe/raise?keep=1").status_code == 409
    assert hub.post("/api/probe/answer/200?keep=1").status_code == 200
    assert hub.post("/api/probe/answer/409").status_code == 409  # shares ``g`` with the two before (tests)
    assert written() == 2


def test_on_commit_runs_in_the_transaction_and_after_commit_once_it_has_committed(hub):
    assert hub.post("/api/probe/ops/200").status_code == 200
    assert seen == [("on_commit", True), ("after_commit", False)]
    assert (written(), written("on_commit")) == (1, 1)  # the on-commit op's row committed with the view's


def test_a_rolled_back_request_drops_its_ops(hub):
    assert hub.post("/api/probe/ops/409").status_code == 409
    assert seen == []
    assert (written(), written("on_commit")) == (0, 0)
    assert hub.post("/api/probe/answer/200").status_code == 200
    assert seen == []  # nor do they run at the next commit
    assert uow.pending_after_commit() == 0


def test_a_failing_after_commit_op_is_logged_and_the_answer_stands(hub, uow_errors):
    assert hub.post("/api/probe/failing-op").status_code == 201
    assert written() == 1
    assert seen == [("after_commit", False)]
    [record] = uow_errors
    assert "after-commit operation" in record.getMessage() and record.exc_info[0] is OSError


def test_writing_commits_when_its_block_ends(hub):
    response = hub.get("/api/probe/writing/409")  # the answer after the block does not undo it
    assert response.status_code == 409
    assert written() == 1
    assert seen == [("after_commit", False), ("view", False)]  # the block's after-commit work ran at its end


def test_writing_rolls_back_when_its_block_raises(hub):
    assert hub.get("/api/probe/writing-fails").status_code == 409
    assert written() == 0


# --- jobs and commands --------------------------------------------------------------------------------------------


def test_a_transaction_commits_when_its_block_ends(hub):
    ran: list[str] = []
    with transaction():
        write()
        uow.after_commit(lambda: ran.append("after"))
        assert ran == []
    assert ran == ["after"]
    db.session.rollback()  # nothing left to undo: the block committed
    assert written() == 1


def test_a_transaction_rolls_back_when_its_block_raises(hub):
    ran: list[str] = []

    def failing_job() -> None:
        with transaction():
            write()
            uow.after_commit(lambda: ran.append("after"))
            raise RuntimeError("the job failed")

    with pytest.raises(RuntimeError, match="the job failed"):
        failing_job()
    assert ran == [] and written() == 0


def test_an_inline_background_run_is_a_unit_of_work_of_its_own(hub, probe_app):
    background.start(probe_app, lambda job_id: write(f"job-{job_id}"), 7, name="probe", queue="imports", inline=True)
    db.session.rollback()
    assert written("job-7") == 1


def test_an_export_thread_starts_only_once_the_job_is_committed(hub, probe_app, monkeypatch):
    started: list[int] = []
    monkeypatch.setattr(background, "start", lambda app, run, job_id, **kwargs: started.append(job_id))
    probe_app.config["EXPORT_RUN_INLINE"] = False
    exports.start(probe_app, 42)
    assert started == [] and uow.pending_after_commit() == 1
    uow.commit()
    assert started == [42]
