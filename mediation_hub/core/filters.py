"""Template filters shared by every page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import SupportsFloat

from flask import Flask
from flask_babel import gettext
from markupsafe import Markup

from .dates import iso_date_attrs
from .i18n import N_
from .shanghai import SHANGHAI, today_shanghai

ROLE_LABELS = {
    "admin": N_("系统管理员"),
    "registry_admin": N_("登记管理员"),
    "mediator": N_("调解员"),
    "legal_aid_officer": N_("法律援助工作人员"),
    "coordinator": N_("协调官员"),
}


def rate(value: SupportsFloat | None) -> str:
    """A fraction as a percentage with one decimal; a null rate is shown as a dash."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}%"


def local_time(value: datetime | None) -> str:
    """A timestamp as people read it: ``2026-12-07 14:30`` in Asia/Shanghai (a naive value is UTC, as stored)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def days_until(value: date | None) -> int | None:
    """Whole days from today (Asia/Shanghai) to ``value``: 0 on the day itself, negative once it has passed."""
    return (value - today_shanghai()).days if value else None


PROVISIONAL_TITLE = N_("按法定节假日暂定计算，国务院公布该年安排后可能顺延")


def provisional_mark(provisional: bool) -> str:
    """ "（暂定）" for a deadline counted over a provisional calendar year (plain text: messages, exports)."""
    return gettext("（暂定）") if provisional else ""


def deadline(value: date | str | None, provisional: bool = False) -> Markup:
    """A deadline as its ISO date (a ``date``, or the ISO text an event's data holds), followed by "（暂定）"
    (with the reason as its title) when it was counted over a year whose State Council holiday notice is not
    out yet; empty when there is no date."""
    if not value:
        return Markup("")
    text = value if isinstance(value, str) else iso_date(value)
    if not provisional:
        return Markup.escape(text)
    return Markup('{}<span class="provisional" title="{}">{}</span>').format(
        text, gettext(PROVISIONAL_TITLE), provisional_mark(True)
    )


def register(app: Flask) -> None:
    app.jinja_env.filters["rate"] = rate
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["iso_date"] = iso_date
    app.jinja_env.filters["deadline"] = deadline
    app.jinja_env.filters["days_until"] = days_until
    app.jinja_env.globals["iso_date_attrs"] = iso_date_attrs
    app.jinja_env.filters["role_label"] = lambda role: gettext(ROLE_LABELS[role]) if role in ROLE_LABELS else role
