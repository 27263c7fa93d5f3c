"""Keeping the working-day calendar: which years are official or provisional, loading a year's notice, and
recounting in the same transaction every open deadline the change touches.

A year becomes official from the ``chinesecalendar`` package (``seed reference``, the daily job) or from an
administrator (the calendar page, ``PUT /api/v1/calendar/years/YEAR``, ``mediation-hub calendar load``). An
administrator's load is a correction the package never overwrites."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ..audit import service as audit
from ..core.actor import SYSTEM, Actor
from ..core.calendar import (
    LAST_COMPUTABLE_YEAR,
    CalendarYear,
    DeadlineMove,
    YearStatus,
    chinesecalendar_version,
    chinesecalendar_years,
    ensure_years,
    planned_days,
    write_year,
    year_days,
    year_statuses,
)
from ..core.messages import coded
from ..errors import ValidationFailed, collect
from ..extensions import db
from .policy import POLICY

FIRST_LOADABLE_YEAR = 2000
# From this day of the year on, administrators are told while next year is still provisional (the notice
# comes out between late October and mid-December).
WARN_FROM = (10, 1)
PACKAGE_SOURCE = "chinesecalendar"


@dataclass
class YearChange:
    """What loading a year did (or, in a preview, would do)."""

    year: int
    days_changed: list[date]
    moves: list[DeadlineMove] = field(default_factory=list)

    @property
    def moved(self) -> list[DeadlineMove]:
        return [m for m in self.moves if m.moved]


def calendar_years() -> list[CalendarYear]:
    """Every year the table holds, newest first."""
    return list(db.session.scalars(sa.select(CalendarYear).order_by(CalendarYear.year.desc())))


def check_loadable(year: int) -> None:
    if not FIRST_LOADABLE_YEAR <= year <= LAST_COMPUTABLE_YEAR:
        raise ValidationFailed(
            {
                "year": [
                    coded(
                        "year_out_of_range",
                        "年份须在 %(first)s 至 %(last)s 之间",
                        first=FIRST_LOADABLE_YEAR,
                        last=LAST_COMPUTABLE_YEAR,
                    )
                ]
            }
        )


def publish_year(
    actor: Actor,
    year: int,
    holidays: list[date],
    workdays: list[date],
    *,
    source: str,
    source_version: str | None = None,
    remote_addr: str | None = None,
    from_package: bool = False,
) -> YearChange:
    """Make ``year`` official with the notice's holidays and 调休 make-up workdays (or correct it), and recount
    every open deadline that touches it: later ones move, none moves earlier. An administrator's load (page,
    API or command line) is audited and kept from the package."""
    POLICY.require(actor, "maintain")
    check_loadable(year)
    source = (source or "").strip() or f"管理员载入 ({actor.username})"
    loaded_by = None if from_package else actor.username
    changed = write_year(
        year,
        holidays,
        workdays,
        status=YearStatus.official,
        source=source,
        source_version=source_version,
        loaded_by=loaded_by,
    )
    change = YearChange(year, changed, recount_deadlines(actor, year))
    if loaded_by is not None:
        audit.record(
            actor,
            "calendar_loaded",
            target_type="calendar_year",
            target_id=year,
            remote_addr=remote_addr,
            detail={
                "holidays": len(set(holidays)),
                "workdays": len(set(workdays)),
                "source": source,
                "days_changed": len(changed),
                "deadlines_moved": len(change.moved),
            },
        )
    return change


def preview_year(actor: Actor, year: int, holidays: list[date], workdays: list[date], *, source: str) -> YearChange:
    """What ``publish_year`` would change, done in a savepoint and rolled back: nothing is kept."""
    nested = db.session.begin_nested()
    try:
        return publish_year(actor, year, holidays, workdays, source=source)
    finally:
        nested.rollback()


def recount_deadlines(actor: Actor, year: int) -> list[DeadlineMove]:
    """Every open deadline of cases, transfers and legal-aid applications that touches ``year``, counted again."""
    from ..cases.service.deadlines import recount_case_deadlines
    from ..legal_aid.deadlines import recount_application_deadlines
    from ..transfers.deadlines import recount_transfer_deadlines

    return [
        *recount_case_deadlines(actor, year),
        *recount_transfer_deadlines(actor, year),
        *recount_application_deadlines(actor, year),
    ]


# --- the package ------------------------------------------------------------------------------------------


def sync_package_years(actor: Actor = SYSTEM) -> list[int]:
    """Load from the installed ``chinesecalendar`` every year it knows that the table lacks, holds as
    provisional, or holds from the package with other days (a newer release corrected it); never a year an
    administrator loaded. Returns the years loaded."""
    held = {y.year: y for y in calendar_years()}
    package_version = chinesecalendar_version()
    loaded = []
    for year, (holidays, workdays) in sorted(chinesecalendar_years().items()):
        record = held.get(year)
        if record is not None and (
            record.loaded_by is not None
            or (record.status == YearStatus.official and year_days(year) == planned_days(year, holidays, workdays))
        ):
            continue
        publish_year(
            actor, year, holidays, workdays, source=PACKAGE_SOURCE, source_version=package_version, from_package=True
        )
        loaded.append(year)
    return loaded


# --- telling the administrators -------------------------------------------------------------------------


def prepare_years(today: date) -> set[int]:
    """Hold this year and next (provisional when no notice is loaded), so the calendar page shows them;
    returns the provisional ones."""
    return ensure_years(today.year, today.year + 1)


def years_to_load(today: date) -> list[int]:
    """The years administrators should load now: this year while it is provisional, and from 1 October next
    year while it is provisional (a year the table does not hold yet is provisional: it is made on demand)."""
    statuses = year_statuses()
    warn = (today.month, today.day) >= WARN_FROM
    return [
        year
        for year in (today.year, today.year + 1)
        if statuses.get(year, YearStatus.provisional) == YearStatus.provisional and (year == today.year or warn)
    ]


# --- reading a notice -------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,，、;；]+")
_RANGE_MARK = re.compile(r"\s*(?:\.\.|~|～|至)\s*")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|~|～|至)\s*(\d{4}-\d{2}-\d{2})$")
WORKDAY_WORDS = {"workday", "workdays", "班", "上班", "调休上班", "调休上班日", "补班"}
HOLIDAY_WORDS = {"holiday", "holidays", "休", "假", "放假", "节假日", "法定节假日", "休息"}
MAX_RANGE_DAYS = 366


def parse_days(text: str | list[Any] | None, field_name: str, errors: dict[str, list[str]]) -> list[date]:
    """Dates and ranges (``2027-02-05..2027-02-11``, also ``~`` or ``至``), one per line or separated by commas;
    every unreadable entry is reported under ``field_name``."""
    if not isinstance(text, list):  # "2027-02-05 至 2027-02-11" is one range, not three entries
        text = _SEPARATORS.split(_RANGE_MARK.sub("..", text or ""))
    entries = text
    days: list[date] = []
    for entry in entries:
        entry = str(entry).strip()
        if entry:
            days.extend(_parse_entry(entry, field_name, errors))
    return sorted(set(days))


def _parse_entry(entry: str, field_name: str, errors: dict[str, list[str]]) -> list[date]:
    match = _RANGE.match(entry.replace(" ", ""))
    try:
        if match is None:
            return [date.fromisoformat(entry)]
        first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
    except ValueError:
        collect(errors, field_name, coded("invalid_date", "不是有效日期：%(entry)s", entry=entry[:30]))
        return []
    if not 0 <= (last - first).days < MAX_RANGE_DAYS:
        collect(
            errors,
            field_name,
            coded("invalid_range", "日期范围有误（须从前往后，且在一年之内）：%(entry)s", entry=entry[:30]),
        )
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass
class Notice:
    holidays: list[date]
    workdays: list[date]
    source: str = ""


def read_notice(filename: str, content: bytes) -> Notice:
    """A notice from a file: json ``{"holidays": [...], "workdays": [...], "source": "…"}`` (dates or ranges),
    or csv with a date (or range) and its kind per row (``holiday``/``休``/``节假日`` or ``workday``/``班``)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("gb18030", errors="replace")
    errors: dict[str, list[str]] = {}
    if filename.lower().endswith(".json") or text.lstrip().startswith("{"):
        notice = _read_json(text, errors)
    else:
        notice = _read_csv(text, errors)
    if errors:
        raise ValidationFailed(errors)
    return notice


def _read_json(text: str, errors: dict[str, list[str]]) -> Notice:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ValidationFailed(
            {"file": [coded("invalid_notice_json", "不是有效的通知文件：应为含放假日期和调休上班日期的 JSON 对象")]}
        )
    lists = {}
    for name in ("holidays", "workdays"):
        value = data.get(name) or []
        if not isinstance(value, list):
            collect(errors, name, coded("not_a_date_list", "须为日期列表"))
            value = []
        lists[name] = parse_days(value, name, errors)
    return Notice(lists["holidays"], lists["workdays"], str(data.get("source") or "")[:80])


def _read_csv(text: str, errors: dict[str, list[str]]) -> Notice:
    holidays: list[date] = []
    workdays: list[date] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not cells[0] or (number == 1 and not cells[0][:1].isdigit()):
            continue  # blank line or header
        kind = (cells[1] if len(cells) > 1 else "").lower()
        if kind in WORKDAY_WORDS:
            target = workdays
        elif kind in HOLIDAY_WORDS or not kind:
            target = holidays
        else:
            collect(
                errors,
                "file",
                coded(
                    "unknown_day_kind",
                    "第%(number)s行的类型应为「休」或「班」：%(kind)s",
                    number=number,
                    kind=kind[:20],
                ),
            )
            continue
        target.extend(parse_days([cells[0]], "file", errors))
    return Notice(sorted(set(holidays)), sorted(set(workdays)))
