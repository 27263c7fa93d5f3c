"""The JSON API under /api/v1: flask-smorest blueprints, bearer-token authentication, offline docs."""

from __future__ import annotations

from flask import Blueprint, Flask, g, jsonify, render_template, request

from .core.modules import import_optional
from .errors import error_body
from .extensions import api, csrf

API_PREFIX = "/api/v1"
PUBLIC_API_CALLS = {("GET", f"{API_PREFIX}/openapi.json"), ("GET", f"{API_PREFIX}/docs"),
                    ("HEAD", f"{API_PREFIX}/openapi.json"), ("POST", f"{API_PREFIX}/auth/token")}
# Each domain's api.py exposes ``blp``; a package that is not there yet is skipped.
API_MODULES = (
    "auth.api", "regions.api", "registry.api", "agreements.api", "cases.api", "transfers.api",
    "legal_aid.api", "reporting.api", "notifications.api", "privacy.api", "imports.api",
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
        body = error_body(401, "Unauthorized", "需要有效的访问令牌 (a valid bearer token is required)")
        response = jsonify(body)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="mediation-hub"'
        return response
    g.actor = user.to_actor()
    g.api_token = token
    return None


def register_api(app: Flask) -> None:
    app.config["OPENAPI_SWAGGER_UI_PATH"] = None  # our own offline page below, without inline script
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for name in API_MODULES:
        module = import_optional(f"{__package__}.{name}")
        if module is None:
            continue
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
    app.before_request(_authenticate_api_request)

    docs = Blueprint("api_docs", __name__)

    @docs.get(f"{API_PREFIX}/docs")
    def api_docs():
        return render_template("api_docs.html")

    app.register_blueprint(docs)
