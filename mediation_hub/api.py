"""The JSON API under /api/v1: flask-smorest blueprints, bearer-token authentication, offline docs."""

from __future__ import annotations

import importlib
from http import HTTPStatus

from apispec import BasePlugin
from flask import Blueprint, Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from .core.messages import coded
from .errors import ErrorSchema, error_body, handle_http_error
from .extensions import api, csrf

API_PREFIX = "/api/v1"
PUBLIC_API_CALLS = {
    ("GET", f"{API_PREFIX}/openapi.json"),
    ("GET", f"{API_PREFIX}/docs"),
    ("HEAD", f"{API_PREFIX}/openapi.json"),
    ("POST", f"{API_PREFIX}/auth/token"),
    # another hub's signed message: the signature of a known peer is its authentication (federation/api.py)
    ("POST", f"{API_PREFIX}/federation/inbox"),
    ("GET", f"{API_PREFIX}/federation/types"),
    ("HEAD", f"{API_PREFIX}/federation/types"),
}
# Each domain's api.py exposes ``blp``.
API_MODULES = (
    "auth.api",
    "regions.api",
    "registry.api",
    "agreements.api",
    "cases.api",
    "transfers.api",
    "legal_aid.api",
    "reporting.api",
    "notifications.api",
    "privacy.api",
    "imports.api",
    "calendars.api",
    "audit.api",
    "exports.api",
    "reference.api",
    "documents.api",
    "federation.api",
)


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _authenticate_api_request():
    if not request.path.startswith(API_PREFIX + "/") or (request.method, request.path) in PUBLIC_API_CALLS:
        return None
    from .auth.service import user_for_token

    token = _bearer_token()
    user = user_for_token(token) if token else None
    if user is None:
        body = error_body(401, "Unauthorized", coded("token_required", "需要有效的访问令牌"))
        response = jsonify(body)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="mediation-hub"'
        return response
    g.actor = user.to_actor()
    g.api_token = token
    return None


class ErrorResponses(BasePlugin):
    """Documents, on every operation, the error answers it can give, each with the one JSON error shape
    (``errors.ErrorSchema``): a client (and the schemathesis run in tests/test_fuzz_api.py) can rely on the
    list. flask-smorest already documents 422 for operations that take arguments and ``default``."""

    EVERY_CALL = (HTTPStatus.SERVICE_UNAVAILABLE,)
    SIGNED_IN = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)
    WRITES = (HTTPStatus.CONFLICT, HTTPStatus.UNPROCESSABLE_ENTITY)
    # a body that is not JSON at all (or nested too deep), and one over the route's size limit (core/limits.py)
    WITH_BODY = (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    PUBLIC = (HTTPStatus.UNAUTHORIZED, HTTPStatus.TOO_MANY_REQUESTS)  # the token call: wrong password, throttled

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            public = operation.get("security") == []
            statuses = [*self.EVERY_CALL, *(self.PUBLIC if public else self.SIGNED_IN)]
            if method in ("post", "put", "patch", "delete") and not public:
                statuses += self.WRITES
            if "requestBody" in operation:
                statuses += self.WITH_BODY
            responses = operation.setdefault("responses", {})
            for status in statuses:
                # A name is a reference to the response flask-smorest registers for each status.
                responses.setdefault(str(status.value), status.name)


def register_api(app: Flask) -> None:
    app.config["OPENAPI_SWAGGER_UI_PATH"] = None  # our own offline page below, without inline script
    api.ERROR_SCHEMA = ErrorSchema  # the shape errors.error_body writes, for every documented error response
    api.init_app(app, spec_kwargs={"extra_plugins": [ErrorResponses()]})
    # flask-smorest has just put its own HTTPException handler in place of the hub's; its body has no message
    # when the error carries none (webargs' 422) and it answered pages with JSON: the hub's answers again.
    app.register_error_handler(HTTPException, handle_http_error)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for name in API_MODULES:  # a missing module fails the start
        module = importlib.import_module(f"{__package__}.{name}")
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
    app.before_request(_authenticate_api_request)
    from .federation.api import register_schemas

    register_schemas(api.spec)

    docs = Blueprint("api_docs", __name__)

    @docs.get(f"{API_PREFIX}/docs")
    def api_docs():
        return render_template("api_docs.html")

    app.register_blueprint(docs)
