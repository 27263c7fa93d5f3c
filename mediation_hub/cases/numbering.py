"""Case numbers: readable, unique, one sequence per organisation per year.

Format ``MH-<org region code>-<org id>-<year>-<sequence>``, e.g. ``MH-110105-12-2026-000007``: the hub
prefix, the handling organisation's region code (so a reader sees where it was registered), the
organisation's id (which makes the number unique even when two organisations share a region), the year
the dispute was received, and the organisation's running number for that year, zero-padded to six digits.
A number never changes, even when the case is later transferred to another organisation.

The sequence lives in ``case_number_counters``, advanced by ``core.counters.next_value`` (one
``UPDATE … RETURNING`` that queues concurrent registrations of one organisation on the row).
"""

from __future__ import annotations

from ..core.counters import next_value
from .models import CaseNumberCounter

PREFIX = "MH"


def format_number(region_code: str, organization_id: int, year: int, sequence: int) -> str:
    return f"{PREFIX}-{region_code}-{organization_id}-{year}-{sequence:06d}"


def next_sequence(organization_id: int, year: int, count: int = 1) -> int:
    """The next number in the organisation's sequence for ``year`` (the row stays locked until commit).

    With ``count`` > 1 a whole run of numbers is reserved at once (the bulk import) and the last one is
    returned: the run is ``last - count + 1 … last``."""
    return next_value(CaseNumberCounter.__table__, {"organization_id": organization_id, "year": year}, count)


def next_case_number(organization_id: int, region_code: str, year: int) -> str:
    return format_number(region_code, organization_id, year, next_sequence(organization_id, year))
