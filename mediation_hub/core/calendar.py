"""Working days and legal time limits from one calendar table, with official and provisional years.

A year is ``official`` once the State Council's notice of its holidays and 调休 make-up workdays is loaded
(from ``chinesecalendar``, a file, the calendar page or the API). A later year whose notice is not out yet
is ``provisional``: made on demand from the holiday law as revised in 2024 (the ``holidays`` package gives
the lunar dates, 清明 and the 补假 of a statutory day that falls on a weekend), with no guessed make-up
workdays. So a deadline never stops the work; it only records that it was counted over a provisional day,
and is recomputed (never earlier) when the year becomes official. Only a year before the first covered
one is refused.

Periods follow Civil Code arts. 201 and 203: counting starts the day after the event, and a period whose
last day is a rest day ends on the next working day.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NamedTuple

import sqlalchemy as sa
from marshmallow import fields
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, SessionTransaction, UOWTransaction, mapped_column

from ..extensions import Model, db
from .db import UTCDateTime, enum_column, utcnow
from .errors import ValidationFailed
from .messages import coded

# The holiday law a provisional year is computed from (国务院令第 795 号, in force 2025-01-01).
PROVISIONAL_BASIS = "全国年节及纪念日放假办法 (2024 年修订)"
# The lunisolar tables of the ``holidays`` package end here; a later year cannot be computed.
LAST_COMPUTABLE_YEAR = 2099
HOLIDAY_NOTE, WORKDAY_NOTE = "holiday", "make-up workday"


class YearStatus(enum.StrEnum):
    official = "official"  # the State Council's notice (or an administrator's correction of it)
    provisional = "provisional"  # computed from the holiday law until the notice is loaded


class CalendarDay(Model):
    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    note: Mapped[str | None] = mapped_column(sa.String(40))


class CalendarYear(Model):
    """A year whose days are all in ``calendar_days``, with where they came from.

    ``loaded_by`` names the administrator who loaded or corrected the year (None: the package or the law);
    ``seed reference`` never overwrites such a year."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    status: Mapped[YearStatus] = mapped_column(
        enum_column(YearStatus, "calendar_year_status"), nullable=False, default=YearStatus.official
    )
    source: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    source_version: Mapped[str | None] = mapped_column(sa.String(40))
    loaded_by: Mapped[str | None] = mapped_column(sa.String(60))
    loaded_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    @property
    def provisional(self) -> bool:
        return self.status == YearStatus.provisional


class Deadline(NamedTuple):
    """The last day of a period, and whether any day it was counted over lies in a provisional year."""

    day: date
    provisional: bool


def provisional_field() -> fields.Boolean:
    """``due_on_provisional`` and its kin beside every deadline of the case, transfer and legal-aid answers: the
    ``provisional`` of its ``Deadline``."""
    return fields.Boolean(
        metadata={
            "description": "counted over a provisional calendar year: may still move "
            "later when the year's notice is loaded (never earlier)"
        }
    )


@dataclass(frozen=True)
class DeadlineMove:
    """One open deadline counted again after a calendar year changed. It moves only later (a deadline people
    have seen never moves earlier); ``recomputed`` is what the new calendar gives."""

    subject: str  # "case", "transfer" or "legal_aid"
    subject_id: int
    number: str  # the case or application number people know it by
    field: str  # due_on, respond_by, decide_by …
    label: str  # 办理期限, 答复期限 …
    previous: date
    recomputed: date
    provisional: bool  # still counted over a provisional year
    year: int  # the year whose calendar changed

    @property
    def moved(self) -> bool:
        return self.recomputed > self.previous

    @property
    def day(self) -> date:
        """The deadline in force afterwards."""
        return max(self.previous, self.recomputed)

    def message(self) -> str:
        return (
            f"{self.number} 的{self.label}因 {self.year} 年节假日安排调整为 {self.day.isoformat()}"
            f"（原为 {self.previous.isoformat()}）"
        )

    def event_data(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "previous": self.previous.isoformat(),
            "deadline": self.day.isoformat(),
            "year": self.year,
            "provisional": self.provisional,
        }


class CalendarNotCovered(ValidationFailed):
    """A deadline falls in a year before the first the calendar covers (or beyond the computable ones)."""

    def __init__(self, year: int, field: str = "date"):
        super().__init__(
            {
                field: [
                    coded("calendar_not_covered", "%(year)s年的工作日历尚未载入，请管理员载入该年节假日安排", year=year)
                ]
            },
            message=coded("calendar_not_covered", "%(year)s年的工作日历尚未载入", year=year),
        )
        self.year = year


# --- which years are covered -------------------------------------------------------------------------


_YEARS = "calendar_year_statuses"  # session.info key: {year: status} as this transaction reads the table


def year_statuses() -> dict[int, YearStatus]:
    """Each year the calendar holds, with its status: read once per transaction (a request's deadlines each ask,
    twice), kept in the session's ``info`` until the transaction ends or the calendar tables are written
    (``_forget_years``). A copy: the caller may change it."""
    cache: dict[int, YearStatus] | None = db.session.info.get(_YEARS)
    if cache is None:
        cache = dict(db.session.execute(sa.select(CalendarYear.year, CalendarYear.status)).tuples().all())
        db.session.info[_YEARS] = cache
    return dict(cache)


def forget_years(session: Session | None = None) -> None:
    """Drop the years ``year_statuses`` keeps: the calendar tables were written (or may have been)."""
    (session or db.session()).info.pop(_YEARS, None)


_CALENDAR_TABLES = frozenset({"calendar_days", "calendar_years"})


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_years_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    # any rollback, a savepoint's too: what was read inside it may be undone
    forget_years(session)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_years_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction committed, rolled back or closed
        forget_years(session)


@sa.event.listens_for(Session, "after_flush")
def _forget_years_on_flush(session: Session, flush_context: UOWTransaction) -> None:
    # the rows of a year changed through the ORM (``write_year``'s record, or any other code's)
    if any(isinstance(o, CalendarYear | CalendarDay) for o in (*session.new, *session.dirty, *session.deleted)):
        forget_years(session)


@sa.event.listens_for(Session, "do_orm_execute")
def _forget_years_on_write(state: ORMExecuteState) -> None:
    # an INSERT, UPDATE or DELETE of calendar rows through the session (``write_year``, tests, restores)
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        if getattr(table, "name", None) in _CALENDAR_TABLES:
            forget_years(state.session)
    elif isinstance(statement, sa.TextClause) and "calendar_" in statement.text:
        forget_years(state.session)


def ensure_years(first: int, last: int, field: str = "date") -> set[int]:
    """Make sure every year from ``first`` to ``last`` is in the table, computing a provisional year for
    each missing one after the first covered year; returns the provisional years among them."""
    statuses = year_statuses()
    earliest = min(statuses, default=None)
    for year in range(first, last + 1):
        if year in statuses:
            continue
        if earliest is None or year < earliest or year > LAST_COMPUTABLE_YEAR:
            raise CalendarNotCovered(year, field)
        statuses[year] = _make_provisional_year(year)
    return {y for y in range(first, last + 1) if statuses[y] == YearStatus.provisional}


def _make_provisional_year(year: int) -> YearStatus:
    """Write the provisional year; a concurrent request that wrote it first wins (its rows are the same)."""
    holidays = provisional_holidays(year)
    try:
        with db.session.begin_nested():
            write_year(
                year,
                holidays,
                {},
                status=YearStatus.provisional,
                source=PROVISIONAL_BASIS,
                source_version=f"holidays {_package_version('holidays')}",
            )
    except IntegrityError:  # the year that conflicted is there
        return db.session.execute(sa.select(CalendarYear.status).where(CalendarYear.year == year)).scalar_one()
    return YearStatus.provisional


def provisional_holidays(year: int) -> dict[date, str]:
    """The rest days the holiday law fixes for ``year``: 元旦 1 day, 春节 4 (除夕 to 初三), 清明 1, 劳动节 2,
    端午 1, 中秋 1, 国庆 3, and for each statutory day on a weekend the next working day (补假). The
    ``holidays`` package computes the lunar dates, 清明 and the 补假; any 调休 swap it may know from a notice
    is left out (a provisional year guesses no make-up workdays, so it moves no rest day either)."""
    import holidays

    english = holidays.China(years=year, language="en_US")
    chinese = holidays.China(years=year, language="zh_CN")
    return {day: chinese.get(day, name)[:40] for day, name in sorted(english.items()) if not name.startswith("Day off")}


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - both are dependencies of the hub
        return "?"


# --- counting ----------------------------------------------------------------------------------------


def is_workday(day: date, field: str = "date") -> bool:
    """Whether ``day`` is a working day (official or provisional calendar)."""
    ensure_years(day.year, day.year, field)
    return db.session.get_one(CalendarDay, day).is_workday  # ensure_years wrote every day of the year


def working_deadline(start: date, days: int, *, field: str = "date") -> Deadline:
    """The day ``days`` working days after ``start`` (the start day itself never counts)."""
    if days <= 0:
        return Deadline(start, False)
    first = last = (start + timedelta(days=1)).year
    while True:
        ensure_years(first, last, field)
        found = db.session.scalars(
            sa.select(CalendarDay.day)
            .where(CalendarDay.day > start, CalendarDay.day <= date(last, 12, 31), CalendarDay.is_workday)
            .order_by(CalendarDay.day)
            .limit(days)
        ).all()
        if len(found) == days:
            break
        last += 1
    end = found[-1]
    return Deadline(end, bool(ensure_years(first, end.year, field)))


def add_working_days(start: date, days: int, *, field: str = "date") -> date:
    """The date ``days`` working days after ``start``."""
    return working_deadline(start, days, field=field).day


def working_days_between(start: date, end: date, *, field: str = "date") -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    ensure_years((start + timedelta(days=1)).year, end.year, field)
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(CalendarDay)
        .where(CalendarDay.day > start, CalendarDay.day <= end, CalendarDay.is_workday)
    ).scalar_one()


def calendar_deadline(start: date, days: int, *, field: str = "date") -> Deadline:
    """A period of ``days`` calendar days after ``start``, moved past rest days at its end (art. 203).

    Only the days at its end decide it, so it is provisional when one of them lies in a provisional year."""
    end = start + timedelta(days=days)
    last_year = end.year
    while True:
        ensure_years(end.year, last_year, field)
        last = db.session.scalar(
            sa.select(sa.func.min(CalendarDay.day)).where(
                CalendarDay.day >= end, CalendarDay.day <= date(last_year, 12, 31), CalendarDay.is_workday
            )
        )
        if last is not None:
            break
        last_year += 1
    return Deadline(last, bool(ensure_years(end.year, last.year, field)))


def add_calendar_days(start: date, days: int, *, field: str = "date") -> date:
    """The last day of a period of ``days`` calendar days after ``start``."""
    return calendar_deadline(start, days, field=field).day


# --- loading -----------------------------------------------------------------------------------------


def check_year(year: int, holidays: Iterable[date], workdays: Iterable[date]) -> None:
    """422 naming the field: a date outside the year, or a day listed as both a holiday and a workday."""
    holidays, workdays = set(holidays), set(workdays)
    errors = {}
    for name, days in (("holidays", holidays), ("workdays", workdays)):
        wrong = sorted(d.isoformat() for d in days if d.year != year)
        if wrong:
            errors[name] = [
                coded("date_outside_year", "日期不在 %(year)s 年内：%(dates)s", year=year, dates="、".join(wrong))
            ]
    both = holidays & workdays
    if both:
        errors["workdays"] = [
            coded(
                "holiday_and_workday",
                "同一天不能既是节假日又是调休上班日：%(dates)s",
                dates="、".join(sorted(d.isoformat() for d in both)),
            )
        ]
    if errors:
        raise ValidationFailed(errors)


def year_days(year: int) -> dict[date, bool]:
    """Each day of ``year`` the table holds, with whether it is a working day."""
    return dict(
        db.session.execute(
            sa.select(CalendarDay.day, CalendarDay.is_workday).where(
                CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))
            )
        )
        .tuples()
        .all()
    )


def planned_days(year: int, holidays: Iterable[date], workdays: Iterable[date]) -> dict[date, bool]:
    """A whole year: weekdays work, weekends rest, then the given holidays and make-up workdays."""
    holidays, workdays = set(holidays), set(workdays)
    plan, day = {}, date(year, 1, 1)
    while day.year == year:
        plan[day] = (day.weekday() < 5 and day not in holidays) or day in workdays
        day += timedelta(days=1)
    return plan


def write_year(
    year: int,
    holidays: dict[date, str | None] | Iterable[date],
    workdays: Iterable[date],
    *,
    status: YearStatus,
    source: str,
    source_version: str | None = None,
    loaded_by: str | None = None,
) -> list[date]:
    """Replace a whole year in the table and record where it came from; returns the days whose working or
    rest status changed (every day for a year not held before). Recomputing the deadlines that touch the
    year is the caller's part (``calendars.service``)."""
    notes = holidays if isinstance(holidays, dict) else dict.fromkeys(holidays)
    workdays = set(workdays)
    check_year(year, notes, workdays)
    before = year_days(year)
    plan = planned_days(year, notes, workdays)
    db.session.execute(sa.delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
    db.session.execute(
        sa.insert(CalendarDay),
        [
            {
                "day": day,
                "is_workday": work,
                "note": (notes[day] or HOLIDAY_NOTE) if day in notes else WORKDAY_NOTE if day in workdays else None,
            }
            for day, work in plan.items()
        ],
    )
    record = db.session.get(CalendarYear, year) or CalendarYear(year=year)
    record.status, record.source, record.source_version = status, source[:80], source_version
    record.loaded_by, record.loaded_at = loaded_by, utcnow()
    db.session.add(record)
    db.session.flush()
    return sorted(day for day, work in plan.items() if before.get(day) != work)


def load_year(year: int, holidays: Iterable[date], workdays: Iterable[date], *, source: str) -> list[date]:
    """Write an official year without recomputing deadlines (tests, benchmarks, an empty database)."""
    return write_year(year, holidays, workdays, status=YearStatus.official, source=source)


def chinesecalendar_years() -> dict[int, tuple[list[date], list[date]]]:
    """Each year the installed ``chinesecalendar`` knows: its holidays and make-up workdays."""
    from chinese_calendar import constants

    years: dict[int, tuple[list[date], list[date]]] = {}
    for day in sorted(constants.holidays):
        years.setdefault(day.year, ([], []))[0].append(day)
    for day in sorted(constants.workdays):
        years.setdefault(day.year, ([], []))[1].append(day)
    return years


def chinesecalendar_version() -> str:
    return _package_version("chinesecalendar")
