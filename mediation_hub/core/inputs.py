"""Hostile input is refused at the edge, before it reaches a decoder's recursion, the database or a template.

- A JSON body nested deeper than ``MAX_JSON_DEPTH`` (the decoder recurses once per level until RecursionError), or
  one that is not JSON at all, is a 400.
- A NUL character (PostgreSQL's text columns refuse it) or a lone UTF-16 surrogate such as ``"\\ud800"`` (no UTF-8
  encoder takes it: the database driver, a log line or a page would fail on it) in a string of a JSON body (keys
  too), a query parameter, a form field or an upload's file name is a 422 naming where it was; in a path segment it
  names no record: a 404.

The check runs before every view, pages and API alike (the anonymous token call too), after sign-in and the token
check so a caller without one still gets its 401 first. ``errors.refused_value`` stays the last line of defence
for what reaches the database another way.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, NotFound, UnprocessableEntity

from .i18n import N_
from .messages import LazyCoded

MAX_JSON_DEPTH = 32  # the deepest document the API takes is 3 levels (a case, its parties, a party)
MAX_NAMED = 20  # a body full of bad strings is answered naming the first ones
MAX_NAME_LENGTH = 80
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

NOT_JSON = LazyCoded("invalid_json", N_("请求内容不是有效的 JSON"))
JSON_TOO_DEEP = LazyCoded("json_too_deep", N_("请求内容不是有效的 JSON：嵌套层数过多"))
NUL_CHARACTER = LazyCoded("nul_character", N_("不能含有空字符"))
LONE_SURROGATE = LazyCoded("lone_surrogate", N_("不能含有不成对的代理字符"))
REFUSED = LazyCoded("refused_characters", N_("请求中以下参数含有不允许的字符：%(names)s"))
NO_SUCH_PATH = LazyCoded("not_found", N_("地址中含有不允许的字符，找不到该记录"))


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than the decoder's recursion (or the hub) allows."""


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that answers a document nested too deep for the decoder's recursion with ``JSONTooDeep`` (a
    ValueError like any other undecodable document) instead of a RecursionError."""
    try:
        return json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep("nested too deep") from None


class HubJSONProvider(DefaultJSONProvider):
    """Flask's JSON with ``loads`` above: ``request.get_json()`` answers too deep a body with a 400 as well."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)


def character_problem(text: str) -> LazyCoded | None:
    """Why ``text`` cannot be taken (a NUL, a lone surrogate), untranslated; None when it can."""
    if "\x00" in text:
        return NUL_CHARACTER
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # json.loads pairs valid surrogates; what remains is alone
            return LONE_SURROGATE
    return None


def printable(name: str) -> str:
    """A parameter name fit to be shown and logged: NULs and lone surrogates as escapes, cut to a length."""
    shown = "".join(f"\\u{ord(c):04x}" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in name)
    return shown if len(shown) <= MAX_NAME_LENGTH else shown[:MAX_NAME_LENGTH] + "…"


class _Findings:
    """The names at fault by location (``{"query": {"q": [message]}}``, webargs' shape), the first few only."""

    def __init__(self) -> None:
        self.by_location: dict[str, dict[str, list[str]]] = {}
        self.count = 0

    def add(self, location: str, name: str, problem: LazyCoded) -> None:
        self.count += 1
        if self.count <= MAX_NAMED:
            self.by_location.setdefault(location, {}).setdefault(printable(name), []).append(problem())

    def check(self, location: str, name: str, value: str) -> None:
        problem = character_problem(name) or character_problem(value)
        if problem:
            self.add(location, name, problem)


def _check_pairs(found: _Findings, location: str, pairs: Iterable[tuple[str, Any]]) -> None:
    for name, value in pairs:
        found.check(location, name, value if isinstance(value, str) else "")


def _json_body() -> Any:
    """The request's JSON body, decoded as webargs will decode it (UTF-8), or None when it is empty."""
    data = request.get_data(cache=True)
    if not data.strip():
        return None  # webargs reads an empty body as no body at all
    try:
        return loads(data.decode("utf-8"))
    except JSONTooDeep:
        raise BadRequest(JSON_TOO_DEEP()) from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, an integer of more than 4300 digits
        raise BadRequest(NOT_JSON()) from None


def _check_json(found: _Findings, body: Any) -> None:
    """Every string of ``body`` (keys too), walked without recursion, named by its path (``parties.0.name``)."""
    pending: deque[tuple[Any, str, int]] = deque([(body, "", 0)])
    while pending:
        value, path, depth = pending.popleft()
        if isinstance(value, str):
            found.check("json", path or "_schema", value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_JSON_DEPTH:
            raise BadRequest(JSON_TOO_DEEP())
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            name = f"{path}.{key}" if path else str(key)
            problem = character_problem(key) if isinstance(key, str) else None
            if problem:
                found.add("json", name, problem)
            pending.append((item, name, depth + 1))


def refuse_hostile_input() -> None:
    """A before-request check of everything a request carries as text (see the module's docstring)."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and character_problem(value):
            raise NotFound(NO_SUCH_PATH())
    found = _Findings()
    _check_pairs(found, "query", request.args.items(multi=True))
    if request.mimetype in FORM_MIMETYPES:
        _check_pairs(found, "form", request.form.items(multi=True))
        _check_pairs(
            found, "files", ((name, upload.filename or "") for name, upload in request.files.items(multi=True))
        )
    if request.is_json:
        body = _json_body()
        if body is not None:
            _check_json(found, body)
    if found.count:
        names = ", ".join(name for location in found.by_location.values() for name in location)
        raise RefusedInput(REFUSED(names=names), found.by_location)


class RefusedInput(UnprocessableEntity):
    """The 422 naming the parameters at fault, with ``data`` in the shape handle_http_error answers (webargs')."""

    def __init__(self, description: str, by_location: dict[str, dict[str, list[str]]]) -> None:
        super().__init__(description)
        self.data = {"messages": by_location}


def init_inputs(app: Flask) -> None:
    """Install the safe JSON decoder and the check; call it after the sign-in and token checks are registered."""
    app.json = HubJSONProvider(app)
    app.before_request(refuse_hostile_input)
