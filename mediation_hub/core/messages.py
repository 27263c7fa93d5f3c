"""Messages for people, each with a stable machine code beside it.

The text is written in Chinese (the catalogue's source language) and translated with the request's locale
(Chinese by default, English on ``?lang=en`` or an API client's ``Accept-Language: en``); the code never
changes, so API clients branch on the code and never parse the text::

    collect(errors, "terms", coded("terms_required", "达成协议的须填写协议内容"))
    raise StateConflict(coded("transfer_pending", "该案件已有待答复的转办"))
    coded("date_outside_calendar", "日期超出%(year)s年的工作日历", year=2027)

``coded`` translates at once (call it where the error is raised, inside a request or a job); for a message
defined at import time use ``N_`` there and ``coded(code, text)`` where it is raised.
"""

from __future__ import annotations

from typing import Any, TypeAlias, overload

from flask_babel import gettext

# The machine codes of a tree of messages: a code, or a dict/list of them in the shape of the messages.
CodeTree: TypeAlias = "str | dict[Any, CodeTree] | list[CodeTree]"


class Coded(str):
    """A translated message that carries its machine code (``.code``)."""

    code: str

    def __new__(cls, code: str, text: str) -> Coded:
        obj = super().__new__(cls, text)
        obj.code = code
        return obj

    def __reduce__(self) -> tuple[type[Coded], tuple[str, str]]:
        return (Coded, (self.code, str(self)))


def coded(code: str, text: str, /, **params: object) -> Coded:
    """``text`` translated for the current locale (``%(name)s`` placeholders filled from ``params``)."""
    return Coded(code, gettext(text, **params))


@overload
def code_of(message: object, default: str = "invalid") -> str: ...
@overload
def code_of(message: object, default: None) -> str | None: ...
def code_of(message: object, default: str | None = "invalid") -> str | None:
    """The machine code of a message: its own, or ``default`` for a plain text."""
    code: str | None = getattr(message, "code", None)
    return code or default


def lazy_coded(code: str, text: str) -> LazyCoded:
    """A message defined at import time (a module constant), translated each time it is shown."""
    return LazyCoded(code, text)


class LazyCoded:
    """``coded(code, text)`` deferred: call it (``MESSAGE()`` or ``MESSAGE(name=…)``) where the error is raised."""

    def __init__(self, code: str, text: str) -> None:
        self.code, self.text = code, text

    def __call__(self, **params: object) -> Coded:
        return coded(self.code, self.text, **params)

    def __str__(self) -> str:
        return str(self())


def codes_of(messages: object, default: str = "invalid") -> CodeTree:
    """The machine codes of a tree of messages (``{field: [message]}``, nested by location or list index), in the
    same shape: what the API answers as ``error_codes`` beside ``errors``."""
    if isinstance(messages, dict):
        return {key: codes_of(value, default) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [codes_of(value, default) for value in messages]
    return code_of(messages, default)


def message_of(exc: BaseException) -> str:
    """The message an exception was raised with, keeping its code (``str(exc)`` would drop a ``Coded``'s code):
    collect ``ValueError(coded(...))`` with ``collect(errors, field, message_of(exc))``."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
