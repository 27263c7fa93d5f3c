"""Mediation Hub (调解协同中枢): cross-region mediation and legal-aid coordination."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from .config import Config

if TYPE_CHECKING:
    from .core.policy import Policy

# Every module that declares tables or indexes; a missing one fails the start (never a feature silently off).
MODEL_MODULES = (
    "regions.models",
    "registry.models",
    "auth.models",
    "audit.models",
    "agreements.models",
    "cases.models",
    "notifications.models",
    "core.calendar",
    "exports.models",
    "documents.models",
    "transfers.models",
    "legal_aid.models",
    "reporting.models",
    "reporting.aggregates",
    "core.jobs",
    "imports.models",
)
# Every module that declares domain events (``mediation-hub events`` lists them all, listened to or not).
EVENT_MODULES = ("cases.events", "transfers.events", "legal_aid.events")
# The listener registries, in the order their listeners run for one event (each module has ``listeners``).
LISTENER_REGISTRIES = ("reporting.listeners", "notifications.listeners", "federation.listeners")
# Every package's permission policy (``core.policy``: actions × roles × scope; each module has ``POLICY``).
POLICY_MODULES = (
    "regions.policy",
    "registry.policy",
    "auth.policy",
    "audit.policy",
    "agreements.policy",
    "cases.policy",
    "legal_aid.policy",
    "transfers.policy",
    "calendars.policy",
    "reporting.policy",
    "imports.policy",
    "privacy.policy",
    "federation.policy",
)


def import_models() -> None:
    """Import every model module so metadata (and Alembic) sees all tables."""
    for name in MODEL_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def install_listeners() -> None:
    """Import the event modules and wire the listener registries (``core.events.install``)."""
    from .core import events

    for name in EVENT_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    events.install(importlib.import_module(f"{__name__}.{name}").listeners for name in LISTENER_REGISTRIES)


def policies() -> list[Policy]:
    """Every package's permission policy, in ``POLICY_MODULES`` order (the authorization matrix and the docs read
    their tables)."""
    return [importlib.import_module(f"{__name__}.{name}").POLICY for name in POLICY_MODULES]


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by ``config`` (tests)."""
    from .core.converters import DatabaseIdConverter
    from .core.uow import HubFlask

    app = HubFlask(__name__, instance_relative_config=True)

    app.url_map.converters["int"] = DatabaseIdConverter  # before any blueprint adds its rules
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings = Config(app.instance_path)
    app.config.from_object(settings)
    if config:
        app.config.update(config)
    _ensure_instance_secrets(app)
    settings.__dict__.update({k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI",)})
    settings.validate()
    from .core.logs import configure_logging
    from .core.security import init_security

    configure_logging(app)
    init_security(app)
    from .core.limits import init_limits

    init_limits(app)  # before CSRF and the input checks: no body is read before its size limit is set

    from . import extensions as ext
    from .core.db import render_migration_item

    import_models()
    install_listeners()
    ext.db.init_app(app)
    _release_sessions_quietly(app)
    ext.migrate.init_app(
        app,
        ext.db,
        directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
    )
    ext.csrf.init_app(app)
    ext.limiter.init_app(app)
    ext.login.init_app(app)
    from .core.i18n import init_i18n

    init_i18n(app)
    _configure_sqlite(app)

    from .errors import register_error_handlers

    register_error_handlers(app)
    from .web import register_web

    register_web(app)
    from .api import register_api

    register_api(app)
    from .core.inputs import init_inputs

    init_inputs(app)  # after the sign-in and token checks: a caller without either still gets that answer first
    from .cli import register_cli

    register_cli(app)
    from . import scheduler

    scheduler.init_app(app)
    return app


def _release_sessions_quietly(app: Flask) -> None:
    """End the request's session before Flask-SQLAlchemy's own teardown does (teardowns run last registered
    first). When the database went away after the answer was made (a restart, a failover), the rollback of
    the ended session fails: that must not turn the answer into the WSGI server's bare 500. The broken
    connection is already discarded; the next request gets a new one."""
    from sqlalchemy.exc import DBAPIError

    from .errors import database_unavailable
    from .extensions import db

    @app.teardown_appcontext
    def _release_session(_exc):
        try:
            db.session.remove()
        except DBAPIError as error:
            if not database_unavailable(error):
                raise
            app.logger.warning("database gone while ending the session: %s", error.orig)
            db.session.registry.clear()


def _ensure_instance_secrets(app: Flask) -> None:
    """Development keys generated once into ``instance/`` when the environment sets none."""
    from .core.pii import generate_key

    for setting, filename in (("SECRET_KEY", "secret_key"), ("PII_KEY", "pii.key"), ("LOOKUP_KEY", "lookup.key")):
        if app.config.get(setting):
            continue
        path = Path(app.instance_path) / filename
        if not path.exists():
            path.write_text(generate_key())
            path.chmod(0o600)
        app.config[setting] = path.read_text().strip()


def _configure_sqlite(app: Flask) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINTs: SQLAlchemy emits BEGIN itself — BEGIN IMMEDIATE for
    a transaction that may write, so writers queue for the lock instead of failing (``core.db``); foreign keys
    enforced as PostgreSQL does; WAL so readers never wait for the writer; a busy timeout long enough for a queue
    of an office's writers."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from .core.db import check_sqlite_write, sqlite_begin_statement
    from .extensions import db

    busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    strict = bool(app.config.get("SQLITE_STRICT_WRITES"))
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL is safe against corruption with synchronous=NORMAL; a power cut may lose the last commits only
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql(sqlite_begin_statement())

        @event.listens_for(engine, "before_cursor_execute")
        def _on_execute(_conn, _cursor, statement, _parameters, _context, _executemany):
            check_sqlite_write(statement, strict=strict)
