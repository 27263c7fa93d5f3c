"""``core.uow.on_rollback``: work undone outside the database when a transaction ends without committing (the
stored upload of an import job whose row is never committed)."""

from __future__ import annotations

import logging

from mediation_hub.core import uow
from mediation_hub.extensions import db


def test_runs_when_the_transaction_rolls_back():
    ran: list[str] = []
    uow.on_rollback(lambda: ran.append("undone"))
    assert ran == []
    uow.rollback()
    assert ran == ["undone"]
    uow.rollback()  # once only: the next transaction has no such work
    assert ran == ["undone"]


def test_is_dropped_once_the_transaction_commits():
    ran: list[str] = []
    uow.on_rollback(lambda: ran.append("undone"))
    uow.commit()
    uow.rollback()
    assert ran == []


def test_a_released_savepoint_keeps_it():
    ran: list[str] = []
    uow.on_rollback(lambda: ran.append("undone"))
    with db.session.begin_nested():  # a savepoint commits; the transaction around it may still roll back
        pass
    uow.rollback()
    assert ran == ["undone"]


def test_a_failing_operation_is_logged_and_the_others_still_run(caplog):
    ran: list[str] = []

    def broken() -> None:
        raise OSError("the disk went away")

    uow.on_rollback(broken)
    uow.on_rollback(lambda: ran.append("undone"))
    with caplog.at_level(logging.ERROR, logger="mediation_hub.uow"):
        uow.rollback()
    assert ran == ["undone"]
    assert "on-rollback operation" in caplog.text
