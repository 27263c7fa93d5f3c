"""The earliest business date the hub takes: one rule for every date a person records (received, accepted,
concluded, follow-up, transfer, legal-aid filed/decided …), applied by the services so the API, the pages and the
imports all get it. Dates in the future are each service's own rule (DESIGN: "may not be in the future"); birth
dates inside ID numbers keep python-stdnum's check."""

from __future__ import annotations

from datetime import date

from .i18n import N_
from .messages import Coded, coded

# People's mediation and legal aid as the hub records them start well after this; a year 1 or a typo such as
# 0202-03-05 is a mistake, never history (and the working-day calendar starts in 2004 anyway).
EARLIEST_BUSINESS_DATE = date(1990, 1, 1)
TOO_EARLY = N_("日期不能早于 %(date)s")


def too_early(day: date | None) -> Coded | None:
    """Why ``day`` is too early to be a business date (code ``date_too_early``), or None (also for no date)."""
    if day is not None and day < EARLIEST_BUSINESS_DATE:
        return coded("date_too_early", TOO_EARLY, date=EARLIEST_BUSINESS_DATE.isoformat())
    return None


def check_business_date(day: date | None, field: str, errors: dict[str, list[str]]) -> None:
    """Collect the earliest-date rule's message for ``field`` into ``errors`` (gathered, raised once)."""
    problem = too_early(day)
    if problem:
        errors.setdefault(field, []).append(problem)
