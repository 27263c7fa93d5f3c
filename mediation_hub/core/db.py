"""Declarative base with a constraint naming convention, so Alembic diffs stay stable."""

from __future__ import annotations

import enum
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Dialect, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model maps one Table (none maps a join or a select): its __table__ has a Table's insert(), c, indexes
        __table__: ClassVar[sa.Table]


def utcnow() -> datetime:
    """The current instant in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A UTC timestamp that comes back timezone-aware on SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


def affected_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through ``Session.execute`` matched. The session types every answer
    as a ``Result``; for such a statement it is a ``CursorResult``, which counts them."""
    return cast(CursorResult[Any], result).rowcount


def provisional_flag() -> MappedColumn[bool]:
    """Whether the deadline beside it was counted over a provisional calendar year (``core.calendar``)."""
    return mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false())


def enum_column(enum_cls: type[enum.Enum], name: str, **kwargs: Any) -> sa.Enum:
    """A portable enum column stored as its value (a VARCHAR with a named CHECK constraint)."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
        **kwargs,
    )


def render_migration_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Alembic autogenerate: write our column types as plain SQLAlchemy types in migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# --- SQLite: writers queue instead of failing ------------------------------------------------------------------
#
# SQLite has one writer at a time. A transaction that begins as a reader (plain BEGIN) and then writes must
# upgrade its lock, and when another connection wrote meanwhile the upgrade fails at once with "database is
# locked" (SQLITE_BUSY_SNAPSHOT: the busy timeout cannot help, the reader's snapshot is stale). So a transaction
# that may write begins with BEGIN IMMEDIATE: it takes the write lock first and waits its turn (busy_timeout),
# exactly as a row lock waits on PostgreSQL, and every request gets its real answer (201, 409), never a 503.
# Readers stay plain BEGIN: with WAL they never wait for the writer.
#
# Which is which: requests with an unsafe method (POST, PUT, PATCH, DELETE), jobs and commands write; GET, HEAD
# and OPTIONS requests read. A reading request that must write (the once-a-minute "session still in use" stamp)
# says so with ``writing()``; a write without it is refused in tests (``SQLITE_STRICT_WRITES``) and logged in
# production, so no such write goes unnoticed.

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _reading_request() -> bool:
    """True inside a GET/HEAD/OPTIONS request that has not declared a write."""
    from flask import g, has_request_context, request

    return has_request_context() and request.method in SAFE_METHODS and not g.get("_write_intent", False)


# A thread that only looks (a browser test checking what the page saved, while the server it drives writes) reads
# outside any request; it says so here, or its first SELECT would take the write lock and hold the server up.
_THREAD_READS = ContextVar("sqlite_thread_reads", default=False)


def thread_reads(value: bool = True) -> None:
    """Make this thread's transactions outside requests plain (deferred) on SQLite: for a thread that reads."""
    _THREAD_READS.set(value)


def sqlite_begin_statement() -> str:
    from flask import has_request_context

    if _reading_request() or (not has_request_context() and _THREAD_READS.get()):
        return "BEGIN"
    return "BEGIN IMMEDIATE"


class WriteInReadingRequest(RuntimeError):
    """A GET (or HEAD, OPTIONS) request wrote without ``writing()``: on SQLite that write can fail under load."""


def check_sqlite_write(statement: str, *, strict: bool) -> None:
    if not _reading_request() or not statement.lstrip().upper().startswith(_WRITE_WORDS):
        return
    from flask import current_app, request

    message = f"{request.method} {request.path} writes without writing(): {statement.split(None, 3)[:3]}"
    if strict:
        raise WriteInReadingRequest(message)
    current_app.logger.warning(message)


# ``writing()`` (a reading request that must write now) is a transaction boundary: it lives in core/uow.py.
