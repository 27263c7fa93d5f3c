"""POST /api/v1/auth/token: a bearer token for a username and password."""

from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..errors import DomainError
from ..extensions import db, limiter
from . import service

blp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth", description="Bearer tokens")


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=60))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class TokenResponse(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_at = fields.DateTime()


@blp.route("/token")
class Token(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])]

    @blp.arguments(TokenRequest)
    @blp.response(201, TokenResponse)
    @blp.doc(security=[])
    def post(self, data):
        """Exchange a username and password for a bearer token."""
        user = service.authenticate(data["username"], data["password"], remote_addr=request.remote_addr)
        if user is None:
            db.session.commit()  # keep the audit row of the failed attempt
            raise Unauthorized("用户名或密码错误 (wrong username or password)")
        clear, token = service.issue_token(user, current_app.config["TOKEN_TTL"], name="api")
        db.session.commit()
        return {"access_token": clear, "token_type": "Bearer", "expires_at": token.expires_at}

    @blp.response(204)
    def delete(self):
        """Revoke the token used for this call."""
        service.revoke_presented_token(g.api_token)
        db.session.commit()
