"""Checking a batch's rows in worker processes (``import_file(..., workers=N)``).

The per-row work (the API's shape check, ID-number and phone validation, encryption and keyed hashes) is pure
Python and bound to one core; the database work per batch is a few bulk statements. So the parent process
keeps reading the file, deciding skips and duplicates, numbering and inserting, while ``N`` forked workers run
``RowChecker.check`` on slices of each batch; the workers check the next batch while the parent stores the
previous one. A worker reads only reference data (regions, categories,
calendar, agreements) through its own database connections, never the parent's.

Fork is used (Linux): the workers inherit the loaded application. Forking a process that runs other threads
is unsafe, so this is for the command line and the benchmarks, not for the web process; the upload page and
the API import with one process."""

from __future__ import annotations

import multiprocessing

import sqlalchemy as sa
from flask import Flask, current_app

from ..core.db import thread_reads
from ..extensions import db
from .rows import Checked, CheckSpec, PreparedCase, RowChecker, RowRejected

_APP: Flask | None = None  # the application the workers inherit through fork
_CHECKER: RowChecker | None = None


def _start_worker(spec: CheckSpec) -> None:
    """In a new worker: an app context of its own and fresh database connections (the parent's pooled
    connections, inherited by fork, are left alone: using them from two processes would corrupt them)."""
    global _CHECKER
    assert _APP is not None  # set by ParallelChecker before the pool starts
    _APP.app_context().push()
    thread_reads(True)  # a worker only reads: on SQLite it must not queue for the write lock the parent holds
    engines = db.engines
    bind = engines[None]
    if isinstance(bind, sa.engine.Engine):
        bind.dispose(close=False)
    else:  # a Connection (the test suite binds the session to one): open an engine of our own
        engines[None] = sa.create_engine(_APP.config["SQLALCHEMY_DATABASE_URI"])
    _CHECKER = RowChecker(spec)


def _check(items: list) -> list[PreparedCase | RowRejected]:
    assert _CHECKER is not None  # made by _start_worker, the pool's initializer
    return _CHECKER.check(items)


class _Pending:
    def __init__(self, result):
        self._result = result

    def get(self) -> list[PreparedCase | RowRejected]:
        return [item for part in self._result.get() for item in part]


class ParallelChecker:
    """``check(items)`` like ``RowChecker.check``, the items spread over ``workers`` processes, results in order."""

    def __init__(self, spec: CheckSpec, workers: int):
        global _APP
        _APP = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method
        self.spec, self.workers = spec, workers
        self._pool = multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker, initargs=(spec,))

    def check(self, items: list) -> list[PreparedCase | RowRejected]:
        return self.submit(items).get()

    def submit(self, items: list) -> _Pending | Checked:
        """Start checking ``items`` in the workers and return at once; ``.get()`` waits for the results."""
        if not items:
            return Checked([])
        size = -(-len(items) // self.workers)
        slices = [items[i : i + size] for i in range(0, len(items), size)]
        return _Pending(self._pool.map_async(_check, slices))

    def close(self) -> None:
        self._pool.close()
        self._pool.join()
