"""The unit of work: the one place a transaction ends.

Services change rows and flush; they never commit (shared/CONVENTIONS.md point 3). A transaction is
committed by exactly one boundary, through this module:

* a request: ``HubFlask.dispatch_request`` commits after the view answered below 400 and rolls back
  otherwise (an error raised by the view never reaches the commit: its handler answers and rolls back through
  ``end_failed_request``). A view whose error answer must keep what it wrote (the audit row of a refused
  sign-in), whether it returns that answer or raises it, says so with ``keep_writes_on_error()``;
* a reading request that must write now (``writing()``): the block's writes commit when it ends;
* a job or a command: ``transaction()`` (CLI commands, background threads) and ``core.jobs.run_job``;
* a long job that commits batch by batch (imports, rebuilds) says so explicitly with ``commit_batch()``.

Beside the rows, a service can register work on the unit of work:

* ``on_commit(op)``: runs inside the transaction, just before it commits (after every service of the
  request has flushed), so it sees the final state;
* ``after_commit(op)``: runs once the transaction has committed, outside it: start a background thread for
  a job row that now exists, wake the outbox relay, write a file. An op that fails is logged, never raised:
  what it reacts to is committed already, and the answer must say so. Ops of a transaction that rolls back
  are dropped;
* ``on_rollback(op)``: runs if the transaction ends without committing (a rollback, a failed COMMIT): undo
  what was done outside the database for rows that will not exist (the stored upload of an import job).

``tests/test_unit_of_work.py`` fails on any ``commit()`` outside ``BOUNDARY_MODULES``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from flask import Flask, g, has_request_context
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from ..extensions import db

log = logging.getLogger("mediation_hub.uow")

# The modules that may end a transaction (tests/test_unit_of_work.py reads this list).
BOUNDARY_MODULES = (
    "mediation_hub/core/uow.py",  # requests, writing(), transaction(), commit_batch()
    "mediation_hub/core/jobs.py",  # the periodic-job wrapper: the claim and the run's outcome
)

Op = Callable[[], object]
Record = TypeVar("Record")
_ON_COMMIT = "uow_on_commit"
_AFTER_COMMIT = "uow_after_commit"
_ON_ROLLBACK = "uow_on_rollback"


def _ops(key: str) -> list[Op]:
    info: dict[str, Any] = db.session().info
    ops: list[Op] = info.setdefault(key, [])
    return ops


def on_commit(op: Op) -> None:
    """Run ``op`` in this transaction just before it commits (dropped if it rolls back)."""
    _ops(_ON_COMMIT).append(op)


def after_commit(op: Op) -> None:
    """Run ``op`` once this transaction has committed (dropped if it rolls back); failures are logged."""
    _ops(_AFTER_COMMIT).append(op)


def on_rollback(op: Op) -> None:
    """Run ``op`` if this transaction ends without committing (it rolls back, its COMMIT fails, the session
    closes): undo what was done outside the database for rows that will not exist, e.g. delete an upload stored
    for a job row. Dropped once the transaction commits; failures are logged."""
    _ops(_ON_ROLLBACK).append(op)


def pending_after_commit() -> int:
    """How many after-commit ops wait for the end of this transaction (tests, diagnostics)."""
    return len(_ops(_AFTER_COMMIT))


def as_committed(record: Record) -> Record:
    """``record`` as this transaction will commit it, for an answer made before the commit: flushed, then
    expired so that what it shows is read again (a relationship whose key changed, a collection in its
    ``order_by``, a read-only collection with the rows just added), as when the view committed first."""
    db.session.flush()
    db.session.expire(record)
    return record


def flushed(record: Record) -> Record:
    """``record`` as this transaction will commit it, for an answer made before the commit by a service that
    keeps it whole (it refreshed what it changed behind the ORM's back, its related rows are loaded and unchanged):
    flushed, nothing expired, so the answer reads no row again. Otherwise ``as_committed``."""
    db.session.flush()
    return record


def _drop_ops(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)
    session.info.pop(_AFTER_COMMIT, None)


def commit() -> None:
    """End the transaction: on-commit ops, COMMIT, then after-commit ops. Only boundaries call this."""
    session = db.session()
    while session.info.get(_ON_COMMIT):  # an op may register another
        session.info[_ON_COMMIT].pop(0)()
    session.commit()
    ops = session.info.pop(_AFTER_COMMIT, [])
    for op in ops:
        try:
            op()
        except Exception:  # the transaction it follows is committed: log, never undo the answer
            log.exception("after-commit operation %r failed", op)
            if session.in_transaction():
                session.rollback()


def rollback() -> None:
    """Roll the transaction back and drop the work registered on it (its on-rollback work runs)."""
    session = db.session()
    _drop_ops(session)
    session.rollback()
    _run_on_rollback(session)  # registered while no transaction had begun: nothing ended above to run it


def commit_batch() -> None:
    """A long job's explicit intermediate commit (one import batch, one rebuilt month): same as a boundary's."""
    commit()


# --- requests --------------------------------------------------------------------------------------------------


def keep_writes_on_error() -> None:
    """This request's error answer (4xx) keeps what the view wrote: the audit row of a refused attempt."""
    g._uow_keep_on_error = True


def end_request(status_code: int) -> None:
    """The request boundary: commit after an answer below 400 (or one that keeps its writes), else roll back."""
    keep = g.pop("_uow_keep_on_error", False)  # read whatever the status: requests may share ``g`` (tests)
    if status_code < 400 or keep:
        commit()
    else:
        rollback()


def end_failed_request(status_code: int) -> None:
    """The boundary of a request whose view raised, called by the error handler answering ``status_code``:
    roll back, unless the view kept its writes (``keep_writes_on_error``) and the answer is not a server error."""
    if g.pop("_uow_keep_on_error", False) and status_code < 500:
        commit()
    else:
        rollback()


class HubFlask(Flask):
    """Flask with the request boundary: the view's answer decides whether its transaction commits.

    Committing here, inside ``full_dispatch_request``, means a failing COMMIT (a unique violation found
    late, the database gone) goes through the same error handlers as an error in the view (409, 503)."""

    def dispatch_request(self) -> ResponseReturnValue:
        response: Response = self.make_response(super().dispatch_request())
        end_request(response.status_code)
        return response

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's, remembered per function: it asks ``inspect`` whether each hook and view is a coroutine function,
        a dozen times a request, for functions that never change."""
        known: dict[Callable[..., Any], Callable[..., Any]] = self.__dict__.setdefault("_ensured_sync", {})
        try:
            return known[func]
        except KeyError:
            sync = known[func] = super().ensure_sync(func)
            return sync
        except TypeError:  # an unhashable callable: not remembered
            return super().ensure_sync(func)


# --- jobs and commands -----------------------------------------------------------------------------------------


@contextmanager
def transaction() -> Iterator[None]:
    """A job's or a command's unit of work: commit when the block ends normally, roll back when it raises."""
    try:
        yield
    except BaseException:
        rollback()
        raise
    commit()


# --- SQLite: a reading request that writes (core/db.py explains BEGIN IMMEDIATE) -------------------------------


class writing:
    """Declare that a reading request writes now: on SQLite the read transaction ends first, so the writing one
    begins IMMEDIATE and queues behind other writers; the block's writes commit when it ends (a boundary of its
    own, so the write lock is not held for the rest of the request). In a request of an unsafe method the block
    commits too (the session stamp before a POST's view commits on its own, whatever the view answers); on
    PostgreSQL only the ending of the read transaction is skipped. Outside a request, or nested in another
    ``writing()`` block, it changes nothing."""

    def __enter__(self) -> writing:
        self._set = has_request_context() and not g.get("_write_intent", False)
        if self._set:
            session = db.session()
            if db.engine.dialect.name == "sqlite" and session.in_transaction():
                session.commit()  # nothing written yet: this only ends the reading transaction
            g._write_intent = True
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        if self._set:
            try:
                if exc_type is None:
                    commit()
                else:
                    rollback()
            finally:
                g._write_intent = False
        return False


@sa.event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    """The outermost transaction committed (by any path): its on-rollback work will never be needed. A savepoint
    released (``begin_nested``) changes nothing: the transaction it belongs to may still roll back."""
    if not session.in_nested_transaction():
        session.info.pop(_ON_ROLLBACK, None)


@sa.event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: Any) -> None:
    """The outermost transaction ended without a commit (a rollback, a failed COMMIT then its rollback, the
    session closed): run its on-rollback work."""
    if transaction.parent is None:
        _run_on_rollback(session)


def _run_on_rollback(session: Session) -> None:
    for op in session.info.pop(_ON_ROLLBACK, []):
        try:
            op()
        except Exception:  # the rollback itself went through: log, never hide the error being answered
            log.exception("on-rollback operation %r failed", op)


@sa.event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: Any) -> None:
    """Drop registered work when the session's outermost transaction rolls back by other means (an error
    handler, the teardown), so it never leaks into the session's next transaction. A savepoint's rollback
    (``begin_nested``) keeps it: the transaction it belongs to goes on."""
    if previous_transaction.parent is None:
        _drop_ops(session)
