"""Domain errors and how they become HTTP answers (JSON under /api, pages elsewhere)."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .core.errors import (
    NOT_FOUND,
    DomainError,
    NotFound,
    PermissionDenied,
    StateConflict,
    Unavailable,
    ValidationFailed,
    collect,
    not_found_message,
    raise_if,
)
from .core.framework_messages import CSRF_FAILED, http_code, http_message, translate_field_messages
from .core.i18n import N_
from .core.limits import with_limit_named
from .core.messages import Coded, LazyCoded, code_of, coded, codes_of

# The domain errors are defined in core/errors.py, so that core may raise them too; the other packages import
# them from here, beside how they are answered.
__all__ = [
    "FIELD_LABELS",
    "NOT_FOUND",
    "NUL_IN_TEXT",
    "NUMBER_OUT_OF_RANGE",
    "RETRY_AFTER_SECONDS",
    "DomainError",
    "ErrorSchema",
    "NotFound",
    "PermissionDenied",
    "StateConflict",
    "Unavailable",
    "ValidationFailed",
    "collect",
    "database_unavailable",
    "error_body",
    "field_label",
    "handle_http_error",
    "input_location",
    "not_found_message",
    "raise_if",
    "refused_value",
    "register_error_handlers",
]


def _wants_json() -> bool:
    return request.path.startswith("/api/")


class ErrorSchema(Schema):
    """The one JSON error shape of the API, as documented in the OpenAPI (``error_body`` writes it)."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    status = fields.String(required=True, metadata={"description": "the HTTP status name"})
    error = fields.String(
        required=True,
        metadata={
            "description": "one stable snake_case machine code for the whole error, e.g. validation_failed, "
            "state_conflict, not_found, case_not_found, permission_denied, rate_limited, "
            "payload_too_large, method_not_allowed; branch on it, never on the message",
            "example": "case_not_found",
        },
    )
    message = fields.String(
        required=True,
        metadata={
            "description": "what went wrong, for a person, in the language asked for (Accept-Language or ?lang=; "
            "Chinese by default)"
        },
    )
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": '422: the fields at fault by location, e.g. {"json": {"field": ["message"]}}'},
    )
    error_codes = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "the same shape as errors, with a stable machine code in place of each message, e.g. "
            '{"json": {"terms": ["terms_required"], "category": ["not_one_of"]}}; codes of '
            "the framework's checks: required, null, unknown_field, invalid_type, invalid_date, "
            "not_one_of, length, too_long, too_short, out_of_range, pattern, invalid"
        },
    )


def error_body(
    status: int,
    title: str,
    message: str,
    errors: dict | None = None,
    *,
    error: str | None = None,
    located: bool = False,
) -> dict:
    """The one JSON error shape: ``errors`` maps a field to its messages (by location ``json`` unless
    ``located``), ``error_codes`` the same fields to the messages' codes, ``error`` the whole error's code."""
    body = {"code": status, "status": title, "error": error or code_of(message, http_code(status)), "message": message}
    if errors:
        located_errors = translate_field_messages(errors if located else {"json": errors})
        body["errors"] = located_errors
        body["error_codes"] = codes_of(located_errors)
    return body


def input_location() -> str:
    """Where the fields a service refuses came from, as webargs names it: a GET (or HEAD) carries no body, so its
    inputs are query parameters (a report's ``as_of``, ``basis``, ``group_by``); any other request's, its JSON
    body. A refusal is filed where the client sent the value, whichever layer found the fault."""
    return "query" if request.method in ("GET", "HEAD") else "json"


def handle_http_error(exc: HTTPException) -> ResponseReturnValue:
    """An HTTP error (a 404 for an unknown URL, webargs' 422 for a malformed request, …): the one JSON error
    shape under /api, with a message and, for 422, the fields at fault by location; the error page elsewhere."""
    from .core.uow import end_failed_request

    status = exc.code or 500  # Flask hands over only errors with a code; the fallback is for the type checker
    end_failed_request(status)
    message = _http_error_message(exc)
    data = getattr(exc, "data", {}) or {}
    headers = dict(data.get("headers") or {})
    retry_after = getattr(exc, "retry_after", None)
    if status == 429 and "Retry-After" not in headers and retry_after:
        headers["Retry-After"] = str(retry_after)
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers.setdefault("Allow", ", ".join(exc.valid_methods))
    if _wants_json():
        body = error_body(status, exc.name, message, data.get("messages"), located=True)
        response = jsonify(body)
        response.status_code = status
        for key, value in headers.items():
            response.headers[key] = value
        return response
    return render_template("error.html", status=status, message=message), status, headers


def _http_error_message(exc: HTTPException) -> Coded:
    """The message of an HTTP error in the request's language: the hub's own, or the status's for a framework's
    English description; a rate limit says when to retry, a failed CSRF check what to do."""
    from flask_limiter import RateLimitExceeded
    from flask_wtf.csrf import CSRFError

    if isinstance(exc, RateLimitExceeded):
        return _rate_limited_message(exc)
    if isinstance(exc, CSRFError):
        return coded(*CSRF_FAILED)
    return http_message(exc.code or 500, exc.description)


def _rate_limited_message(exc) -> Coded:
    """Flask-Limiter's refusal ("10 per 1 minute") said as when to try again; ``exc.retry_after`` seconds."""
    import math
    import time

    from .extensions import limiter

    current = limiter.current_limit
    reset_at = getattr(current, "reset_at", None)
    seconds = max(1, math.ceil(reset_at - time.time())) if reset_at else 60
    exc.retry_after = seconds
    if seconds < 60:
        return coded("rate_limited", "尝试过于频繁，请 %(seconds)s 秒后再试", seconds=seconds)
    return coded("rate_limited", "尝试过于频繁，请 %(minutes)s 分钟后再试", minutes=math.ceil(seconds / 60))


# How the error page names a field at fault (a field without a label is shown by its messages alone).
FIELD_LABELS = {
    "name": N_("名称"),
    "id_number": N_("身份证号码"),
    "phone": N_("电话"),
    "uscc": N_("统一社会信用代码"),
    "region_code": N_("行政区划"),
    "organization_id": N_("组织"),
    "parent_id": N_("上级组织"),
    "lead_mediator_id": N_("领衔调解员"),
    "named_by_id": N_("命名单位"),
    "named_on": N_("命名日期"),
    "username": N_("用户名"),
    "password": N_("密码"),
    "current_password": N_("当前密码"),
    "new_password": N_("新密码"),
    "role": N_("角色"),
    "organization": N_("组织"),
    "region": N_("行政区划"),
    "year": N_("年份"),
    "holidays": N_("放假日期"),
    "workdays": N_("调休上班日期"),
    "file": N_("文件"),
    "date_from": N_("开始日期"),
    "date_to": N_("结束日期"),
    "action": N_("操作类型"),
    "format": N_("格式"),
    "category": N_("纠纷类别"),
    "source": N_("案件来源"),
    "summary": N_("纠纷概要"),
    "terms": N_("协议内容"),
    "received_on": N_("登记日期"),
    "reason": N_("理由"),
    "status": N_("状态"),
}


def field_label(field: str) -> str | None:
    """The label of a field for the error page, translated, or None."""
    from flask_babel import gettext

    label = FIELD_LABELS.get(str(field))
    return gettext(label) if label else None


def register_error_handlers(app: Flask) -> None:
    from .core.uow import end_failed_request

    app.jinja_env.globals["field_label"] = field_label

    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        end_failed_request(exc.status)
        if _wants_json():
            # ``details``: more members of the body that an error documents itself (e.g. the candidates of a
            # possible duplicate registration, cases/api.py), set by the API view that raises it
            located = {input_location(): exc.errors} if exc.errors else None
            body = {
                **error_body(exc.status, exc.title, exc.message, located, located=True),
                **(getattr(exc, "details", None) or {}),
            }
            return jsonify(body), exc.status
        return (
            render_template("error.html", status=exc.status, message=exc.message, errors=exc.errors),
            exc.status,
        )

    from sqlalchemy.orm.exc import StaleDataError

    @app.errorhandler(StaleDataError)
    def handle_stale_data(exc: StaleDataError):
        # An optimistic-locking miss (a version_id_col row changed by another transaction) is a conflict.
        return handle_domain_error(StateConflict(coded("changed_concurrently", "记录已被他人同时修改，请刷新后重试")))

    app.register_error_handler(HTTPException, handle_http_error)

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        # A 413 names the limit the request broke (core/limits.py).
        return handle_http_error(with_limit_named(exc))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        try:
            end_failed_request(500)  # rolls back, whatever the view said it would keep
        except Exception:  # a connection that is gone may fail its rollback too; the answer below still stands
            app.logger.warning("rollback failed after an error on %s %s", request.method, request.path)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        status, title, message = 500, "Internal Server Error", coded("internal_error", "内部错误，请稍后再试")
        headers = {}
        if database_unavailable(exc):
            status, title = 503, "Service Unavailable"
            message = coded("database_unavailable", "数据库暂时不可用，请稍后再试")
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
        return handle_domain_error(ValidationFailed({}, message=message()))


RETRY_AFTER_SECONDS = "5"


NUMBER_OUT_OF_RANGE = LazyCoded("number_out_of_range", N_("数值超出允许范围"))
NUL_IN_TEXT = LazyCoded("nul_in_text", N_("文字中不能含有空字符"))


def refused_value(exc: Exception) -> LazyCoded | None:
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
