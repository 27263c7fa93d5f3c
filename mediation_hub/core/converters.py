"""URL converters shared by every blueprint."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

DATABASE_INT_MAX = 2**31 - 1  # ids are INTEGER columns (PostgreSQL int4)


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in every URL: a whole number the database's id columns can hold. A larger one can name no
    record, so its URL matches no route (a 404) instead of reaching the database (SQLite cannot even bind a
    number beyond 64 bits: a 500)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(
            map, fixed_digits=fixed_digits, min=min, max=DATABASE_INT_MAX if max is None else max, signed=signed
        )
