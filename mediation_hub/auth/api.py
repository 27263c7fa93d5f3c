"""POST /api/v1/auth/token: a bearer token for a username and password; POST /api/v1/auth/password: change
the caller's own password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..core.messages import coded
from ..core.uow import keep_writes_on_error
from ..errors import DomainError, ValidationFailed
from . import service, throttle
from .current import current_actor

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
    # per account and address, and per address: shared with /login
    decorators: ClassVar[list[Callable[..., Any]]] = [throttle.sign_in_limit]

    @blp.arguments(TokenRequest)
    @blp.response(201, TokenResponse)
    @blp.doc(security=[])
    def post(self, data):
        """Exchange a username and password for a bearer token.

        Attempts are limited per username and address together, under a ceiling per address (both shared
        with the sign-in page; 429 with Retry-After), and per username: after several
        failures the name is locked for a while that doubles with each further lock, and every attempt, even
        with the right password, is answered 429 with Retry-After (seconds) until the lock ends."""
        try:
            user = service.authenticate(data["username"], data["password"], remote_addr=request.remote_addr)
        except throttle.SignInThrottled as refused:
            keep_writes_on_error()  # the audit row of the refused attempt
            raise refused.http_error() from None
        if user is None:
            keep_writes_on_error()  # the audit row of the failed attempt
            raise Unauthorized(coded("wrong_credentials", "用户名或密码错误"))
        clear, token = service.issue_token(user, current_app.config["TOKEN_TTL"], name="api")
        return {"access_token": clear, "token_type": "Bearer", "expires_at": token.expires_at}

    @blp.response(204)
    def delete(self):
        """Revoke the token used for this call."""
        service.revoke_presented_token(g.api_token)


class PasswordChange(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": f"at least {service.MIN_PASSWORD_LENGTH} characters, "
            "neither the username nor the current password"
        },
    )


@blp.route("/password")
class Password(MethodView):
    # the current password is checked: the sign-in budgets
    decorators: ClassVar[list[Callable[..., Any]]] = [throttle.sign_in_limit]

    @blp.arguments(PasswordChange)
    @blp.response(204)
    def post(self, data):
        """Change the caller's own password. Every API token of the account — the one used for this call
        too — and every signed-in browser session is revoked: ask for a new token with the new password.
        A wrong current password is a 422 naming ``current_password`` and counts as a failed sign-in (the
        account's sign-in throttle included: while it is locked the answer is 429 with Retry-After)."""
        try:
            service.change_password(
                current_actor(), data["current_password"], data["new_password"], remote_addr=request.remote_addr
            )
        except throttle.SignInThrottled as refused:
            keep_writes_on_error()  # the audit row of the refused attempt
            raise refused.http_error() from None
        except ValidationFailed:
            keep_writes_on_error()  # only the failed-attempt audit row is pending: keep it
            raise
