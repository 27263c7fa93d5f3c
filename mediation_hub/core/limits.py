"""Size limits on request bodies, applied before anything reads a body.

Every request gets a limit from its endpoint (``body_limit``): a JSON or form body ``MAX_JSON_KB`` (1 MB by
default), the import uploads ``MAX_UPLOAD_MB``, the anonymous sign-in calls a few KB. A body that declares a
larger Content-Length is answered 413 at once, unread: the one JSON error shape under /api, the Chinese error
page elsewhere. The check runs before the CSRF check, the hostile-input check and the views, which all read the
body.

A body sent without Content-Length (chunked) is read here, up to the limit, into a buffer that then stands in
for the request's stream: werkzeug's limited stream alone would hand the readers the first ``limit`` bytes of a
larger body as if they were all of it (a truncated JSON document, a form missing its last fields)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from .i18n import N_
from .messages import coded

KB = 1024
MB = 1024 * KB
ANONYMOUS_BODY_BYTES = 8 * KB  # a user name and a password (and the sign-in form's CSRF token)
UPLOAD_OVERHEAD_BYTES = 64 * KB  # multipart boundaries and the upload form's other fields around the file
SPOOL_BYTES = 1 * MB  # an unsized body above this waits in an (unnamed) temporary file, not in memory
CHUNK_BYTES = 64 * KB

# Endpoints with a limit other than MAX_JSON_KB; tests/test_security_limits.py checks that each exists.
UPLOAD_ENDPOINTS = frozenset(
    {"imports.import_upload", "imports_api.ImportCases", "regions.places", "regions_api.Places"}
)
ANONYMOUS_ENDPOINTS = frozenset({"auth.login", "auth_api.Token"})

TOO_LARGE = N_("请求内容过大（上限 %(limit)s）")
FORM_TOO_LARGE = N_("表单的字段过大或过多（每个字段上限 %(limit)s，最多 %(parts)s 个字段）")


class BodyTooLarge(RequestEntityTooLarge):
    """The body is larger than the request's limit (werkzeug's own 413s are about a form's fields)."""


def upload_limit(config: Mapping[str, Any]) -> int:
    """The largest file an import upload may carry, in bytes (``MAX_UPLOAD_MB``)."""
    return int(config["MAX_UPLOAD_MB"]) * MB


def nominal_limit(config: Mapping[str, Any], endpoint: str | None) -> int:
    """The limit a person is told for a request to ``endpoint``: the file's size for an upload."""
    if endpoint in UPLOAD_ENDPOINTS:
        return upload_limit(config)
    if endpoint in ANONYMOUS_ENDPOINTS:
        return ANONYMOUS_BODY_BYTES
    return int(config["MAX_JSON_KB"]) * KB


def body_limit(config: Mapping[str, Any], endpoint: str | None) -> int:
    """The most bytes a request to ``endpoint`` may send (an upload's limit leaves room for the form around it)."""
    limit = nominal_limit(config, endpoint)
    return limit + UPLOAD_OVERHEAD_BYTES if endpoint in UPLOAD_ENDPOINTS else limit


def shown_size(size: int) -> str:
    """``1048576`` -> ``"1 MB"``, ``8192`` -> ``"8 KB"``."""
    if size >= MB and size % MB == 0:
        return f"{size // MB} MB"
    return f"{size // KB} KB" if size >= KB else f"{size} B"


def too_large() -> BodyTooLarge:
    limit = nominal_limit(current_app.config, request.endpoint)
    return BodyTooLarge(coded("payload_too_large", TOO_LARGE, limit=shown_size(limit)))


def limit_request_body() -> None:
    """Before-request: this request's limit, and a 413 for a body known to exceed it."""
    limit = body_limit(current_app.config, request.endpoint)
    request.max_content_length = limit
    length = request.content_length
    if length is not None:
        if length > limit:
            raise too_large()
    elif "chunked" in request.headers.get("Transfer-Encoding", "").lower() and request.environ.get(
        "wsgi.input_terminated"
    ):  # else werkzeug reads no body at all
        _buffer_unsized_body(limit)


def _buffer_unsized_body(limit: int) -> None:
    """Read a body sent without Content-Length up to ``limit``; 413 past it. The buffer becomes the request's
    stream, so every reader sees the whole body (see the module's docstring)."""
    source = request.environ["wsgi.input"]
    buffer = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed at teardown
    g._unsized_body = buffer
    size = 0
    while chunk := source.read(min(CHUNK_BYTES, limit + 1 - size)):
        size += len(chunk)
        if size > limit:
            raise too_large()
        buffer.write(chunk)
    buffer.seek(0)
    request.stream = buffer


def _close_buffer(_exc: BaseException | None) -> None:
    buffer = g.pop("_unsized_body", None)
    if buffer is not None:
        buffer.close()


def with_limit_named(exc: RequestEntityTooLarge) -> RequestEntityTooLarge:
    """The 413 to answer (``errors.register_error_handlers`` answers it in the hub's shape), naming the limit: the
    body's (raised above), or, raised by werkzeug while it parses a form, a field's (MAX_FORM_MEMORY_SIZE) and the
    number of fields (MAX_FORM_PARTS)."""
    if isinstance(exc, BodyTooLarge):
        return exc
    return RequestEntityTooLarge(
        coded(
            "payload_too_large",
            FORM_TOO_LARGE,
            limit=shown_size(request.max_form_memory_size or 0),
            parts=request.max_form_parts or current_app.config["MAX_FORM_PARTS"],
        )
    )


def init_limits(app: Flask) -> None:
    """Register the limit; call it before anything that reads request bodies is registered (CSRF, the views).

    Flask's own bounds follow the settings: MAX_CONTENT_LENGTH, for a body read outside a request's limit, is the
    largest any request takes; MAX_FORM_MEMORY_SIZE (a form's text fields held in memory; a urlencoded form as a
    whole) is the JSON body's limit, so a form is refused at the limit its 413 names (MAX_FORM_PARTS stays 1000)."""
    json_limit = int(app.config["MAX_JSON_KB"]) * KB
    app.config["MAX_CONTENT_LENGTH"] = max(upload_limit(app.config) + UPLOAD_OVERHEAD_BYTES, json_limit)
    app.config["MAX_FORM_MEMORY_SIZE"] = json_limit
    app.before_request(limit_request_body)
    app.teardown_request(_close_buffer)
