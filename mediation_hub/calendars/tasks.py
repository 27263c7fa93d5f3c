"""The daily calendar watch (job ``calendar.watch`` in scheduler.py).

It keeps this year and next in the table (provisional until the notice is loaded), loads any year a newer
``chinesecalendar`` release knows (recounting the open deadlines it touches), and from 1 October, while next
year is still provisional, tells every administrator once how to load the State Council's notice."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from ..auth.models import User
from ..core.actor import Role
from ..core.shanghai import SHANGHAI
from ..extensions import db
from ..notifications.service import notify
from . import service

CALENDAR_LINK = "/calendar"


def provisional_year_message(year: int) -> str:
    """In the language of the request (a page), Chinese in a job (the notice stored for the administrators)."""
    return _(
        "%(year)s 年的节假日安排尚未载入：涉及该年的期限暂按法定节假日计算，标注「暂定」。国务院办公厅通知"
        "发布后，请在「工作日历」页面粘贴通知中的放假和调休上班日期（或上传 csv/json 文件）预览后载入；"
        "已显示的期限只会顺延，不会提前。",
        year=year,
    )


def watch_calendar(now: datetime) -> int:
    """Prepare this year and next, load what the package knows, and tell the administrators once per year
    that is still provisional; returns the notifications written."""
    today = now.astimezone(SHANGHAI).date()
    service.prepare_years(today)
    service.sync_package_years()
    written = 0
    admins = db.session.scalars(sa.select(User.id).where(User.role == Role.admin, User.active.is_(True))).all()
    for year in service.years_to_load(today):
        for user_id in admins:
            note = notify(
                kind="calendar_provisional",
                user_id=user_id,
                link=CALENDAR_LINK,
                message=provisional_year_message(year),
                dedupe_key=f"calendar-provisional:{year}:{user_id}",
            )
            written += note is not None
    return written
