"""Region pages: the children of a region as JSON for the cascading region pickers, and the administrators' page
that adds towns and villages from a csv (beside the working-day calendar: both are reference data)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..auth.current import current_actor
from ..core.limits import shown_size, upload_limit
from ..errors import ValidationFailed
from ..extensions import db
from .forms import PlacesUploadForm
from .models import ReferenceSource, Region, RegionLevel
from .policy import POLICY
from .service import PLACES_DATASET, children_of, get_region, import_places_file

bp = Blueprint("regions", __name__, template_folder="templates")


@bp.get("/regions/children")
def region_children():
    parent = request.args.get("parent") or None
    if parent:
        get_region(parent)
    rows = db.session.scalars(children_of(parent)).all()
    return jsonify([{"code": r.code, "name": r.name, "level": r.level.value} for r in rows])


@bp.route("/regions/places", methods=["GET", "POST"])
def places() -> ResponseReturnValue:
    """How many towns and villages the hub holds and where the last load came from; an administrator loads a csv
    of them (all or nothing: the rows at fault are listed, nothing is saved)."""
    actor = current_actor()
    POLICY.require(actor, "maintain_places")
    form = PlacesUploadForm()
    row_errors: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = import_places_file(actor, upload.filename or "", upload.read())
        except ValidationFailed as exc:
            db.session.rollback()
            form.file.errors = [*form.file.errors, *exc.errors.pop("file", [])]
            row_errors = [message for messages in exc.errors.values() for message in messages]
        else:
            flash(
                _(
                    "乡镇和村已导入：新增 %(added)s 个，更名 %(updated)s 个。",
                    added=result.added,
                    updated=result.updated,
                ),
                "success",
            )
            return redirect(url_for("regions.places"))
    return render_template(
        "regions/places.html",
        form=form,
        row_errors=row_errors,
        **_held_counts(),
        last_load=db.session.get(ReferenceSource, PLACES_DATASET),
        upload_size=shown_size(upload_limit(current_app.config)),
    ), (422 if form.is_submitted() else 200)


def _held_counts() -> dict[str, int]:
    """How many towns and how many villages the divisions hold (``towns``, ``villages``)."""
    levels = {RegionLevel.town: "towns", RegionLevel.village: "villages"}
    rows = db.session.execute(
        sa.select(Region.level, sa.func.count()).where(Region.level.in_(levels)).group_by(Region.level)
    )
    counts = dict.fromkeys(levels.values(), 0)
    counts.update({levels[level]: count for level, count in rows.tuples()})
    return counts
