"""The working-day calendar page: which years are loaded (and from where); an administrator loads or
corrects a year's holidays and 调休 make-up workdays. Everything else in the hub counts deadlines from it."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..audit import service as audit
from ..auth.current import current_actor
from ..errors import PermissionDenied, ValidationFailed
from ..extensions import db
from .calendar import CalendarDay, CalendarYear, load_year

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

HOLIDAY_NOTE, WORKDAY_NOTE = "holiday", "make-up workday"


class LoadYearForm(FlaskForm):
    year = IntegerField("年份", validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    holidays = TextAreaField("法定节假日 (每行一个日期, YYYY-MM-DD)", validators=[Optional()])
    workdays = TextAreaField("调休上班日 (每行一个日期, YYYY-MM-DD)", validators=[Optional()])
    source = StringField("来源说明", validators=[Optional(), Length(max=60)])


def parse_dates(text: str | None, field: str, errors: dict[str, list[str]]) -> list[date]:
    """One ISO date per line (blank lines ignored); every unreadable line is reported."""
    days = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            days.append(date.fromisoformat(line))
        except ValueError:
            errors.setdefault(field, []).append(f"第{number}行不是有效日期: {line[:20]}")
    return days


def _require_admin():
    actor = current_actor()
    if not actor.is_admin:
        raise PermissionDenied("只有系统管理员可以维护工作日历 (administrators only)")
    return actor


def _year_days(year: int, note: str) -> list[date]:
    return list(db.session.scalars(
        sa.select(CalendarDay.day).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)),
                                         CalendarDay.note == note).order_by(CalendarDay.day)))


def _render(form: LoadYearForm, shown_year: int | None, status: int = 200):
    years = db.session.scalars(sa.select(CalendarYear).order_by(CalendarYear.year.desc())).all()
    shown = db.session.get(CalendarYear, shown_year) if shown_year else None
    holidays = _year_days(shown.year, HOLIDAY_NOTE) if shown else []
    workdays = _year_days(shown.year, WORKDAY_NOTE) if shown else []
    return render_template("calendar/years.html", form=form, years=years, shown=shown,
                           holidays=holidays, workdays=workdays), status


@bp.get("")
def calendar_years():
    """Loaded years; with ``?year=`` that year's holidays and make-up days, pre-filled for correction."""
    _require_admin()
    shown_year = request.args.get("year", type=int)
    form = LoadYearForm(formdata=None)
    if shown_year and db.session.get(CalendarYear, shown_year) is not None:
        form.year.data = shown_year
        form.holidays.data = "\n".join(d.isoformat() for d in _year_days(shown_year, HOLIDAY_NOTE))
        form.workdays.data = "\n".join(d.isoformat() for d in _year_days(shown_year, WORKDAY_NOTE))
    return _render(form, shown_year)


@bp.post("")
def load_calendar_year():
    """Load (or replace) one year, recorded in the audit log."""
    actor = _require_admin()
    form = LoadYearForm()
    if not form.validate_on_submit():
        return _render(form, None, 422)
    errors: dict[str, list[str]] = {}
    holidays = parse_dates(form.holidays.data, "holidays", errors)
    workdays = parse_dates(form.workdays.data, "workdays", errors)
    source = (form.source.data or "").strip() or f"管理员载入 ({actor.username})"
    try:
        if errors:
            raise ValidationFailed(errors)
        load_year(form.year.data, holidays, workdays, source=source)
    except ValidationFailed as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            target = getattr(form, field, None)
            if target is not None:
                target.errors = list(target.errors) + messages
        return _render(form, None, 422)
    audit.record(actor, "calendar_loaded", target_type="calendar_year", target_id=form.year.data,
                 detail={"holidays": len(set(holidays)), "workdays": len(set(workdays)), "source": source},
                 remote_addr=request.remote_addr)
    db.session.commit()
    flash(f"{form.year.data}年工作日历已载入: 节假日 {len(set(holidays))} 天, 调休上班 {len(set(workdays))} 天",
          "success")
    return redirect(url_for("calendar.calendar_years", year=form.year.data))
