"""Erasing the personal data of parties (privacy's retention job and a person's request decide whose).

A party's name becomes ``core.pii.ERASED_NAME``, its encrypted, masked and hashed ID number and phone and its
particulars (性别, 民族, 职业, 住址, 法定代表人) are cleared, and it gets ``erased_at``. The party row, its case and
the case's events stay: the statistics read them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ...core.pii import CLEARED_NUMBERS, ERASED_NAME
from ...extensions import db
from ..models import Party

# a party's particulars recorded for the documents go with the name
CLEARED_PARTICULARS: dict[str, None] = {
    "gender": None,
    "ethnicity": None,
    "occupation": None,
    "address": None,
    "representative": None,
}


def erase_party_batch(condition: sa.ColumnElement[bool], now: datetime, *, limit: int) -> list[tuple[int, int]]:
    """Erase the first ``limit`` parties (by id) matching ``condition`` that are not erased yet, with one UPDATE;
    return their ``(party id, case id)``, empty when none is left. Call it until it returns nothing."""
    rows = [
        (party_id, case_id)
        for party_id, case_id in db.session.execute(
            sa.select(Party.id, Party.case_id)
            .where(Party.erased_at.is_(None), condition)
            .order_by(Party.id)
            .limit(limit)
        )
    ]
    if rows:
        db.session.execute(
            sa.update(Party)
            .where(Party.id.in_([party_id for party_id, _ in rows]))
            .values(name=ERASED_NAME, erased_at=now, **CLEARED_NUMBERS, **CLEARED_PARTICULARS)
        )
    return rows
