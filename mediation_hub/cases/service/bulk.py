"""The bulk path: cases written many at a time with their parties and events (the import of historical cases).

``imports.service`` reads, checks and counts the rows of a file and decides when a batch commits; this module
writes them, as cases, parties, events and the number counters are this package's tables. A batch is numbered
with one counter update per year, then written with one ``COPY`` per table on PostgreSQL (the case ids reserved
from their sequence first; ``COPY`` writes the same rows as the INSERTs at about twice their speed) and one
executemany per table elsewhere (the ORM's bulk path, and RETURNING in parameter order on SQLite, fall back to
one statement per row; the new ids come back through the unique source number).

Events written in bulk reach no per-event listener: when an import ends, ``announce_imported`` emits one
``CasesImported`` for the span of days it touched (the report aggregates rebuild that span after the commit)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import sqlalchemy as sa

from ...core.actor import Actor
from ...core.events import emit
from ...extensions import db
from ..events import CasesImported, event_values
from ..models import Case, CaseEvent, Party
from ..numbering import format_number, next_sequence


class ImportedCase(Protocol):
    """A checked row, ready to insert (``imports.rows.PreparedCase``): the case's columns (its number comes at
    insert), its parties' columns and the events that tell its history."""

    @property
    def source_number(self) -> str: ...

    @property
    def case(self) -> dict[str, Any]: ...

    @property
    def parties(self) -> list[dict[str, Any]]: ...

    @property
    def events(self) -> list[tuple[str, date, dict[str, Any]]]: ...


@dataclass(frozen=True)
class HandlingOrganization:
    """The handling organisation as an event row needs it (id and region), without a session-bound object."""

    id: int
    region_code: str


def insert_imported_cases(
    organization: HandlingOrganization, source_system: str, items: Sequence[ImportedCase], actor: Actor
) -> dict[str, int]:
    """Number ``items`` in the organisation's yearly sequences and insert their cases, parties and events in bulk
    (each item's ``case["number"]`` is set); flushes nothing else, commits nothing. Returns the new case ids by
    source number. A unique violation (a source number imported meanwhile) fails the whole call.

    On PostgreSQL the rows go in with ``COPY`` on the session's own connection (same transaction), the case ids
    reserved from the sequence first; elsewhere with one executemany per table. Both write the same rows."""
    _number(organization, items)
    if copies():
        ids = _reserved_case_ids(len(items))
        _copy_rows(Case.__table__, [{**item.case, "id": case_id} for item, case_id in zip(items, ids, strict=True)])
        by_number = {item.source_number: case_id for item, case_id in zip(items, ids, strict=True)}
        parties, events = _dependent_rows(organization, items, by_number, actor)
        _copy_rows(Party.__table__, parties)
        _copy_rows(CaseEvent.__table__, events)
        return by_number
    db.session.execute(sa.insert(Case.__table__), [item.case for item in items])
    by_number = _new_ids(organization.id, source_system, [item.source_number for item in items])
    parties, events = _dependent_rows(organization, items, by_number, actor)
    db.session.execute(sa.insert(Party.__table__), parties)
    db.session.execute(sa.insert(CaseEvent.__table__), events)
    return by_number


def _dependent_rows(
    organization: HandlingOrganization, items: Sequence[ImportedCase], ids: dict[str, int], actor: Actor
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The parties' and the events' rows of the numbered ``items``, given their case ids by source number."""
    parties: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for item in items:
        case_id = ids[item.source_number]
        parties.extend({**party, "case_id": case_id} for party in item.parties)
        for code, on_date, data in item.events:
            if code == "registered":
                data = {"number": item.case["number"], **data}
            events.append(event_values(case_id, organization, None, code, actor, on_date, data))
    return parties, events


# --- PostgreSQL: COPY on the session's connection ---------------------------------------------------------------


def copies() -> bool:
    """Whether the bulk path writes with COPY (PostgreSQL) rather than executemany INSERTs."""
    return db.session.get_bind().dialect.name == "postgresql"


def _reserved_case_ids(count: int) -> list[int]:
    """``count`` new ids from the sequence of ``cases.id``, in ascending order (as an INSERT would take them)."""
    ids = db.session.scalars(
        sa.text("SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, :n)"), {"n": count}
    )
    return sorted(ids)


def _copy_rows(table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """``COPY`` ``rows`` into ``table`` through the session's connection, with exactly the values an executemany
    INSERT of the same dicts writes: the columns of the first row, then the Python-side defaults of the others
    (each row its own, as the INSERT evaluates them), every value through its column type's bind processing and
    psycopg's adaptation; columns with neither (``id`` of parties and events) take the server's default.

    A refusal comes back as SQLAlchemy's exception (``IntegrityError`` for a violated constraint), like the
    INSERT's; the caller rolls back, so nothing of the batch stays."""
    if not rows:
        return
    import psycopg
    from psycopg import sql

    connection = db.session.connection()
    dialect = connection.dialect
    given = list(rows[0])
    defaults = [
        (column.name, column.default)
        for column in table.columns
        if column.name not in rows[0] and isinstance(column.default, sa.ColumnDefault)
    ]
    names = given + [name for name, _ in defaults]
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(name) for name in names)
    )
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [row[name] for name in given]
                values.extend(_default_value(default) for _, default in defaults)
                copy.write_row(
                    [
                        value if process is None else process(value)
                        for value, process in zip(values, processors, strict=True)
                    ]
                )
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(
            statement.as_string(driver), None, exc, psycopg.Error, dialect=dialect
        ) from exc


def _default_value(default: sa.ColumnDefault) -> Any:
    if default.is_clause_element:
        raise TypeError("a SQL expression default cannot be written with COPY")
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a callable of no arguments to take the execution context
    return default.arg


def _number(organization: HandlingOrganization, items: Sequence[ImportedCase]) -> None:
    """One counter update per year reserves the whole run of numbers, handed out in the items' order."""
    by_year: dict[int, list[ImportedCase]] = defaultdict(list)
    for item in items:
        by_year[item.case["received_on"].year].append(item)
    for year, of_year in by_year.items():
        first = next_sequence(organization.id, year, len(of_year)) - len(of_year) + 1
        for offset, item in enumerate(of_year):
            item.case["number"] = format_number(organization.region_code, organization.id, year, first + offset)


def _new_ids(organization_id: int, source_system: str, source_numbers: list[str]) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Case.source_number, Case.id).where(
            Case.organization_id == organization_id,
            Case.source_system == source_system,
            Case.source_number.in_(source_numbers),
        )
    )
    return {number: case_id for number, case_id in rows if number is not None}


def announce_imported(first_day: date, last_day: date) -> None:
    """Tell the listeners that cases with events from ``first_day`` to ``last_day`` were written in bulk (the
    report aggregates rebuild that span once the caller's commit is through)."""
    emit(CasesImported(first_day=first_day, last_day=last_day))


# --- PostgreSQL planner statistics for a table an import grows fast -------------------------------------------


def analyze_case_tables() -> None:
    """Refresh PostgreSQL's statistics of the tables the bulk path fills (the caller commits, so every session's
    planner sees them)."""
    db.session.execute(sa.text("ANALYZE cases, parties, case_events"))


def estimated_case_rows() -> int:
    """PostgreSQL's estimate of the cases from the last ANALYZE (0 before the first)."""
    estimate = db.session.scalar(
        sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": "cases"}
    )
    return max(0, int(estimate or 0))
