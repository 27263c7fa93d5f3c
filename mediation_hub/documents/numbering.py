"""Document numbers: per organisation, year and series, given once to a record, never reused.

Format ``（<year>）<代字><series>字第 <n> 号``, e.g. ``（2026）保竞调字第 12 号``: the year the record was
accepted (or received, when it was never accepted), the organisation's 文书代字 (``Organization.document_code``;
an organisation that has not set one gets the first two characters of its name, which its administrator can
replace in the registry), the series (调 for the mediation file; 法援决, 法援指, 法援补 for the legal-aid
decision, assignment and supplement notices) and the running number. A record keeps its number in a series
even after it moves to another organisation."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..core.counters import next_value
from ..extensions import db
from ..registry.models import Organization
from .models import DocumentNumber, DocumentNumberCounter


def organization_code(organization: Organization) -> str:
    return (organization.document_code or "").strip() or organization.name[:2]


def format_number(year: int, code: str, series: str, sequence: int) -> str:
    return f"（{year}）{code}{series}字第 {sequence} 号"


def _existing(owner_type: str, owner_id: int, series: str) -> str | None:
    return db.session.execute(
        sa.select(DocumentNumber.text).where(
            DocumentNumber.owner_type == owner_type,
            DocumentNumber.owner_id == owner_id,
            DocumentNumber.series == series,
        )
    ).scalar()


def number_for(owner_type: str, owner_id: int, series: str, organization: Organization, year: int) -> str:
    """The record's number in ``series``: the one it was given, or the next of ``organization`` for ``year``.

    Two requests for the first document of one record at once: both take a number; the second to insert the
    record's row fails its unique key inside a savepoint, and its sequence value is spent (a gap, never a
    duplicate); it answers with the number the first one gave."""
    existing = _existing(owner_type, owner_id, series)
    if existing:
        return existing
    key = {"organization_id": organization.id, "year": year, "series": series}
    sequence = next_value(DocumentNumberCounter.__table__, key)
    text = format_number(year, organization_code(organization), series, sequence)
    try:
        with db.session.begin_nested():
            db.session.add(
                DocumentNumber(
                    owner_type=owner_type,
                    owner_id=owner_id,
                    series=series,
                    organization_id=organization.id,
                    year=year,
                    sequence=sequence,
                    text=text,
                )
            )
    except IntegrityError:
        existing = _existing(owner_type, owner_id, series)
        if existing is None:
            raise
        return existing
    return text
