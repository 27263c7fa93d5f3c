"""The working-day calendar page: which years are official or provisional (and from where); an administrator
loads a year's State Council notice, first as a preview of what it changes, then for real. Everything else in
the hub counts deadlines from this calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..auth.current import current_actor
from ..core.actor import Actor
from ..core.calendar import (
    HOLIDAY_NOTE,
    LAST_COMPUTABLE_YEAR,
    WORKDAY_NOTE,
    CalendarDay,
    CalendarYear,
    DeadlineMove,
    YearStatus,
    planned_days,
    year_statuses,
)
from ..core.messages import Coded, code_of
from ..core.shanghai import today_shanghai
from ..errors import ValidationFailed, raise_if
from ..extensions import db
from .policy import POLICY
from .service import (
    FIRST_LOADABLE_YEAR,
    Notice,
    parse_days,
    preview_year,
    publish_year,
    read_notice,
    years_to_load,
)
from .service import calendar_years as years_held  # the view below takes the endpoint's name
from .tasks import provisional_year_message

bp = Blueprint("calendar", __name__, url_prefix="/calendar", template_folder="templates")


class LoadYearForm(FlaskForm):
    """A year's notice: pasted dates and ranges, or a csv/json file. Shape only; the service checks the rest."""

    year = IntegerField(
        _l("年份"),
        validators=[
            InputRequired(_l("请填写年份")),
            NumberRange(FIRST_LOADABLE_YEAR, LAST_COMPUTABLE_YEAR, _l("年份须在 %(min)s 至 %(max)s 之间")),
        ],
    )
    source = StringField(_l("通知标题"), validators=[Optional(), Length(max=80, message=_l("不超过 80 个字"))])
    holidays = TextAreaField(_l("放假日期"))
    workdays = TextAreaField(_l("调休上班日期"))
    file = FileField(
        _l("或上传通知文件（csv 或 json）"),
        validators=[FileAllowed(["csv", "json"], _l("只支持 csv 和 json 文件"))],
        description=_l("上传文件时，以文件中的日期为准"),
    )


@dataclass
class Preview:
    """What loading the notice would change, shown before anything is saved."""

    year: int
    status_before: YearStatus | None  # None: the year is not in the table yet
    days: list[tuple[date, bool]]  # each day whose working/rest status changes, and whether it works after
    moved: list[DeadlineMove]
    holidays: list[date]
    workdays: list[date]


# --- telling the administrators -------------------------------------------------------------------------


def provisional_banner(actor: Actor) -> list[tuple[int, str]]:
    """For an administrator, each year to load now and the message saying how; nobody else is told."""
    if not POLICY.allows(actor, "maintain"):
        return []
    return [(year, provisional_year_message(year)) for year in years_to_load(today_shanghai())]


# --- the page -------------------------------------------------------------------------------------------


@bp.get("")
def calendar_years():
    """The years held, their status and source; with ``?year=`` that year's rest days and make-up workdays."""
    POLICY.require(current_actor(), "maintain")
    shown_year = request.args.get("year", type=int)
    shown = db.session.get(CalendarYear, shown_year) if shown_year else None
    form = LoadYearForm(formdata=None)
    if shown_year:
        form.year.data = shown_year
    if shown is not None and not shown.provisional:  # an official year: pre-filled for a correction
        rest, workdays = _year_detail(shown)
        form.source.data = shown.source
        form.holidays.data, form.workdays.data = days_text([d for d, _name in rest]), days_text(workdays)
    return _render(form, shown=shown)


@bp.post("")
def load_calendar_year():
    """Preview what a year's notice changes (nothing saved); with ``confirm`` load it, recounting the open
    deadlines it touches, in one audited transaction."""
    actor = current_actor()
    POLICY.require(actor, "maintain")
    form = LoadYearForm()
    if not form.validate_on_submit():
        return _render(form, status=422)
    try:
        notice = _notice_from(form)
        if request.form.get("confirm") != "1":
            return _render(form, preview=_preview(actor, form.year.data, notice))
        change = publish_year(
            actor,
            form.year.data,
            notice.holidays,
            notice.workdays,
            source=notice.source,
            remote_addr=request.remote_addr,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _render(form, status=422, leftover=_attach_errors(form, exc.errors))
    flash(
        _(
            "%(year)s 年工作日历已载入：%(days)s 天的工作日/休息日安排改变，%(moved)s 个期限顺延。",
            year=change.year,
            days=len(change.days_changed),
            moved=len(change.moved),
        ),
        "success",
    )
    return redirect(url_for("calendar.calendar_years", year=change.year))


def _render(
    form: LoadYearForm,
    *,
    shown: CalendarYear | None = None,
    preview: Preview | None = None,
    status: int = 200,
    leftover: list[str] | None = None,
):
    rest, workdays = _year_detail(shown) if shown is not None else ([], [])
    _describe(form, form.year.data or today_shanghai().year + 1)
    return render_template(
        "calendar/years.html",
        form=form,
        years=years_held(),
        shown=shown,
        rest_days=rest,
        workdays=workdays,
        preview=preview,
        failed=status == 422,
        leftover=leftover or [],
        calendar_banner=provisional_banner(current_actor()),
        days_text=days_text,
    ), status


def _describe(form: LoadYearForm, year: int) -> None:
    """Hints whose examples lie in the year being loaded, so they never look out of date."""
    form.source.description = _("如：国务院办公厅关于%(year)s年部分节假日安排的通知", year=year)
    form.holidays.description = _("每行一个日期或日期范围，如 %(range)s", range=f"{year}-10-01..{year}-10-07")
    form.workdays.description = _("每行一个日期，如 %(day)s", day=f"{year}-09-26")


# --- reading the form -----------------------------------------------------------------------------------


def _notice_from(form: LoadYearForm) -> Notice:
    """The notice from the uploaded file, or else from the pasted dates. The fields are then rewritten with
    the days read (ranges kept), so the preview's confirmation posts exactly what was previewed."""
    upload = form.file.data
    if upload and upload.filename:
        notice = _read_upload(upload.filename, upload.read())
    else:
        errors: dict[str, list[str]] = {}
        notice = Notice(
            parse_days(form.holidays.data, "holidays", errors), parse_days(form.workdays.data, "workdays", errors)
        )
        raise_if(errors)
    notice.source = (form.source.data or "").strip() or notice.source
    form.source.data = notice.source
    form.holidays.data, form.workdays.data = days_text(notice.holidays), days_text(notice.workdays)
    return notice


def _read_upload(filename: str, content: bytes) -> Notice:
    """``read_notice``, with every complaint about the file's content shown beside the file field."""
    try:
        return read_notice(filename, content)
    except ValidationFailed as exc:
        names = {"holidays": _("放假日期"), "workdays": _("调休上班日期")}
        raise ValidationFailed(
            {
                "file": [
                    Coded(code_of(m), f"{names[key]}：{m}") if key in names else m
                    for key, messages in exc.errors.items()
                    for m in messages
                ]
            }
        ) from exc


def _attach_errors(form: LoadYearForm, errors: dict[str, list[str]]) -> list[str]:
    """Put each message beside its field; return those no field of the form takes."""
    leftover = []
    for key, messages in errors.items():
        if key in form:
            form[key].errors = list(form[key].errors) + messages
        else:
            leftover.extend(messages)
    return leftover


# --- what the page shows --------------------------------------------------------------------------------


def _preview(actor: Actor, year: int, notice: Notice) -> Preview:
    status_before = year_statuses().get(year)
    change = preview_year(actor, year, notice.holidays, notice.workdays, source=notice.source)
    plan = planned_days(year, notice.holidays, notice.workdays)
    # For a year not held before every day "changes": listing all 365 would hide what matters.
    days = [(day, plan[day]) for day in change.days_changed] if status_before is not None else []
    return Preview(year, status_before, days, change.moved, notice.holidays, notice.workdays)


def _year_detail(shown: CalendarYear) -> tuple[list[tuple[date, str | None]], list[date]]:
    """A year's rest days other than ordinary weekends (with their names where known) and its make-up
    workdays."""
    rows = (
        db.session.execute(
            sa.select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.note)
            .where(
                CalendarDay.day.between(date(shown.year, 1, 1), date(shown.year, 12, 31)), CalendarDay.note.is_not(None)
            )
            .order_by(CalendarDay.day)
        )
        .tuples()
        .all()
    )
    # a provisional year's rest days carry the law's names (春节（补假）…); a notice's are plain holidays
    rest = [
        (day, None if note == HOLIDAY_NOTE else note) for day, works, note in rows if not works and note != WORKDAY_NOTE
    ]
    workdays = [day for day, works, note in rows if works and note == WORKDAY_NOTE]
    return rest, workdays


def days_text(days: list[date], separator: str = "\n") -> str:
    """Days as the form takes them, each run of consecutive days as one range ``first..last``."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return separator.join(
        run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}..{run[-1].isoformat()}" for run in runs
    )
