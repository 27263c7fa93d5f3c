"""Domain errors and how they become HTTP answers (JSON under /api, pages elsewhere)."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class ValidationFailed(DomainError):
    """Input broke one or more business rules; ``errors`` maps each field to its messages."""

    status = 422
    title = "Unprocessable Entity"

    def __init__(self, errors: dict[str, list[str] | str], message: str | None = None):
        normalised = {k: v if isinstance(v, list) else [v] for k, v in errors.items()}
        super().__init__(message or "输入有误: " + ", ".join(sorted(normalised)), normalised)


class StateConflict(DomainError):
    """The record is not in a state that allows the action (or was changed meanwhile)."""

    status = 409
    title = "Conflict"


class NotFound(DomainError):
    """The record does not exist, or the actor may not know that it exists."""

    status = 404
    title = "Not Found"

    def __init__(self, what: str = "record"):
        super().__init__(f"{what} not found")


class PermissionDenied(DomainError):
    """The actor may see the record but not do this to it."""

    status = 403
    title = "Forbidden"


class Unavailable(DomainError):
    status = 503
    title = "Service Unavailable"


def collect(errors: dict[str, list[str]], field: str, message: str) -> None:
    """Add a message for a field to an error dict being gathered before raising once."""
    errors.setdefault(field, []).append(message)


def raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(errors)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


class ErrorSchema(Schema):
    """The one JSON error shape of the API, as documented in the OpenAPI (``error_body`` writes it)."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    status = fields.String(required=True, metadata={"description": "the HTTP status name"})
    message = fields.String(required=True, metadata={"description": "what went wrong, for a person"})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "422: the fields at fault by location, e.g. {\"json\": {\"field\": [\"message\"]}}"})


def error_body(status: int, title: str, message: str, errors: dict | None = None) -> dict:
    body = {"code": status, "status": title, "message": message}
    if errors:
        body["errors"] = {"json": errors}
    return body


def handle_http_error(exc: HTTPException):
    """An HTTP error (a 404 for an unknown URL, webargs' 422 for a malformed request, …): the one JSON error
    shape under /api, with a message and, for 422, the fields at fault by location; the error page elsewhere."""
    from .extensions import db

    db.session.rollback()
    message = exc.description or exc.name
    if _wants_json():
        data = getattr(exc, "data", {}) or {}
        errors = data.get("messages")
        body = error_body(exc.code, exc.name, message)
        if errors:
            body["errors"] = errors
        response = jsonify(body)
        response.status_code = exc.code
        for key, value in (data.get("headers") or {}).items():
            response.headers[key] = value
        return response
    return render_template("error.html", status=exc.code, message=message), exc.code


def register_error_handlers(app: Flask) -> None:
    from .extensions import db

    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        db.session.rollback()
        if _wants_json():
            return jsonify(error_body(exc.status, exc.title, exc.message, exc.errors)), exc.status
        return (
            render_template("error.html", status=exc.status, message=exc.message, errors=exc.errors),
            exc.status,
        )

    from sqlalchemy.orm.exc import StaleDataError

    @app.errorhandler(StaleDataError)
    def handle_stale_data(exc: StaleDataError):
        # An optimistic-locking miss (a version_id_col row changed by another transaction) is a conflict.
        message = "记录已被他人同时修改，请刷新后重试 (the record was changed concurrently)"
        return handle_domain_error(StateConflict(message))

    app.register_error_handler(HTTPException, handle_http_error)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        try:
            db.session.rollback()
        except Exception:  # a connection that is gone may fail its rollback too; the answer below still stands
            app.logger.warning("rollback failed after an error on %s %s", request.method, request.path)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        status, title, message = 500, "Internal Server Error", "内部错误，请稍后再试"
        headers = {}
        if database_unavailable(exc):
            status, title, message = 503, "Service Unavailable", "数据库暂时不可用，请稍后再试"
            headers["Retry-After"] = RETRY_AFTER_SECONDS
            # The layout names the signed-in user, whose row the rollback has expired: reloading it would fail
            # again (and turn this page into a 500), so the error page is drawn as for a signed-out visitor.
            from .extensions import login

            g._login_user = login.anonymous_user()
        if _wants_json():
            return jsonify(error_body(status, title, message)), status, headers
        return render_template("error.html", status=status, message=message), status, headers

    from sqlalchemy.exc import DataError

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def handle_refused_value(exc: Exception):
        # A value from the request the database (or a date) cannot hold: the request's fault, a 422, not a 500.
        message = refused_value(exc)
        if message is None:
            return handle_unexpected(exc)
        return handle_domain_error(ValidationFailed({}, message=message))


RETRY_AFTER_SECONDS = "5"
NUMBER_OUT_OF_RANGE = "数值超出允许范围 (a number in the request is out of range)"
NUL_IN_TEXT = "文字中不能含有空字符 (text may not contain NUL characters)"


def refused_value(exc: Exception) -> str | None:
    """Why a value sent by the client cannot be stored or compared, or None for any other error: a number too
    large (SQLite cannot bind it: OverflowError; PostgreSQL: numeric_value_out_of_range, SQLSTATE 22003; a date
    too far away: OverflowError), or a NUL character, which PostgreSQL's text columns refuse."""
    if isinstance(exc, OverflowError):
        return NUMBER_OUT_OF_RANGE
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) == "22003":
        return NUMBER_OUT_OF_RANGE
    if "NUL (0x00)" in str(orig or ""):
        return NUL_IN_TEXT
    return None


def database_unavailable(exc: Exception) -> bool:
    """The database cannot be reached, dropped the connection (a restart, a failover) or has no free connection
    in the pool: a 503 the client may retry, not a 500."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
