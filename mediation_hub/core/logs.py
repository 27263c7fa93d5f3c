"""Structured JSON logs, one line per record, with the request id; personal numbers masked as a last line
of defence (code must not log them in the first place)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import TextIO

from flask import Flask, Response, g, has_request_context, request

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colour and cursor codes (werkzeug colours status codes)
ID_NUMBER = re.compile(r"(?<![0-9])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9])")
MOBILE = re.compile(r"(?<![0-9])(1[3-9]\d)\d{4}(\d{4})(?![0-9])")


def scrub(text: str) -> str:
    """Mask anything shaped like a resident ID number or a mobile number."""
    text = ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def plain(text: str) -> str:
    """``text`` without ANSI escape codes: a log line is read by tools and people, not drawn on a terminal."""
    return ANSI_ESCAPE.sub("", text) if "\x1b" in text else text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(plain(record.getMessage())),
        }
        if has_request_context():
            entry["request_id"] = getattr(g, "request_id", None)
            entry["method"] = request.method
            entry["path"] = scrub(request.path)  # a URL is typed by anyone: a number in it is masked like one in text
        for key in ("status", "duration_ms", "user_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = scrub(plain(self.formatException(record.exc_info)))
        return json.dumps(entry, ensure_ascii=False)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def colour_only_on_a_terminal(stream: TextIO) -> None:
    """werkzeug's development server colours its request lines (a 404 yellow, a 500 magenta) unless told not to:
    tell it so when ``stream`` is not a terminal (a service manager, a pipe, a file, CI)."""
    if not _is_terminal(stream):
        import werkzeug.serving

        werkzeug.serving._log_add_style = False


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr for the app's and the server's loggers; an id per request. No colour codes: the JSON
    lines strip them, and werkzeug's development server is told not to colour its lines when stderr is not a
    terminal (its own banner and warnings then come out plain too)."""
    handler = logging.StreamHandler(sys.stderr)
    colour_only_on_a_terminal(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in (app.logger.name, "mediation_hub", "werkzeug", "gunicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    access = logging.getLogger("mediation_hub.access")

    @app.before_request
    def _start_request() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if re.fullmatch(r"[A-Za-z0-9._-]{8,64}", incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        if not request.path.startswith("/static/"):
            elapsed = (time.perf_counter() - getattr(g, "request_started", time.perf_counter())) * 1000
            actor = getattr(g, "actor", None)
            access.info(
                "%s %s %s",
                request.method,
                scrub(request.path),  # masked at the source too: handlers other than ours see the record
                response.status_code,
                extra={
                    "status": response.status_code,
                    "duration_ms": round(elapsed, 1),
                    "user_id": getattr(actor, "user_id", None),
                },
            )
        return response
