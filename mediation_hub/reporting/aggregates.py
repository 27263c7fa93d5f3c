"""Daily and monthly aggregates of the case event log, kept exactly in step with it, so rates stay fast.

The rates (DESIGN.md "Rates") are defined on the append-only ``case_events`` log; ``queries.rate_counts``
counts them there and stays the reference. At ten million cases that scan is seconds, so the report reads
three small tables instead:

``case_daily_stats``   one row per (day, organisation, region, studio, category) with the events of that day:
                       received, accepted, declined, concluded by outcome, concluded on time, and
                       ``completed`` = cases *registered* that day (under those keys) that were ever concluded
                       or declined. Keys are the handler at the event, as in the log; the category is the case's.
``case_monthly_stats`` the same, summed per calendar month (``month`` is the first day): a province-year is
                       twelve months of rows instead of 365 days of them.
``case_completion_cohorts``  (completion day, registration day, keys of the registration) → cases. It corrects
                       ``completed`` for a report whose ``as_of`` lies before some completions:
                       completed(period, as_of) = Σ completed over the period's registration rows
                                                  − Σ cohort cases registered in the period, completed after as_of.
                       For the usual as_of (today) the correction reads an empty index range.

A period is cut into whole months (monthly table) and the odd days at either end (daily table); one UNION ALL
statement sums the pieces. Scope and grouping use the same columns as the event query (region subtree through
the regions' materialised path), so the numbers are identical; tests/test_reporting_aggregates.py checks
that on generated histories.

Maintenance: ``reporting.listeners`` subscribes ``apply_event`` to the rate events (``case.registered``,
``case.accepted``, ``case.declined``, ``case.concluded``) that ``cases.events.append_event`` announces for every row
it writes, whoever writes it (the cases and transfer services, factories): it upserts the affected rows
(INSERT … ON CONFLICT DO UPDATE, on SQLite and PostgreSQL) in the same transaction as the event. An import
announces ``case.imported`` once; its listener rebuilds that span after the import commits. Other bulk loads that
bypass the cases functions (COPY, Core inserts) call ``rebuild_daily_stats(from, to)`` afterwards (CLI:
``mediation-hub reports rebuild-aggregates``).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from ..cases.events import CaseStepRecorded
from ..cases.models import Case, CaseEvent
from ..core.uow import transaction
from ..extensions import Model, db
from ..legal_aid.models import LegalAidApplication
from ..regions.models import Region
from ..registry.models import Organization
from ..transfers.models import Transfer

if TYPE_CHECKING:  # for the annotations; the functions import from queries where they run, as before
    from .queries import Scope

# one piece of a report period: (table, its date column, first day, last day) -> the SELECT over it
PieceSelect = Callable[[sa.Table, sa.ColumnElement[date], date, date], sa.Select[Any]]

RATE_CODES = ("registered", "accepted", "declined", "concluded")
COMPLETING_CODES = ("concluded", "declined")
OUTCOMES = ("agreement", "no_agreement", "withdrawn", "referred")
# concluded within the limit in force (extensions included), within the original limit, and concluded after an
# extension; "completed" stays last (the completion correction relies on it)
TIME_FIELDS = ("concluded_on_time", "concluded_on_time_original", "concluded_extended")
STAT_FIELDS = ("received", "accepted", "declined", "concluded", *OUTCOMES, *TIME_FIELDS, "completed")
# cases handed over by an accepted transfer: into the keys (organisation, region) and out of them. A region's rollup
# counts only the moves that cross its boundary, so a move between two of its own organisations is neither.
MOVE_FIELDS = ("transferred_in", "transferred_out")
MOVED_OUT_CODE, MOVED_IN_CODE = "transfer_accepted", "handling_organization_changed"
KEY_FIELDS = ("organization_id", "region_code", "studio_id", "category_code")
NO_STUDIO = 0  # studio_id is part of the primary key, so "no studio" is 0 rather than NULL


def _count_column() -> Mapped[int]:
    return mapped_column(sa.Integer, nullable=False, default=0, server_default="0")


class _CountColumns:
    """The rate counts (STAT_FIELDS), shared by every aggregate table of the case event log."""

    received: Mapped[int] = _count_column()
    accepted: Mapped[int] = _count_column()
    declined: Mapped[int] = _count_column()
    concluded: Mapped[int] = _count_column()
    agreement: Mapped[int] = _count_column()
    no_agreement: Mapped[int] = _count_column()
    withdrawn: Mapped[int] = _count_column()
    referred: Mapped[int] = _count_column()
    concluded_on_time: Mapped[int] = _count_column()
    concluded_on_time_original: Mapped[int] = _count_column()
    concluded_extended: Mapped[int] = _count_column()
    completed: Mapped[int] = _count_column()


class _MoveColumns:
    """Cases moved in and out by accepted transfers (the handled basis only: the place of a dispute never moves)."""

    transferred_in: Mapped[int] = _count_column()
    transferred_out: Mapped[int] = _count_column()


class _StatRow(_CountColumns, _MoveColumns):
    """Key and count columns shared by the daily and the monthly table.

    No foreign keys: the rows are derived from ``case_events``, whose keys are checked; a rebuild over
    ten million cases writes tens of millions of rows, and a foreign-key check per row would triple its time."""

    organization_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    region_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    category_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)


class CaseDailyStat(_StatRow, Model):
    """Rate events of one day under one (organisation, region, studio, category)."""

    __tablename__ = "case_daily_stats"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)

    __table_args__ = (
        sa.PrimaryKeyConstraint("day", *KEY_FIELDS, name="pk_case_daily_stats"),
        sa.Index("ix_case_daily_stats_region_day", "region_code", "day"),
        sa.Index("ix_case_daily_stats_org_day", "organization_id", "day"),
        sa.Index("ix_case_daily_stats_studio_day", "studio_id", "day"),
        # grouping by studio reads only the rows of studios
        sa.Index(
            "ix_case_daily_stats_studio_rows",
            "day",
            postgresql_where=sa.text("studio_id <> 0"),
            sqlite_where=sa.text("studio_id <> 0"),
        ),
    )


class CaseMonthlyStat(_StatRow, Model):
    """The daily rows of one calendar month summed (``month`` is its first day)."""

    __tablename__ = "case_monthly_stats"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)

    __table_args__ = (
        sa.PrimaryKeyConstraint("month", *KEY_FIELDS, name="pk_case_monthly_stats"),
        sa.Index("ix_case_monthly_stats_region_month", "region_code", "month"),
        sa.Index("ix_case_monthly_stats_org_month", "organization_id", "month"),
        sa.Index("ix_case_monthly_stats_studio_month", "studio_id", "month"),
        sa.Index(
            "ix_case_monthly_stats_studio_rows",
            "month",
            postgresql_where=sa.text("studio_id <> 0"),
            sqlite_where=sa.text("studio_id <> 0"),
        ),
    )


class _RegionKeys:
    region_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    category_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)


class _RegionStatRow(_RegionKeys, _CountColumns, _MoveColumns):
    """Counts under one region *and all its ancestors*: an event in 容城县 adds to 容城县, 保定市 and 河北省."""


class CaseRegionDailyStat(_RegionStatRow, Model):
    """The daily counts rolled up the region tree: a region's whole subtree is its own row."""

    __tablename__ = "case_region_daily_stats"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)

    __table_args__ = (
        sa.PrimaryKeyConstraint("region_code", "day", "category_code", name="pk_case_region_daily_stats"),
    )


class CaseRegionMonthlyStat(_RegionStatRow, Model):
    """The monthly counts rolled up the region tree (a province-year is 12 × 15 rows)."""

    __tablename__ = "case_region_monthly_stats"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)

    __table_args__ = (
        sa.PrimaryKeyConstraint("region_code", "month", "category_code", name="pk_case_region_monthly_stats"),
    )


class CaseCompletionCohort(Model):
    """Cases registered on ``registered_on`` (under the registration's keys) first completed on ``completed_on``."""

    __tablename__ = "case_completion_cohorts"

    completed_on: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    registered_on: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    region_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    category_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    cases: Mapped[int] = _count_column()

    __table_args__ = (
        sa.PrimaryKeyConstraint("completed_on", "registered_on", *KEY_FIELDS, name="pk_case_completion_cohorts"),
    )


class CasePlaceDailyStat(_RegionKeys, _CountColumns, Model):
    """The occurred basis (属地): the rate events of one day under the place where the dispute arose
    (``cases.occurred_region_code``, down to the town or village) and every ancestor of it, whoever handled them."""

    __tablename__ = "case_place_daily_stats"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)

    __table_args__ = (sa.PrimaryKeyConstraint("region_code", "day", "category_code", name="pk_case_place_daily_stats"),)


class CasePlaceMonthlyStat(_RegionKeys, _CountColumns, Model):
    """The occurred basis per calendar month (``month`` is its first day)."""

    __tablename__ = "case_place_monthly_stats"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)

    __table_args__ = (
        sa.PrimaryKeyConstraint("region_code", "month", "category_code", name="pk_case_place_monthly_stats"),
    )


class CasePlaceCohort(Model):
    """The occurred basis's completion cohorts: cases registered on ``registered_on`` whose dispute arose under
    ``region_code`` (rolled up: the place and each ancestor), first completed on ``completed_on``."""

    __tablename__ = "case_place_cohorts"

    completed_on: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    registered_on: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    category_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    cases: Mapped[int] = _count_column()

    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "completed_on", "registered_on", "region_code", "category_code", name="pk_case_place_cohorts"
        ),
    )


# Indexes other report queries need at ten million cases (declared here, next to the reason): the legal-aid
# figures count applications filed or decided in the period; each index holds every column its count reads, so the
# count is an index-only scan of the period. The flows count what a scope's organisations sent or received.
_applications, _transfers = LegalAidApplication.__table__.c, Transfer.__table__.c
sa.Index("ix_legal_aid_applications_filed_scope", _applications.filed_on, _applications.filed_centre_id)
sa.Index(
    "ix_legal_aid_applications_decided_scope",
    _applications.decided_on,
    _applications.centre_id,
    _applications.decide_by,
    _applications.granted,
)
sa.Index("ix_transfers_from_requested_on", _transfers.from_organization_id, _transfers.requested_on)
sa.Index("ix_transfers_to_requested_on", _transfers.to_organization_id, _transfers.requested_on)

# The dashboard's overdue list: open cases past their time limit, oldest first. With ten years of history
# nearly every case has a due date in the past, so an index on due_on alone walks millions of concluded cases
# before it meets an open one; this partial index holds only the open ones, with their handler (on PostgreSQL)
# so that the count and the list for a region are answered from the index alone.
OPEN_CASE_STATES = "status IN ('accepted', 'in_mediation')"
sa.Index(
    "ix_cases_open_due_on",
    Case.__table__.c.due_on,
    Case.__table__.c.id,
    postgresql_where=sa.text(OPEN_CASE_STATES),
    sqlite_where=sa.text(OPEN_CASE_STATES),
    postgresql_include=["organization_id"],
)


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- incremental maintenance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Keys:
    organization_id: int
    region_code: str
    studio_id: int
    category_code: str

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in KEY_FIELDS}


def _insert(connection: sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"report aggregates support SQLite and PostgreSQL, not {dialect}")


@dataclass(frozen=True)
class _At:
    """Where a rate event counts: its day, keys, the region's ancestors (itself included) and, for the occurred
    basis, the ancestors of the place where the dispute arose."""

    day: date
    keys: _Keys
    ancestors: tuple[str, ...]
    place: tuple[str, ...] = ()


def _ancestors(path: str | None, region_code: str) -> tuple[str, ...]:
    """The region and its ancestors, from its materialised path ('130000/130600/130629/')."""
    return tuple(code for code in (path or f"{region_code}/").split("/") if code)


class _Changes:
    """The aggregate rows one event changes, summed per row, written in one fixed order.

    Every transaction takes its row locks table by table (TABLE_ORDER) and key by key, so two events written
    at once (a registration and a conclusion in the same organisation, day and month) queue rather than
    deadlock; rows with the same key are merged first (a multi-row upsert may touch a row only once)."""

    TABLE_ORDER = (
        "case_daily_stats",
        "case_monthly_stats",
        "case_region_daily_stats",
        "case_region_monthly_stats",
        "case_completion_cohorts",
        "case_place_daily_stats",
        "case_place_monthly_stats",
        "case_place_cohorts",
    )

    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple[tuple[str, Any], ...], dict[str, int]]] = {
            name: {} for name in self.TABLE_ORDER
        }

    def add(self, table: str, key: dict[str, Any], deltas: dict[str, int]) -> None:
        counts = self.rows[table].setdefault(tuple(key.items()), {})
        for name, value in deltas.items():
            counts[name] = counts.get(name, 0) + value

    def organization(self, at: _At, deltas: dict[str, int]) -> None:
        keys = at.keys.values()
        self.add("case_daily_stats", {"day": at.day, **keys}, deltas)
        self.add("case_monthly_stats", {"month": month_start(at.day), **keys}, deltas)

    def rollup(self, prefix: str, at: _At, codes: Iterable[str], deltas: dict[str, int]) -> None:
        month = month_start(at.day)
        for code in codes:
            rollup = {"region_code": code, "category_code": at.keys.category_code}
            self.add(f"case_{prefix}_daily_stats", {"day": at.day, **rollup}, deltas)
            self.add(f"case_{prefix}_monthly_stats", {"month": month, **rollup}, deltas)

    def stats(self, at: _At, deltas: dict[str, int]) -> None:
        self.organization(at, deltas)
        self.rollup("region", at, at.ancestors, deltas)
        self.rollup("place", at, at.place, deltas)

    def cohort(self, completed_on: date, at: _At, delta: int) -> None:
        self.add(
            "case_completion_cohorts",
            {"completed_on": completed_on, "registered_on": at.day, **at.keys.values()},
            {"cases": delta},
        )
        for code in at.place:
            key = {"completed_on": completed_on, "registered_on": at.day, "region_code": code}
            self.add("case_place_cohorts", {**key, "category_code": at.keys.category_code}, {"cases": delta})

    def move(self, sender: _At, receiver: _At) -> None:
        """A case handed over: out of the sender's keys, into the receiver's; a region counts the move only when
        it lies on one side of it (an ancestor of one region and not of the other)."""
        self.organization(sender, {"transferred_out": 1})
        self.organization(receiver, {"transferred_in": 1})
        self.rollup(
            "region", sender, [c for c in sender.ancestors if c not in receiver.ancestors], {"transferred_out": 1}
        )
        self.rollup(
            "region", receiver, [c for c in receiver.ancestors if c not in sender.ancestors], {"transferred_in": 1}
        )

    def write(self, connection: sa.Connection) -> None:
        """One INSERT … ON CONFLICT DO UPDATE per table, rows in key order."""
        for name in self.TABLE_ORDER:
            rows = {key: counts for key, counts in self.rows[name].items() if any(counts.values())}
            if not rows:
                continue
            table = db.metadata.tables[name]
            columns = sorted({column for counts in rows.values() for column in counts})
            ordered = sorted(rows.items(), key=lambda item: tuple(str(v) for _k, v in item[0]))
            stmt = _insert(connection, table).values(
                [{**dict(key), **{c: counts.get(c, 0) for c in columns}} for key, counts in ordered]
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[k for k, _v in ordered[0][0]], set_={c: table.c[c] + stmt.excluded[c] for c in columns}
            )
            connection.execute(stmt)


def _first_completion(case_id: int, before_id: int) -> sa.ScalarSelect[date | None]:
    """The earliest completing event of the case among those already accounted for (smaller ids)."""
    events = CaseEvent.__table__
    return (
        sa.select(sa.func.min(events.c.on_date))
        .where(events.c.case_id == case_id, events.c.code.in_(COMPLETING_CODES), events.c.id < before_id)
        .scalar_subquery()
    )


def _remote_of(organization_id: sa.ColumnElement[int] | int) -> sa.ScalarSelect[bool]:
    """Whether the organisation is another hub's (federation): it lies outside every region of this hub's counts,
    so a case handed to or from it moves across the boundary of each of the local side's regions, the whole
    country included."""
    organizations = Organization.__table__
    return sa.select(organizations.c.hub_id.is_not(None)).where(organizations.c.id == organization_id).scalar_subquery()


def _path_of(code: sa.ColumnElement[str] | str) -> sa.ScalarSelect[str]:
    regions = Region.__table__
    return sa.select(regions.c.path).where(regions.c.code == code).scalar_subquery()


def apply_event(connection: sa.Connection, event: CaseStepRecorded) -> None:
    """Account for one newly inserted rate event in the aggregates (same connection, same transaction).

    Events are applied in id order; each sees only the events of its case with smaller ids (``event_id``), so a
    registration and its completion inserted in one flush are paired exactly once."""
    if event.code not in RATE_CODES:
        return
    cases = Case.__table__
    case = connection.execute(
        sa.select(
            cases.c.category_code,
            cases.c.due_on,
            cases.c.original_due_on,
            cases.c.outcome,
            cases.c.occurred_region_code,
            _path_of(event.region_code).label("path"),
            _path_of(cases.c.occurred_region_code).label("place_path"),
            _first_completion(event.case_id, event.event_id).label("first_done"),
        ).where(cases.c.id == event.case_id)
    ).one()
    place = _ancestors(case.place_path, case.occurred_region_code)
    at = _At(
        event.on_date,
        _Keys(event.organization_id, event.region_code, event.studio_id or NO_STUDIO, case.category_code),
        _ancestors(case.path, event.region_code),
        place,
    )
    changes = _Changes()
    if event.code == "registered":
        deltas = {"received": 1}
        if case.first_done is not None:
            deltas["completed"] = 1
            changes.cohort(case.first_done, at, 1)
    elif event.code == "accepted":
        deltas = {"accepted": 1}
    else:
        deltas = {event.code: 1}
        if event.code == "concluded":
            outcome = (event.data or {}).get("outcome")
            outcome = getattr(case.outcome, "value", case.outcome) if outcome is None else outcome
            if outcome in OUTCOMES:
                deltas[outcome] = 1
            deltas.update(_time_deltas(event.on_date, case.due_on, case.original_due_on))
        _move_completion(connection, changes, event, case.category_code, case.first_done, place)
    changes.stats(at, deltas)
    changes.write(connection)


def _time_deltas(concluded_on: date, due_on: date | None, original_due_on: date | None) -> dict[str, int]:
    """A conclusion against the limit in force, against the original limit, and whether it had been extended."""
    deltas = {}
    if due_on is not None and concluded_on <= due_on:
        deltas["concluded_on_time"] = 1
    if due_on is not None and concluded_on <= (original_due_on or due_on):
        deltas["concluded_on_time_original"] = 1
    if original_due_on is not None:
        deltas["concluded_extended"] = 1
    return deltas


def _move_completion(
    connection: sa.Connection,
    changes: _Changes,
    event: CaseStepRecorded,
    category_code: str,
    prior: date | None,
    place: tuple[str, ...],
) -> None:
    """A completing event: the case's registrations now count as completed (or complete earlier)."""
    if prior is not None and prior <= event.on_date:
        return
    events, regions = CaseEvent.__table__, Region.__table__
    registrations = connection.execute(
        sa.select(events.c.on_date, events.c.organization_id, events.c.region_code, events.c.studio_id, regions.c.path)
        .select_from(events.outerjoin(regions, regions.c.code == events.c.region_code))
        .where(events.c.case_id == event.case_id, events.c.code == "registered", events.c.id < event.event_id)
    ).all()
    for reg in registrations:
        at = _At(
            reg.on_date,
            _Keys(reg.organization_id, reg.region_code, reg.studio_id or NO_STUDIO, category_code),
            _ancestors(reg.path, reg.region_code),
            place,
        )
        if prior is None:
            changes.stats(at, {"completed": 1})
        else:
            changes.cohort(prior, at, -1)
        changes.cohort(event.on_date, at, 1)


def apply_move(connection: sa.Connection, event: CaseStepRecorded) -> None:
    """A case handed over by an accepted transfer (``handling_organization_changed``, the receiver's row): out of
    the keys of the ``transfer_accepted`` row written just before it (the sender's), into the receiver's; both on
    the day of the move. Same connection, same transaction."""
    if event.code != MOVED_IN_CODE:
        return
    events, cases = CaseEvent.__table__, Case.__table__
    category_of = sa.select(cases.c.category_code).where(cases.c.id == event.case_id).scalar_subquery()
    sender = connection.execute(  # one statement: the sender's row, the case's category, both regions' paths
        sa.select(
            events.c.organization_id,
            events.c.region_code,
            events.c.studio_id,
            _path_of(events.c.region_code).label("path"),
            category_of.label("category_code"),
            _path_of(event.region_code).label("receiver_path"),
            _remote_of(events.c.organization_id).label("sender_remote"),
            _remote_of(event.organization_id).label("receiver_remote"),
        ).where(events.c.id == _sent_event_id(event.case_id, event.event_id))
    ).first()
    if sender is None:  # a change of handler without a transfer: nothing was handed over between two keys
        return
    category = sender.category_code
    changes = _Changes()
    changes.move(
        _At(
            event.on_date,
            _Keys(sender.organization_id, sender.region_code, sender.studio_id or NO_STUDIO, category),
            () if sender.sender_remote else _ancestors(sender.path, sender.region_code),
        ),
        _At(
            event.on_date,
            _Keys(event.organization_id, event.region_code, event.studio_id or NO_STUDIO, category),
            () if sender.receiver_remote else _ancestors(sender.receiver_path, event.region_code),
        ),
    )
    changes.write(connection)


def _sent_event_id(
    case_id: int | sa.ColumnElement[int], moved_id: int | sa.ColumnElement[int]
) -> sa.ScalarSelect[int | None]:
    """The ``transfer_accepted`` row a ``handling_organization_changed`` row follows: the case's last one before it."""
    sent = CaseEvent.__table__.alias("sent_row")
    return (
        sa.select(sa.func.max(sent.c.id))
        .where(sent.c.case_id == case_id, sent.c.code == MOVED_OUT_CODE, sent.c.id < moved_id)
        .scalar_subquery()
    )


# --- rebuild after bulk loads ----------------------------------------------------------------------------------


def _first_done_subquery() -> sa.Subquery:
    events = CaseEvent.__table__
    return (
        sa.select(events.c.case_id, sa.func.min(events.c.on_date).label("first_done"))
        .where(events.c.code.in_(COMPLETING_CODES))
        .group_by(events.c.case_id)
        .subquery("first_done")
    )


def _rebuild_range(date_from: date | None, date_to: date | None) -> tuple[date, date] | None:
    """Whole months covering [from, to] and the registrations of cases completed in it."""
    events = CaseEvent.__table__
    bounds = sa.select(sa.func.min(events.c.on_date), sa.func.max(events.c.on_date)).where(
        events.c.code.in_(RATE_CODES)
    )
    low, high = db.session.execute(bounds).one()
    if low is None:
        return None
    date_from = max(date_from or low, low)
    date_to = min(date_to or high, high)
    if date_to < date_from:
        return None
    completed_in_range = sa.select(events.c.case_id).where(
        events.c.code.in_(COMPLETING_CODES), events.c.on_date.between(date_from, date_to)
    )
    earliest = db.session.scalar(
        sa.select(sa.func.min(events.c.on_date)).where(
            events.c.code == "registered", events.c.case_id.in_(completed_in_range)
        )
    )
    if earliest is not None:
        date_from = min(date_from, earliest)
    return month_start(date_from), month_end(date_to)


REBUILT_TABLES = (
    # (table, its date column): what a rebuild deletes in its range and fills again
    ("case_daily_stats", "day"),
    ("case_monthly_stats", "month"),
    ("case_completion_cohorts", "registered_on"),
    ("case_region_daily_stats", "day"),
    ("case_region_monthly_stats", "month"),
    ("case_place_daily_stats", "day"),
    ("case_place_monthly_stats", "month"),
    ("case_place_cohorts", "registered_on"),
)


def rebuild_daily_stats(date_from: date | None = None, date_to: date | None = None) -> dict[str, int]:
    """Recompute the aggregates for [from, to] (everything by default) from the event log; flush only.

    The range widens to whole months and to the registration days of cases completed inside it, so the
    result is exact. Returns the number of rows written per table."""
    span = _rebuild_range(date_from, date_to)
    tables = [(db.metadata.tables[name], column) for name, column in REBUILT_TABLES]
    if span is None:
        return {table.name: 0 for table, _column in tables}
    low, high = span
    everything = date_from is None and date_to is None
    connection = db.session.connection()
    for table, column in tables:
        if everything:  # a full rebuild after a bulk load: empty tables, indexes built once at the end (sorted)
            db.session.execute(table.delete())
            for index in table.indexes:
                index.drop(connection, checkfirst=True)
        else:
            db.session.execute(table.delete().where(table.c[column].between(low, high)))
    fills = (
        ("case_daily_stats", ["day", *KEY_FIELDS, *STAT_FIELDS, *MOVE_FIELDS], _daily_select(low, high)),
        ("case_monthly_stats", ["month", *KEY_FIELDS, *STAT_FIELDS, *MOVE_FIELDS], _monthly_select(low, high)),
        ("case_completion_cohorts", ["completed_on", "registered_on", *KEY_FIELDS, "cases"], _cohort_select(low, high)),
        (
            "case_region_daily_stats",
            ["day", "region_code", "category_code", *STAT_FIELDS, *MOVE_FIELDS],
            _rollup_select("day", low, high),
        ),
        (
            "case_region_monthly_stats",
            ["month", "region_code", "category_code", *STAT_FIELDS, *MOVE_FIELDS],
            _rollup_select("month", low, high),
        ),
        ("case_place_daily_stats", ["day", "region_code", "category_code", *STAT_FIELDS], _place_select(low, high)),
        (
            "case_place_monthly_stats",
            ["month", "region_code", "category_code", *STAT_FIELDS],
            _place_monthly_select(low, high),
        ),
        (
            "case_place_cohorts",
            ["completed_on", "registered_on", "region_code", "category_code", "cases"],
            _place_cohort_select(low, high),
        ),
    )
    postgres = connection.dialect.name == "postgresql"
    if everything and postgres:
        # after a bulk load the planner has no statistics of the rows just written: it would take a grouping of
        # millions of events for one row and join it to every region's ancestors in a nested loop (hours at 10M)
        for source in ("case_events", "cases", "regions"):
            db.session.execute(sa.text(f"ANALYZE {source}"))
    for name, columns, select in fills:
        db.session.execute(db.metadata.tables[name].insert().from_select(columns, select))
        if everything and postgres:  # the next fills read this one (monthly from daily, rollups from both)
            db.session.execute(sa.text(f"ANALYZE {name}"))
    if everything:
        for table, _column in tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)
    db.session.flush()
    return {
        table.name: db.session.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c[column].between(low, high))
        ).scalar_one()
        for table, column in tables
    }


def _rate_columns(e: sa.FromClause, c: sa.FromClause, done: sa.Subquery) -> list[sa.ColumnElement[int]]:
    """The STAT_FIELDS of a group of event rows ``e`` (joined to their case ``c`` and its first completion)."""
    outcome = sa.func.coalesce(e.c.data["outcome"].as_string(), c.c.outcome)
    concluded = e.c.code == "concluded"

    def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.count().filter(condition)

    timed = sa.and_(concluded, c.c.due_on.is_not(None))
    return [
        count_if(e.c.code == "registered"),
        count_if(e.c.code == "accepted"),
        count_if(e.c.code == "declined"),
        count_if(concluded),
        *(count_if(sa.and_(concluded, outcome == name)) for name in OUTCOMES),
        count_if(sa.and_(timed, e.c.on_date <= c.c.due_on)),
        count_if(sa.and_(timed, e.c.on_date <= sa.func.coalesce(c.c.original_due_on, c.c.due_on))),
        count_if(sa.and_(concluded, c.c.original_due_on.is_not(None))),
        count_if(sa.and_(e.c.code == "registered", done.c.first_done.is_not(None))),
    ]


def _rate_events(low: date, high: date) -> tuple[sa.FromClause, sa.FromClause, sa.Subquery, sa.Join]:
    e, c = CaseEvent.__table__, Case.__table__
    done = _first_done_subquery()
    joined = e.join(c, c.c.id == e.c.case_id).outerjoin(done, done.c.case_id == e.c.case_id)
    return e, c, done, joined


def moves_subquery(low: date, high: date) -> sa.Subquery:
    """Every case handed over in [low, high]: the ``handling_organization_changed`` row (the receiver's keys) with
    the ``transfer_accepted`` row before it (the sender's), and the case's category."""
    moved, sent, c = CaseEvent.__table__.alias("moved"), CaseEvent.__table__.alias("sent"), Case.__table__
    return (
        sa.select(
            moved.c.on_date,
            c.c.category_code,
            moved.c.organization_id.label("to_organization_id"),
            moved.c.region_code.label("to_region_code"),
            sa.func.coalesce(moved.c.studio_id, NO_STUDIO).label("to_studio_id"),
            sent.c.organization_id.label("from_organization_id"),
            sent.c.region_code.label("from_region_code"),
            sa.func.coalesce(sent.c.studio_id, NO_STUDIO).label("from_studio_id"),
            _remote_of(moved.c.organization_id).label("to_remote"),
            _remote_of(sent.c.organization_id).label("from_remote"),
        )
        .select_from(
            moved.join(sent, sent.c.id == _sent_event_id(moved.c.case_id, moved.c.id)).join(
                c, c.c.id == moved.c.case_id
            )
        )
        .where(moved.c.code == MOVED_IN_CODE, moved.c.on_date.between(low, high))
        .subquery("moves")
    )


def _zeros(names: Sequence[str]) -> list[sa.ColumnElement[int]]:
    return [sa.literal(0) for _name in names]


def _regrouped(parts: list[sa.Select[Any]], width: int, names: Sequence[str]) -> sa.Select[Any]:
    """UNION ALL of key + count rows, summed again per key (the first ``width`` columns)."""
    union = sa.union_all(*parts).subquery("parts")
    columns = list(union.c)
    keys, counts = columns[:width], columns[width:]
    assert len(counts) == len(names), (len(counts), names)
    return sa.select(*keys, *(sa.func.sum(col) for col in counts)).group_by(*keys).order_by(*keys)


def _daily_select(low: date, high: date) -> sa.Select[Any]:
    e, c, done, joined = _rate_events(low, high)
    keys = (
        e.c.on_date,
        e.c.organization_id,
        e.c.region_code,
        sa.func.coalesce(e.c.studio_id, NO_STUDIO),
        c.c.category_code,
    )
    rates = (
        sa.select(*keys, *_rate_columns(e, c, done), *_zeros(MOVE_FIELDS))
        .select_from(joined)
        .where(e.c.code.in_(RATE_CODES), e.c.on_date.between(low, high))
        .group_by(*keys)
    )
    m = moves_subquery(low, high)
    parts = [rates]
    for side, one in (("to", (1, 0)), ("from", (0, 1))):
        side_keys = (
            m.c.on_date,
            m.c[f"{side}_organization_id"],
            m.c[f"{side}_region_code"],
            m.c[f"{side}_studio_id"],
            m.c.category_code,
        )
        parts.append(sa.select(*side_keys, *_zeros(STAT_FIELDS), *(sa.literal(v) for v in one)))
    return _regrouped(parts, len(keys), (*STAT_FIELDS, *MOVE_FIELDS))


def _month_of(column: sa.ColumnElement[date]) -> sa.ColumnElement[date]:
    """The first day of the month of a date column (portable)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.date_trunc("month", column), sa.Date)
    return sa.func.date(column, "start of month")


def _monthly_select(low: date, high: date) -> sa.Select[Any]:
    d = CaseDailyStat.__table__
    keys = (_month_of(d.c.day), *(d.c[name] for name in KEY_FIELDS))
    return (
        sa.select(*keys, *(sa.func.sum(d.c[name]) for name in (*STAT_FIELDS, *MOVE_FIELDS)))
        .where(d.c.day.between(low, high))
        .group_by(*keys)
        .order_by(*keys)
    )


def _ancestor_pairs() -> sa.CTE:
    """(code, ancestor) for every region and each of its ancestors, itself included: a recursive walk up
    ``parent_code`` (the same chain as the materialised path), joined by equality rather than a LIKE per row."""
    regions = Region.__table__
    base = sa.select(regions.c.code.label("code"), regions.c.code.label("ancestor")).cte("ancestors", recursive=True)
    parent = regions.alias("parent_region")
    step = (
        sa.select(base.c.code, parent.c.parent_code)
        .select_from(base.join(parent, parent.c.code == base.c.ancestor))
        .where(parent.c.parent_code.is_not(None))
    )
    return base.union_all(step)


def _rollup_select(column: str, low: date, high: date) -> sa.Select[Any]:
    """Organisation-level rate counts summed into every ancestor region of their region; moves into every ancestor
    of one side's region that is no ancestor of the other's (the moves that cross that region's boundary)."""
    source = (CaseDailyStat if column == "day" else CaseMonthlyStat).__table__
    pairs = _ancestor_pairs()
    rates = (
        sa.select(source.c[column], pairs.c.ancestor, source.c.category_code)
        .add_columns(*(sa.func.sum(source.c[name]) for name in STAT_FIELDS), *_zeros(MOVE_FIELDS))
        .select_from(source.join(pairs, pairs.c.code == source.c.region_code))
        .where(source.c[column].between(low, high))
        .group_by(source.c[column], pairs.c.ancestor, source.c.category_code)
    )
    m = moves_subquery(low, high)
    day = m.c.on_date if column == "day" else _month_of(m.c.on_date)
    parts = [rates]
    for side, other, one in (("to", "from", (1, 0)), ("from", "to", (0, 1))):
        ancestor, other_region = Region.__table__.alias(f"{side}_ancestor"), Region.__table__.alias(f"{other}_region")
        parts.append(
            sa.select(day, pairs.c.ancestor, m.c.category_code, *_zeros(STAT_FIELDS), *(sa.literal(v) for v in one))
            .select_from(
                m.join(pairs, pairs.c.code == m.c[f"{side}_region_code"])
                .join(ancestor, ancestor.c.code == pairs.c.ancestor)
                .join(other_region, other_region.c.code == m.c[f"{other}_region_code"])
            )
            .where(
                sa.not_(m.c[f"{side}_remote"]),
                sa.or_(m.c[f"{other}_remote"], ~other_region.c.path.startswith(ancestor.c.path)),
            )
        )
    return _regrouped(parts, 3, (*STAT_FIELDS, *MOVE_FIELDS))


def _cohort_select(low: date, high: date) -> sa.Select[Any]:
    e, c = CaseEvent.__table__, Case.__table__
    done = _first_done_subquery()
    keys = (
        done.c.first_done,
        e.c.on_date,
        e.c.organization_id,
        e.c.region_code,
        sa.func.coalesce(e.c.studio_id, NO_STUDIO),
        c.c.category_code,
    )
    return (
        sa.select(*keys, sa.func.count())
        .select_from(e.join(c, c.c.id == e.c.case_id).join(done, done.c.case_id == e.c.case_id))
        .where(e.c.code == "registered", e.c.on_date.between(low, high))
        .group_by(*keys)
        .order_by(*keys)
    )


def _place_select(low: date, high: date) -> sa.Select[Any]:
    """The occurred basis per day: the rate counts per place (grouped first), then summed into every ancestor."""
    e, c, done, joined = _rate_events(low, high)
    keys = (e.c.on_date, c.c.occurred_region_code, c.c.category_code)
    leaf = (
        sa.select(*keys, *(col.label(name) for col, name in zip(_rate_columns(e, c, done), STAT_FIELDS, strict=True)))
        .select_from(joined)
        .where(e.c.code.in_(RATE_CODES), e.c.on_date.between(low, high))
        .group_by(*keys)
        .subquery("places")
    )
    return _rolled(leaf, leaf.c.on_date, leaf.c.occurred_region_code, STAT_FIELDS)


def _rolled(
    leaf: sa.FromClause,
    day: sa.ColumnElement[Any],
    place: sa.ColumnElement[str],
    names: Sequence[str],
    *extra_keys: sa.ColumnElement[Any],
) -> sa.Select[Any]:
    pairs = _ancestor_pairs()
    keys = (*extra_keys, day, pairs.c.ancestor, leaf.c.category_code)
    return (
        sa.select(*keys, *(sa.func.sum(leaf.c[name]) for name in names))
        .select_from(leaf.join(pairs, pairs.c.code == place))
        .group_by(*keys)
        .order_by(*keys)
    )


def _place_monthly_select(low: date, high: date) -> sa.Select[Any]:
    d = CasePlaceDailyStat.__table__
    keys = (_month_of(d.c.day), d.c.region_code, d.c.category_code)
    return (
        sa.select(*keys, *(sa.func.sum(d.c[name]) for name in STAT_FIELDS))
        .where(d.c.day.between(low, high))
        .group_by(*keys)
        .order_by(*keys)
    )


def _place_cohort_select(low: date, high: date) -> sa.Select[Any]:
    e, c = CaseEvent.__table__, Case.__table__
    done = _first_done_subquery()
    keys = (done.c.first_done, e.c.on_date, c.c.occurred_region_code, c.c.category_code)
    leaf = (
        sa.select(*keys, sa.func.count().label("cases"))
        .select_from(e.join(c, c.c.id == e.c.case_id).join(done, done.c.case_id == e.c.case_id))
        .where(e.c.code == "registered", e.c.on_date.between(low, high))
        .group_by(*keys)
        .subquery("place_cohorts")
    )
    return _rolled(leaf, leaf.c.on_date, leaf.c.occurred_region_code, ("cases",), leaf.c.first_done)


# --- reading --------------------------------------------------------------------------------------------------


def split_period(first: date, last: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """[first, last] as odd days at either end (daily table) and a run of whole months (monthly table,
    as (first month, last month))."""
    whole_from = first if first.day == 1 else month_end(first) + timedelta(days=1)
    whole_to = last if last == month_end(last) else month_start(last) - timedelta(days=1)
    if whole_from > whole_to:
        return [(first, last)], None
    days = []
    if first < whole_from:
        days.append((first, whole_from - timedelta(days=1)))
    if last > whole_to:
        days.append((whole_to + timedelta(days=1), last))
    return days, (whole_from, month_start(whole_to))


def _key(
    table: sa.Table,
    date_column: sa.ColumnElement[date],
    group_by: str | None,
    children: list[Region] | None,
    fallback_region: str | None,
) -> sa.ColumnElement[Any] | None:
    """The group key on an aggregate table (the same keys as ``queries.grouping_for`` on the log)."""
    from .queries import month_key, region_child_key

    if group_by is None:
        return None
    if group_by == "month":
        return month_key(date_column)
    if group_by == "category":
        return table.c.category_code
    if group_by == "region":
        return region_child_key(children or [], fallback_region)
    if group_by == "organization":
        return table.c.organization_id
    if group_by == "studio":
        return table.c.studio_id
    raise ValueError(f"unknown grouping {group_by!r}")


def _scoped(stmt: sa.Select[Any], table: sa.Table, scope: Scope, group_by: str | None) -> sa.Select[Any]:
    from ..regions.service import subtree_condition

    if scope.region_code:
        stmt = stmt.where(subtree_condition(table.c.region_code, scope.region_code))
    if scope.organization_id:
        stmt = stmt.where(table.c.organization_id == scope.organization_id)
    if scope.studio_id:
        stmt = stmt.where(table.c.studio_id == scope.studio_id)
    if group_by == "studio":
        stmt = stmt.where(table.c.studio_id != NO_STUDIO)
    if group_by == "region":
        stmt = stmt.join(Region, Region.code == table.c.region_code)
    return stmt


def rate_counts(
    scope: Scope,
    date_from: date,
    date_to: date,
    as_of: date,
    group_by: str | None = None,
    *,
    children: list[Region] | None = None,
    fallback_region: str | None = None,
    basis: str = "handled",
) -> Sequence[Any]:
    """The same rows as ``queries.rate_counts`` (one per group, or one), read from the aggregates.

    A region-only scope (what officials ask for) reads the region rollups: a province-year is 12 monthly rows
    per category. An organisation or studio scope, or a grouping by organisation or studio, reads the
    organisation-level tables. Either way the completion correction comes from the cohorts. The occurred basis
    (a region scope, never grouped by organisation or studio: the service refuses those) reads the place tables."""
    last = min(date_to, as_of)
    if last < date_from:
        return _empty(group_by)
    if basis == "occurred":
        return _region_counts(scope, date_from, last, as_of, group_by, children, fallback_region, basis=basis)
    if scope.organization_id or scope.studio_id or group_by in ("organization", "studio"):
        return _organization_counts(scope, date_from, last, as_of, group_by, children, fallback_region)
    return _region_counts(scope, date_from, last, as_of, group_by, children, fallback_region)


def _period_pieces(
    daily: sa.Table, monthly: sa.Table, first: date, last: date, select_for: PieceSelect
) -> list[sa.Select[Any]]:
    """One SELECT per piece of the period: odd days from ``daily``, whole months from ``monthly``."""
    day_ranges, months = split_period(first, last)
    pieces = [select_for(daily, daily.c.day, low, high) for low, high in day_ranges]
    if months:
        pieces.append(select_for(monthly, monthly.c.month, *months))
    return pieces


def _correction(
    scope: Scope,
    first: date,
    last: date,
    as_of: date,
    group_by: str | None,
    children: list[Region] | None,
    fallback_region: str | None,
) -> sa.Select[Any]:
    """Cases registered in the period but completed only after ``as_of``: subtracted from ``completed``."""
    cohorts = CaseCompletionCohort.__table__
    key = _key(cohorts, cohorts.c.registered_on, group_by, children, fallback_region)
    columns = [sa.literal(0).label(name) for name in STAT_FIELDS[:-1]] + [(-cohorts.c.cases).label("completed")]
    stmt = sa.select(*([key.label("key")] if key is not None else []), *columns).select_from(cohorts)
    return _scoped(
        stmt.where(cohorts.c.registered_on.between(first, last), cohorts.c.completed_on > as_of),
        cohorts,
        scope,
        group_by,
    )


def _summed(pieces: list[sa.Select[Any]], group_by: str | None) -> Sequence[sa.Row[Any]]:
    union = sa.union_all(*pieces).subquery("pieces")
    sums = [sa.func.coalesce(sa.func.sum(union.c[name]), 0).label(name) for name in STAT_FIELDS]
    if group_by is None:
        return db.session.execute(sa.select(*sums)).all()
    stmt = sa.select(union.c.key, *sums).group_by(union.c.key).order_by(union.c.key)
    return [row for row in db.session.execute(stmt).all() if any(getattr(row, name) for name in STAT_FIELDS)]


def _organization_counts(
    scope: Scope,
    first: date,
    last: date,
    as_of: date,
    group_by: str | None,
    children: list[Region] | None,
    fallback_region: str | None,
) -> Sequence[sa.Row[Any]]:
    def select_for(table: sa.Table, date_column: sa.ColumnElement[date], low: date, high: date) -> sa.Select[Any]:
        key = _key(table, date_column, group_by, children, fallback_region)
        stmt = sa.select(
            *([key.label("key")] if key is not None else []), *(table.c[name].label(name) for name in STAT_FIELDS)
        ).select_from(table)
        return _scoped(stmt.where(date_column.between(low, high)), table, scope, group_by)

    pieces = _period_pieces(CaseDailyStat.__table__, CaseMonthlyStat.__table__, first, last, select_for)
    pieces.append(_correction(scope, first, last, as_of, group_by, children, fallback_region))
    return _summed(pieces, group_by)


def _scope_regions(scope: Scope) -> list[str]:
    """The rollup rows that add up to the scope: the region itself, a custom region's members, or every root."""
    regions = Region.__table__
    if scope.region_code is None:
        return list(db.session.scalars(sa.select(regions.c.code).where(regions.c.parent_code.is_(None))))
    region = db.session.get(Region, scope.region_code)
    if region is not None and region.level == "custom":
        return list(region.member_codes)
    return [scope.region_code]


def _region_counts(
    scope: Scope,
    first: date,
    last: date,
    as_of: date,
    group_by: str | None,
    children: list[Region] | None,
    fallback_region: str | None,
    *,
    basis: str = "handled",
) -> Sequence[Any]:
    """A region scope from the rollups of its region (a custom region's members', every root for the country) and,
    grouped by region, of its children. The handled basis reads the region rollups and corrects completion from the
    organisation-level cohorts; the occurred basis reads the place rollups and the place cohorts, rolled up the
    same way (so its correction is one more piece of the same sum)."""
    codes = _scope_regions(scope)
    child_codes = [child.code for child in children or []] if group_by == "region" else []
    wanted = [*codes, *child_codes]
    place = basis == "occurred"

    def key_of(table: sa.Table, date_column: sa.ColumnElement[date]) -> list[sa.ColumnElement[Any]]:
        if group_by == "region":
            return [table.c.region_code.label("key")]
        key = _key(table, date_column, group_by, children, fallback_region)
        return [key.label("key")] if key is not None else []

    def select_for(table: sa.Table, date_column: sa.ColumnElement[date], low: date, high: date) -> sa.Select[Any]:
        stmt = sa.select(*key_of(table, date_column), *(table.c[name].label(name) for name in STAT_FIELDS))
        return stmt.where(date_column.between(low, high), table.c.region_code.in_(wanted))

    if place:
        pieces = _period_pieces(CasePlaceDailyStat.__table__, CasePlaceMonthlyStat.__table__, first, last, select_for)
        cohorts = CasePlaceCohort.__table__
        zeros = [sa.literal(0).label(name) for name in STAT_FIELDS[:-1]]
        pieces.append(
            sa.select(*key_of(cohorts, cohorts.c.registered_on), *zeros, (-cohorts.c.cases).label("completed")).where(
                cohorts.c.registered_on.between(first, last),
                cohorts.c.completed_on > as_of,
                cohorts.c.region_code.in_(wanted),
            )
        )
    else:
        pieces = _period_pieces(CaseRegionDailyStat.__table__, CaseRegionMonthlyStat.__table__, first, last, select_for)
        if group_by != "region":
            pieces.append(_correction(scope, first, last, as_of, group_by, children, fallback_region))
    if group_by != "region":
        return _summed(pieces, group_by)
    rows = {row.key: _as_counts(row) for row in _summed(pieces, "region")}
    corrections = (
        ()
        if place
        else _summed([_correction(scope, first, last, as_of, group_by, children, fallback_region)], "region")
    )
    return _by_child(rows, codes, child_codes, fallback_region, corrections)


def _by_child(
    rows: dict[Any, dict[str, int]],
    codes: list[str],
    child_codes: list[str],
    fallback_region: str | None,
    corrections: Sequence[Any] = (),
) -> list[_Counts]:
    """By region: each child's own rollup row; what the scope holds outside every child (events at the region
    itself) is the scope's total less the children's; ``corrections`` are already keyed by child."""
    scope_total = _added(rows.get(code) for code in codes) if set(codes) - set(child_codes) else None
    groups: dict[str | None, dict[str, int] | None] = {code: rows.get(code) for code in child_codes}
    if scope_total is not None:
        rest = {
            name: scope_total[name] - sum((groups[c] or {}).get(name, 0) for c in child_codes) for name in STAT_FIELDS
        }
        groups[fallback_region] = _added([groups.get(fallback_region), rest])
    for row in corrections:
        groups[row.key] = _added([groups.get(row.key), _as_counts(row)])
    return [
        _Counts(key, counts)
        # the service always passes a fallback region ("" at worst), so a key is never None here
        for key, counts in sorted(groups.items(), key=lambda kv: kv[0] or "")
        if counts and any(counts.values())
    ]


# --- flows: cases moved in and out, cases still open --------------------------------------------------------

EARLIEST = date(1900, 1, 1)  # "since the beginning": the first day any stock of open cases is counted from


def _field_sums(scope: Scope, first: date, last: date, names: Sequence[str], basis: str) -> dict[str, int]:
    """Sums of ``names`` over [first, last] for the scope: the place rollups (occurred basis), a real region's
    rollups (or, for a custom region, its members'), else the organisation-level rows."""
    if last < first:
        return dict.fromkeys(names, 0)
    if basis == "occurred" or not (scope.organization_id or scope.studio_id):
        daily, monthly = (
            (CasePlaceDailyStat.__table__, CasePlaceMonthlyStat.__table__)
            if basis == "occurred"
            else (CaseRegionDailyStat.__table__, CaseRegionMonthlyStat.__table__)
        )
        codes = _scope_regions(scope)

        def select_for(table: sa.Table, date_column: sa.ColumnElement[date], low: date, high: date) -> sa.Select[Any]:
            return sa.select(*(table.c[name].label(name) for name in names)).where(
                date_column.between(low, high), table.c.region_code.in_(codes)
            )

    else:
        daily, monthly = CaseDailyStat.__table__, CaseMonthlyStat.__table__

        def select_for(table: sa.Table, date_column: sa.ColumnElement[date], low: date, high: date) -> sa.Select[Any]:
            stmt = sa.select(*(table.c[name].label(name) for name in names))
            return _scoped(stmt.where(date_column.between(low, high)), table, scope, None)

    union = sa.union_all(*_period_pieces(daily, monthly, first, last, select_for)).subquery("pieces")
    row = db.session.execute(sa.select(*(sa.func.coalesce(sa.func.sum(union.c[n]), 0).label(n) for n in names))).one()
    return {name: int(getattr(row, name)) for name in names}


def move_counts(scope: Scope, first: date, last: date, basis: str = "handled") -> dict[str, int]:
    """Cases handed into and out of the scope by accepted transfers in [first, last] (moves inside it are
        neither). None on the occurred basis (a dispute's place never moves); for the whole country only the moves to
    and from another hub's organisations (federation: ``_moves_across_the_hub``); a custom region
        (雄安新区: the union of three counties) is counted on the event log, since its members' rollups count the moves
        between them."""
    from .queries import Scope
    from .queries import move_counts as counted_on_the_log

    if basis == "occurred":
        return dict.fromkeys(MOVE_FIELDS, 0)
    if scope == Scope():
        return _moves_across_the_hub(first, last)
    region = db.session.get(Region, scope.region_code) if scope.region_code else None
    if region is not None and region.level == "custom":
        return counted_on_the_log(scope, first, last)
    return _field_sums(scope, first, last, MOVE_FIELDS, basis)


def _moves_across_the_hub(first: date, last: date) -> dict[str, int]:
    """The whole country's moves on this hub: only cases handed to or from another hub's organisation (federation)
    cross its boundary. Counted on the log through the few remote organisations: a ``transfer_accepted`` row of a
    remote sender is a case handed in, a ``handling_organization_changed`` row of a remote receiver one handed out."""
    events, organizations = CaseEvent.__table__, Organization.__table__
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(events.c.code == MOVED_OUT_CODE).label("transferred_in"),
            sa.func.count().filter(events.c.code == MOVED_IN_CODE).label("transferred_out"),
        )
        .select_from(organizations.join(events, events.c.organization_id == organizations.c.id))
        .where(
            organizations.c.hub_id.is_not(None),
            events.c.code.in_((MOVED_OUT_CODE, MOVED_IN_CODE)),
            events.c.on_date.between(first, last),
        )
    ).one()
    return {"transferred_in": int(row.transferred_in), "transferred_out": int(row.transferred_out)}


def open_count(scope: Scope, day: date, basis: str = "handled") -> int:
    """Cases open at the end of ``day`` under the scope: registered, plus handed in, less handed out, less
    concluded and declined, since the beginning (on the occurred basis: of the disputes that arose there)."""
    names = ("received", "concluded", "declined", *(MOVE_FIELDS if basis == "handled" else ()))
    sums = _field_sums(scope, EARLIEST, day, names, basis)
    moved = sums.get("transferred_in", 0) - sums.get("transferred_out", 0)
    return sums["received"] + moved - sums["concluded"] - sums["declined"]


def _as_counts(row: sa.Row[Any]) -> dict[str, int]:
    return {name: int(getattr(row, name)) for name in STAT_FIELDS}


def _added(parts: Iterable[dict[str, int] | None]) -> dict[str, int]:
    total = dict.fromkeys(STAT_FIELDS, 0)
    for part in parts:
        for name, value in (part or {}).items():
            total[name] += value
    return total


class _Counts:
    """A grouped row (``key`` plus the counts as attributes), like the rows of the SQL paths."""

    def __init__(self, key: str | None, counts: dict[str, int]) -> None:
        self.key = key
        self.__dict__.update(counts)


def _empty(group_by: str | None) -> Sequence[sa.Row[Any]]:
    if group_by is not None:
        return []
    return db.session.execute(sa.select(*(sa.literal(0).label(name) for name in STAT_FIELDS))).all()


# --- command line ----------------------------------------------------------------------------------------------


@click.group("reports", help="Report aggregates.")
def reports_group() -> None:
    pass


@reports_group.command("rebuild-aggregates")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None, help="first day (YYYY-MM-DD)")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None, help="last day (YYYY-MM-DD)")
@with_appcontext
def rebuild_aggregates_command(date_from: datetime | None, date_to: datetime | None) -> None:
    """Recompute the daily/monthly rate aggregates from the case event log, and the transfer and legal-aid month
    aggregates from their tables (after a bulk load or import)."""
    from .flow_aggregates import rebuild_flow_stats

    first, last = (date_from.date() if date_from else None), (date_to.date() if date_to else None)
    with transaction():
        written = rebuild_daily_stats(first, last)
        written.update(rebuild_flow_stats(first, last))
    click.echo("aggregates rebuilt: " + ", ".join(f"{k}={v}" for k, v in written.items()))
