"""Template filters shared by every page."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from .shanghai import SHANGHAI

ROLE_LABELS = {"admin": "系统管理员", "registry_admin": "登记管理员", "mediator": "调解员",
               "legal_aid_officer": "法律援助工作人员", "coordinator": "协调官员"}


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
    app.jinja_env.filters["role_label"] = lambda role: ROLE_LABELS.get(role, role)
