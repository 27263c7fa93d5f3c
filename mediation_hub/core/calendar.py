"""Working days and legal time limits from one calendar table.

The table is seeded from ``chinesecalendar`` (China's official holidays and 调休 make-up workdays) and
can be corrected by an administrator one year at a time. A deadline in a year the table does not cover is
an explicit error, never a guess. Periods follow Civil Code arts. 201 and 203: counting starts the day
after the event, and a period whose last day is a rest day ends on the next working day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..errors import ValidationFailed
from ..extensions import db
from .db import UTCDateTime, utcnow


class CalendarDay(db.Model):
    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    note: Mapped[str | None] = mapped_column(sa.String(40))


class CalendarYear(db.Model):
    """A year whose days are all in ``calendar_days``; only covered years may be counted in."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    loaded_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class CalendarNotCovered(ValidationFailed):
    """The working-day calendar has no data for a year a deadline falls in."""

    def __init__(self, year: int, field: str = "date"):
        super().__init__(
            {field: [f"{year}年的工作日历尚未载入 (the working-day calendar does not cover {year}); "
                     "请管理员载入该年节假日安排"]},
            message=f"working-day calendar does not cover {year}",
        )
        self.year = year


def _covered_years() -> set[int]:
    return set(db.session.scalars(sa.select(CalendarYear.year)))


def _require_years(first: date, last: date, field: str) -> None:
    covered = _covered_years()
    for year in range(first.year, last.year + 1):
        if year not in covered:
            raise CalendarNotCovered(year, field)


def is_workday(day: date, field: str = "date") -> bool:
    """Whether ``day`` is a working day under the official calendar."""
    row = db.session.get(CalendarDay, day)
    if row is None:
        raise CalendarNotCovered(day.year, field)
    return row.is_workday


def add_working_days(start: date, days: int, *, field: str = "date") -> date:
    """The date ``days`` working days after ``start`` (the start day itself never counts)."""
    if days <= 0:
        return start
    found = db.session.scalars(
        sa.select(CalendarDay.day).where(CalendarDay.day > start, CalendarDay.is_workday)
        .order_by(CalendarDay.day).limit(days)
    ).all()
    if len(found) < days:
        covered, year = _covered_years(), start.year
        while year in covered:
            year += 1
        raise CalendarNotCovered(year, field)
    _require_years(start + timedelta(days=1), found[-1], field)
    return found[-1]


def working_days_between(start: date, end: date, *, field: str = "date") -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    _require_years(start + timedelta(days=1), end, field)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(CalendarDay)
        .where(CalendarDay.day > start, CalendarDay.day <= end, CalendarDay.is_workday)
    )


def add_calendar_days(start: date, days: int, *, field: str = "date") -> date:
    """A period of ``days`` calendar days after ``start``, moved past rest days at its end (art. 203)."""
    end = start + timedelta(days=days)
    _require_years(end, end, field)
    if is_workday(end, field):
        return end
    return add_working_days(end, 1, field=field)


def load_year(year: int, holidays: Iterable[date], workdays: Iterable[date], *, source: str) -> None:
    """Write a whole year: weekdays work, weekends rest, then the given holidays and make-up workdays.

    Replaces anything the table held for that year (an administrator's correction wins)."""
    holidays, workdays = set(holidays), set(workdays)
    errors = {}
    for name, days in (("holidays", holidays), ("workdays", workdays)):
        wrong = sorted(d.isoformat() for d in days if d.year != year)
        if wrong:
            errors[name] = [f"dates outside {year}: {', '.join(wrong)}"]
    both = holidays & workdays
    if both:
        errors["workdays"] = [f"also listed as holidays: {', '.join(sorted(d.isoformat() for d in both))}"]
    if errors:
        raise ValidationFailed(errors)
    db.session.execute(sa.delete(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))
    rows, day = [], date(year, 1, 1)
    while day.year == year:
        work = (day.weekday() < 5 and day not in holidays) or day in workdays
        note = "holiday" if day in holidays else "make-up workday" if day in workdays else None
        rows.append({"day": day, "is_workday": work, "note": note})
        day += timedelta(days=1)
    db.session.execute(sa.insert(CalendarDay), rows)
    record = db.session.get(CalendarYear, year) or CalendarYear(year=year)
    record.source, record.loaded_at = source, utcnow()
    db.session.add(record)
    db.session.flush()


def seed_from_chinesecalendar(years: Iterable[int] | None = None) -> list[int]:
    """Load every year chinesecalendar knows (2004 to its latest) that the table does not hold yet."""
    import chinese_calendar
    from chinese_calendar import constants

    known = sorted({d.year for d in constants.holidays})
    wanted = [y for y in (years or known) if y in known and y not in _covered_years()]
    version = getattr(chinese_calendar, "__version__", "")
    for year in wanted:
        holidays = [d for d in constants.holidays if d.year == year]
        workdays = [d for d in constants.workdays if d.year == year]
        load_year(year, holidays, workdays, source=f"chinesecalendar {version}".strip())
    return wanted
