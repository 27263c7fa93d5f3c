"""One page shape for every list: ``{items, total, page, per_page}``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from marshmallow import Schema, fields, validate

from ..extensions import db

MAX_PAGE = 100_000  # ten million rows at the largest page size: anything beyond is no page a client needs


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A response schema for a page of ``item_schema`` (named for OpenAPI)."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "total": fields.Integer(),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
        },
        name=name,
    )


def count_of(stmt: sa.Select[Any]) -> int:
    """How many rows ``stmt`` gives, counted in SQL."""
    return db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()


def paginate(stmt: sa.Select[Any], page: int = 1, per_page: int | None = None) -> dict[str, Any]:
    """Run ``stmt`` for one page and count the whole result in SQL."""
    per_page = min(per_page or current_app.config["DEFAULT_PAGE_SIZE"], current_app.config["MAX_PAGE_SIZE"])
    total = count_of(stmt)
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "total": total, "page": page, "per_page": per_page, "pages": max(1, -(-total // per_page))}
