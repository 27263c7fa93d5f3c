"""Calendar API: which years are official or provisional; an administrator loads a year's notice."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.calendar import CalendarYear
from ..extensions import db
from . import service
from .schemas import CalendarYearIn, CalendarYearList, CalendarYearLoaded, CalendarYearOut

blp = Blueprint("calendar_api", __name__, url_prefix="/api/v1", description="Working-day calendar")


@blp.route("/calendar/years")
class CalendarYears(MethodView):
    @blp.response(200, CalendarYearList)
    def get(self):
        """Every year the calendar holds: official (the notice) or provisional (the holiday law), with its
        source and when it was loaded."""
        return {"items": service.calendar_years()}


@blp.route("/calendar/years/<int:year>")
class CalendarYearResource(MethodView):
    @blp.arguments(CalendarYearIn)
    @blp.response(200, CalendarYearLoaded)
    def put(self, data, year):
        """Load (or correct) a year from the State Council's notice, administrators only: the year becomes
        official and every open deadline that touches it is counted again (moved later, never earlier)."""
        actor = current_actor()
        change = service.publish_year(
            actor, year, data["holidays"], data["workdays"], source=data["source"], remote_addr=request.remote_addr
        )
        record = db.session.get(CalendarYear, year)
        return {
            **{name: getattr(record, name) for name in CalendarYearOut().fields},
            "days_changed": change.days_changed,
            "deadlines_moved": change.moved,
        }
