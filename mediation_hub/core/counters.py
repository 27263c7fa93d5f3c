"""Gap-free running numbers kept in a counter table: one row per key, advanced by ``UPDATE … RETURNING``.

The update takes the row lock on PostgreSQL (on SQLite the writing transaction already holds the database),
so concurrent transactions asking for the same key queue on that row and each gets the next value. The
first number of a key inserts the row inside a savepoint and, if another transaction inserted it first,
queues on it instead. Used for case numbers (``cases.numbering``) and document numbers
(``documents.numbering``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..extensions import db


def _advance(table: sa.Table, key: dict[str, object], count: int) -> int | None:
    return db.session.execute(
        sa.update(table)
        .where(*(table.c[name] == value for name, value in key.items()))
        .values(last_number=table.c.last_number + count)
        .returning(table.c.last_number)
    ).scalar()


def next_value(table: sa.Table, key: dict[str, object], count: int = 1) -> int:
    """The next number for ``key`` (the row stays locked until commit); with ``count`` > 1 a run of numbers is
    reserved at once and the last one returned: the run is ``last - count + 1 … last``."""
    value = _advance(table, key, count)
    if value is not None:
        return value
    try:
        with db.session.begin_nested():
            db.session.execute(sa.insert(table).values(**key, last_number=count))
        return count
    except IntegrityError:  # another transaction created the row meanwhile: queue on it instead
        value = _advance(table, key, count)
        if value is None:
            raise
        return value
