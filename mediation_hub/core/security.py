"""HTTP security headers on every response, and no caching of anything that may hold personal data."""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


DEFAULT_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))
_NO_STORE_NAMES = frozenset(name.lower() for name, _value in NO_STORE)


def _set_headers(response: Response) -> Response:
    """The headers above where the answer has not set its own; ``no-store`` in place of its caching headers. One
    pass over the answer's headers (werkzeug's ``setdefault`` and ``set`` would each scan them again)."""
    headers = response.headers
    path = request.path
    no_store = not path.startswith("/static/") and path != "/favicon.ico"
    if no_store and any(name.lower() in _NO_STORE_NAMES for name, _value in headers.items()):
        for name, _value in NO_STORE:
            del headers[name]
    present = {name.lower() for name, _value in headers.items()}
    headers.extend((name, value) for name, value in DEFAULT_HEADERS if name.lower() not in present)
    if no_store:  # pages and API answers may carry personal data: never stored by browsers or proxies
        headers.extend(NO_STORE)
    return response


def init_security(app: Flask) -> None:
    app.after_request(_set_headers)
