"""Case numbers: readable, unique, one sequence per organisation per year.

Format ``MH-<org region code>-<org id>-<year>-<sequence>``, e.g. ``MH-110105-12-2026-000007``: the hub
prefix, the handling organisation's region code (so a reader sees where it was registered), the
organisation's id (which makes the number unique even when two organisations share a region), the year
the dispute was received, and the organisation's running number for that year, zero-padded to six digits.
A number never changes, even when the case is later transferred to another organisation.

The sequence lives in ``case_number_counters``. It is advanced by a single ``UPDATE … RETURNING`` that
takes the row lock on PostgreSQL, so concurrent registrations in one organisation queue on that row
and each gets the next value; the first registration of a year inserts the row inside a savepoint and
retries the update if another transaction inserted it first.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .models import CaseNumberCounter

PREFIX = "MH"


def format_number(region_code: str, organization_id: int, year: int, sequence: int) -> str:
    return f"{PREFIX}-{region_code}-{organization_id}-{year}-{sequence:06d}"


def _advance(organization_id: int, year: int, count: int = 1) -> int | None:
    table = CaseNumberCounter.__table__
    return db.session.execute(
        sa.update(table).where(table.c.organization_id == organization_id, table.c.year == year)
        .values(last_number=table.c.last_number + count).returning(table.c.last_number)
    ).scalar()


def next_sequence(organization_id: int, year: int, count: int = 1) -> int:
    """The next number in the organisation's sequence for ``year`` (the row stays locked until commit).

    With ``count`` > 1 a whole run of numbers is reserved at once (the bulk import) and the last one is
    returned: the run is ``last - count + 1 … last``."""
    value = _advance(organization_id, year, count)
    if value is not None:
        return value
    try:
        with db.session.begin_nested():
            db.session.execute(sa.insert(CaseNumberCounter.__table__).values(
                organization_id=organization_id, year=year, last_number=count))
        return count
    except IntegrityError:  # another registration created the row meanwhile: queue on it instead
        value = _advance(organization_id, year, count)
        if value is None:
            raise
        return value


def next_case_number(organization_id: int, region_code: str, year: int) -> str:
    return format_number(region_code, organization_id, year, next_sequence(organization_id, year))
