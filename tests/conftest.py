"""Test fixtures: one database per test session (migrated from empty, reference data loaded once),
a rolled-back transaction per test, and factories that build objects.

SQLite by default; PostgreSQL when MEDIATION_HUB_TEST_DATABASE_URL is set (then an unreachable server
is an error, never a skip)."""

from __future__ import annotations

import itertools
import os
from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub import create_app
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db

pytest_plugins = [
    "tests.factories",
    "tests.factories_cases",
    "tests.factories_transfers",
    "tests.factories_legal_aid",
    "tests.factories_reporting",
    "tests.browser",
    "tests.pii_guard",
]

PG_URL = os.environ.get("MEDIATION_HUB_TEST_DATABASE_URL")
REFERENCE_TABLES = {
    "regions",
    "region_members",
    "reference_sources",
    "case_categories",
    "case_sources",
    "agreements",
    "agreement_members",
    "calendar_days",
    "calendar_years",
    "alembic_version",
}
TEST_KEYS = {
    "PII_KEY": "0nrfQ6F3I2xq0Z0kq6b2lN0a2u8vZyZ8nWmZ5v0r3Xk=",
    "LOOKUP_KEY": "bG9va3VwLWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU=",
    "SECRET_KEY": "test-secret",
}
WEBHOOK_TEST_HOSTS = "127.0.0.1, zz.example.cn, new.governance.example, in.governance.example, out.governance.example"


def database_url(tmp_path_factory) -> str:
    """SQLite in the session's temporary folder, or PostgreSQL; under pytest-xdist each worker gets a
    database of its own (``<name>_gw0`` …), created afresh."""
    if not PG_URL:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'hub.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return PG_URL
    base = sa.engine.make_url(PG_URL)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.exit(f"PostgreSQL at MEDIATION_HUB_TEST_DATABASE_URL is unreachable: {exc}", returncode=3)
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = database_url(tmp_path_factory)
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "LOGIN_ADDRESS_RATE_LIMIT": "1000 per minute",
            # names such as "nobody-here" fail in many tests of one process; tests/test_auth_throttle.py sets its own
            "LOGIN_LOCK_AFTER": 1000,
            # cheap argon2 for the thousands of accounts tests make; production cost is tested in test_auth_*
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_COST": 64,
            "SERVER_NAME": None,
            **TEST_KEYS,
            # report receivers on 127.0.0.1, and made-up hosts of subscriptions that are saved, never called (they do
            # not resolve); tests/test_security_ssrf.py checks the guard with an empty allow list
            "WEBHOOK_ALLOWED_HOSTS": WEBHOOK_TEST_HOSTS,
            # a GET that writes without core.db.writing() fails the test (on SQLite it could fail under load)
            "SQLITE_STRICT_WRITES": True,
        }
    )
    with application.app_context():
        if url.startswith("postgresql"):
            try:
                with db.engine.connect() as conn:
                    conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                    conn.execute(sa.text("CREATE SCHEMA public"))
                    conn.commit()
            except sa.exc.OperationalError as exc:
                pytest.exit(f"PostgreSQL at MEDIATION_HUB_TEST_DATABASE_URL is unreachable: {exc}", returncode=3)
        # The schema comes from the models; tests/test_migrations.py proves the Alembic chain builds the same.
        db.create_all()
        from mediation_hub.seed import seed_reference

        seed_reference()
        db.session.commit()
        db.session.remove()
    return application


@pytest.fixture(autouse=True)
def _rollback_per_test(request, app):
    """Everything a test writes lives in one outer transaction that is rolled back at the end.

    Services still call commit(); it only releases a SAVEPOINT. Tests marked ``real_commits`` (and
    browser tests) write for real and the tables they fill are emptied afterwards."""
    if request.node.get_closest_marker("real_commits") or request.node.get_closest_marker("browser"):
        with app.app_context():
            yield
        wipe_non_reference_tables(app)
        return
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine


def wipe_non_reference_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in REFERENCE_TABLES:
                    conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


_usernames = itertools.count(1)


class ApiClient:
    """The Flask test client with a bearer token for one user."""

    def __init__(self, client, token: str, user):
        self.client, self.user = client, user
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method):
        call = getattr(self.client, method)

        def send(url, **kwargs):
            kwargs.setdefault("headers", {}).update(self.headers)
            return call(url, **kwargs)

        return send


@pytest.fixture
def api_as(client, make_user):
    """``api_as(user)`` or ``api_as(role=..., organization=...)``: an API client with a fresh token."""
    from datetime import timedelta

    from mediation_hub.auth.service import issue_token

    def build(user=None, **kwargs):
        user = user or make_user(**kwargs)
        token, _ = issue_token(user, timedelta(hours=1))
        db.session.commit()
        return ApiClient(client, token, user)

    return build


@pytest.fixture
def signed_in(client, make_user):
    """``signed_in(user)``: the test client with a browser session for that user."""

    def build(user=None, **kwargs):
        return sign_in_client(client, user or make_user(**kwargs))

    return build


def sign_in_client(client, user):
    """Give the test client a browser session for ``user`` the way the sign-in page does: a live server-side
    session row and its key in the cookie, beside Flask-Login's own keys."""
    from flask_login.utils import _create_identifier

    from mediation_hub.auth.browser import SESSION_KEY
    from mediation_hub.auth.sessions import start_session

    # Session protection is "strong": the session must carry the identifier of this client
    # (its address and user agent), or Flask-Login drops it on the first request.
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    key, _row = start_session(user, client.application.config["PERMANENT_SESSION_LIFETIME"])
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
        sess["_id"] = identifier
        sess[SESSION_KEY] = key
    db.session.commit()  # an error page rolls back the session; keep what the test built before it
    return client


TODAY = date.today
ADMIN = Role.admin
