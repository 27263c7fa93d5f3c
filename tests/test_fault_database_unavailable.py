"""A database that is down or drops the connection is a 503 the client may retry (JSON under /api, the error
page elsewhere, with Retry-After), never a 500 — also for a signed-in page, whose layout would otherwise reload
the user from the database that just failed. Programming errors stay 500s.

The failure is injected at the engine: every statement after the first ``let_through`` ones raises the given
error, as when PostgreSQL is restarted mid-request (bench/faults/postgres_restart.py does it for real)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from mediation_hub.core.actor import Role
from mediation_hub.extensions import db


class ServerGone(Exception):
    """Stands for the driver's own error (psycopg.OperationalError and the like)."""


DISCONNECTS = {
    "operational": lambda: OperationalError("SELECT 1", {}, ServerGone("server closed the connection unexpectedly")),
    "interface": lambda: InterfaceError("SELECT 1", {}, ServerGone("connection already closed")),
    "invalidated": lambda: DBAPIError(
        "SELECT 1", {}, ServerGone("terminating connection"), connection_invalidated=True
    ),
    "pool_timeout": lambda: PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
}


@pytest.fixture
def database_fails(app):
    """``database_fails(make_error, let_through=0)``: from now on, statements after the first ``let_through``
    raise ``make_error()``."""
    state = {"armed": False}

    def fail(conn, cursor, statement, parameters, context, executemany):
        if not state["armed"]:
            return
        if state["let_through"] > 0:
            state["let_through"] -= 1
            return
        raise state["make_error"]()

    sa.event.listen(db.engine, "before_cursor_execute", fail)

    def arm(make_error, let_through: int = 0):
        state.update(armed=True, make_error=make_error, let_through=let_through)

    yield arm
    sa.event.remove(db.engine, "before_cursor_execute", fail)


@pytest.mark.parametrize("error", sorted(DISCONNECTS))
def test_api_answers_503_json_when_the_database_is_gone(api_as, database_fails, error):
    api = api_as(role=Role.coordinator, region_code="110000")
    database_fails(DISCONNECTS[error])
    response = api.get("/api/v1/cases")
    assert response.status_code == 503
    assert response.get_json() == {
        "code": 503,
        "status": "Service Unavailable",
        "error": "database_unavailable",
        "message": "数据库暂时不可用，请稍后再试",
    }
    assert response.headers["Retry-After"] == "5"


def test_a_programming_error_is_still_a_500(api_as, database_fails):
    api = api_as(role=Role.coordinator, region_code="110000")
    database_fails(lambda: ProgrammingError("SELECT nope", {}, ServerGone("column nope does not exist")))
    response = api.get("/api/v1/cases")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize("let_through", [0, 1], ids=["before_the_user_loads", "after_the_user_loaded"])
@pytest.mark.parametrize("error", ["operational", "invalidated"])
def test_signed_in_page_answers_the_503_page(signed_in, make_user, database_fails, error, let_through):
    # let_through=1: the user loads, then the dashboard's own query fails; the rollback expires the user, and
    # the layout must not reload it from the failed database.
    user = make_user(role=Role.coordinator, region_code="110000", display_name="协调员甲")
    client = signed_in(user)
    database_fails(DISCONNECTS[error], let_through=let_through)
    response = client.get("/reporting")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "<title>503 · " in page and "服务暂时不可用" in page and "数据库暂时不可用" in page
    assert "协调员甲" not in page  # drawn as for a signed-out visitor
    assert response.headers["Retry-After"] == "5"


# a pool time-out happens on checkout, never while a session ends
@pytest.mark.parametrize("kind", ["operational", "interface", "invalidated"])
def test_a_database_gone_while_the_session_ends_is_no_500(app, monkeypatch, kind):
    """The answer is made; then the database goes away and the session's closing rollback fails (seen under
    a PostgreSQL restart as gunicorn's bare 500). The hub's own teardown, which runs before
    Flask-SQLAlchemy's, logs it and drops the session instead."""
    [release] = [f for f in app.teardown_appcontext_funcs if f.__name__ == "_release_session"]
    assert app.teardown_appcontext_funcs.index(release) > max(
        i for i, f in enumerate(app.teardown_appcontext_funcs) if f.__module__.startswith("flask_sqlalchemy")
    )

    def gone():
        raise DISCONNECTS[kind]()

    monkeypatch.setattr(db.session, "remove", gone)
    release(None)


def test_a_programming_error_while_the_session_ends_still_raises(app, monkeypatch):
    [release] = [f for f in app.teardown_appcontext_funcs if f.__name__ == "_release_session"]

    def broken():
        raise ProgrammingError("ROLLBACK", {}, ServerGone("a bug"))

    monkeypatch.setattr(db.session, "remove", broken)
    with pytest.raises(ProgrammingError):
        release(None)
