"""Template filters shared by every page."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import gettext

from .i18n import N_
from .shanghai import SHANGHAI

ROLE_LABELS = {"admin": N_("系统管理员"), "registry_admin": N_("登记管理员"), "mediator": N_("调解员"),
               "legal_aid_officer": N_("法律援助工作人员"), "coordinator": N_("协调官员")}


def rate(value) -> str:
    """A fraction as a percentage with one decimal; a null rate is shown as a dash."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}%"


def local_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def register(app: Flask) -> None:
    app.jinja_env.filters["rate"] = rate
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["iso_date"] = iso_date
    app.jinja_env.filters["role_label"] = lambda role: gettext(ROLE_LABELS[role]) if role in ROLE_LABELS else role
