"""Region picker support for pages: children of a region as JSON for the cascading selects."""

from flask import Blueprint, jsonify, request

from ..extensions import db
from .service import children_of, get_region

bp = Blueprint("regions", __name__)


@bp.get("/regions/children")
def region_children():
    parent = request.args.get("parent") or None
    if parent:
        get_region(parent)
    rows = db.session.scalars(children_of(parent)).all()
    return jsonify([{"code": r.code, "name": r.name, "level": r.level.value} for r in rows])
