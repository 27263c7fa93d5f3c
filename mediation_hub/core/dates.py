"""Dates as people see and type them: ISO ``2026-12-07`` everywhere, never the browser's locale format.

``<input type="date">`` shows the date the way the browser's (or the phone's) locale writes it: Chromium
shows ``12/07/2026`` even on a page that says ``lang="zh-CN"``, so a date typed on one page would read
differently from the same date printed beside it. The hub's date fields are therefore text inputs that show
and take ISO dates, with a numeric keyboard on phones and ``2026-12-07`` as their placeholder. Because a
phone's numeric keyboard may have no "-" key, the server also takes ``20261207``, ``2026/12/7``,
``2026.12.7`` and full-width digits, and always shows the date back as ``2026-12-07``."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from markupsafe import Markup
from wtforms import DateField as _WtformsDateField
from wtforms import Field
from wtforms.widgets import TextInput

from .i18n import N_
from .messages import coded

ISO_PLACEHOLDER = "2026-12-07"
# What the browser lets through before the server judges (forms are novalidate; it also marks :invalid).
INPUT_PATTERN = r"\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}|\d{8}"
FORMAT_HINT = N_("格式：年-月-日，如 2026-12-07")
INVALID_DATE = N_("请按 年-月-日 填写日期，如 2026-12-07")

_SEPARATED = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(text: str) -> date:
    """The date in ``text`` (ISO, or year-month-day with ``/``, ``.``, 年月日 or no separator); ValueError
    carrying a coded Chinese message otherwise (also for a day that does not exist, such as 2026-02-30)."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    match = _SEPARATED.fullmatch(cleaned) or _COMPACT.fullmatch(cleaned)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(coded("invalid_date", INVALID_DATE))


class IsoDateInput(TextInput):
    """A text input for an ISO date: numeric keyboard, placeholder 2026-12-07, the format as its title."""

    def __call__(self, field: Field, **kwargs: object) -> Markup:
        from flask_babel import gettext

        kwargs.setdefault("inputmode", "numeric")
        kwargs.setdefault("pattern", INPUT_PATTERN)
        kwargs.setdefault("placeholder", ISO_PLACEHOLDER)
        kwargs.setdefault("title", gettext(FORMAT_HINT))
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("maxlength", 12)
        kwargs.setdefault("class", "iso-date")
        return super().__call__(field, **kwargs)


class DateField(_WtformsDateField):
    """The hub's date field: shown and re-shown as ``2026-12-07``, typed as text (see the module docstring).
    An empty box gives ``None`` (pair it with ``Optional()`` or ``DataRequired()`` as before)."""

    widget = IsoDateInput()

    def _value(self) -> str:
        if self.data:  # what was typed, re-shown in ISO once it is understood (20261207 → 2026-12-07)
            return self.data.isoformat()
        return " ".join(self.raw_data) if self.raw_data else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        self.data = None
        if text:
            self.data = parse_date(text)  # a ValueError becomes this field's error, its code kept in args[0]


def iso_date_attrs() -> Markup:
    """The attributes of the hub's date inputs, for a template that writes its ``<input type="text">`` by hand
    (``<input type="text" name="from" {{ iso_date_attrs() }}>``): the same as :class:`IsoDateInput`."""
    from flask_babel import gettext

    return Markup(
        'inputmode="numeric" pattern="{}" placeholder="{}" title="{}" autocomplete="off" maxlength="12" '
        'class="iso-date"'
    ).format(INPUT_PATTERN, ISO_PLACEHOLDER, gettext(FORMAT_HINT))
