"""The bulk path: cases written many at a time with their parties and events (the import of historical cases).

``imports.service`` reads, checks and counts the rows of a file and decides when a batch commits; this module
writes them, as cases, parties, events and the number counters are this package's tables. A batch is numbered
with one counter update per year, then inserted with one executemany per table (the ORM's bulk path, and
RETURNING in parameter order on SQLite, fall back to one statement per row); the new ids come back through the
unique source number.

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
    source number. A unique violation (a source number imported meanwhile) fails the whole call."""
    _number(organization, items)
    db.session.execute(sa.insert(Case.__table__), [item.case for item in items])
    ids = _new_ids(organization.id, source_system, [item.source_number for item in items])
    parties: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for item in items:
        case_id = ids[item.source_number]
        parties.extend({**party, "case_id": case_id} for party in item.parties)
        for code, on_date, data in item.events:
            if code == "registered":
                data = {"number": item.case["number"], **data}
            events.append(event_values(case_id, organization, None, code, actor, on_date, data))
    db.session.execute(sa.insert(Party.__table__), parties)
    db.session.execute(sa.insert(CaseEvent.__table__), events)
    return ids


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
