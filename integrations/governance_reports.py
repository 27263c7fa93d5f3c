"""Client for a governance centre's (综治中心) report endpoint: one signed POST, with a timeout.

Signatures follow Standard Webhooks (https://www.standardwebhooks.com): headers ``webhook-id`` (the same
for every retry of one report, so the receiver can drop duplicates), ``webhook-timestamp`` (Unix seconds)
and ``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where the key
is the base64 part of the ``whsec_…`` secret. There are no retries here: the hub's outbox retries.

The endpoint is checked by ``integrations.outbound`` at every send (after DNS resolution) and the request goes
to the address that was checked; redirects are not followed. A failure carries a fixed message per kind and
the status code, never the receiver's answer or the exception text (addresses, ports). The fixed messages are
Chinese only (they are stored and shown); ``DeliveryError.code`` names the kind, and the hub's pages translate a
stored message with ``mediation_hub.reporting.delivery_errors``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .outbound import REFUSALS, DestinationGuard, DestinationRefused, OutboundFailure, post

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret


class DeliveryError(Exception):
    """The endpoint did not accept the report (refused destination, network error, timeout or a non-2xx
    answer). The message is one of the fixed texts below: safe to store and to show."""

    def __init__(self, message: str, status_code: int | None = None, code: str = "delivery_failed"):
        super().__init__(message)
        self.status_code = status_code
        self.code = code


FAILURES = {
    "connection": "连接失败",
    "tls": "安全连接证书校验失败",
}


def refused_message(reason: str) -> str:
    """``目标地址不允许：…`` for a DestinationRefused reason."""
    zh, _en = REFUSALS[reason]
    return f"目标地址不允许：{zh}"


def status_message(status_code: int) -> str:
    if 300 <= status_code < 400:
        return f"HTTP {status_code}：重定向不予跟随"
    return f"HTTP {status_code}：接收方未接受"


def timeout_message(timeout: float) -> str:
    return f"超时：{timeout:g} 秒内无应答"


def generate_secret() -> str:
    """A new signing secret in the Standard Webhooks format (``whsec_`` + base64 of 24 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a signing secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX) :])


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for this message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """What a receiver does: check the timestamp is recent and one of the signatures matches."""
    try:
        timestamp = int(headers["webhook-timestamp"])
        message_id = headers["webhook-id"]
        offered = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


@dataclass
class DeliveryResult:
    status_code: int
    duration_ms: int


class GovernanceReportClient:
    """POSTs one report snapshot (JSON bytes) to an endpoint, signed, within ``timeout`` seconds, if ``guard``
    (by default: public https destinations only) lets it through."""

    def __init__(
        self,
        timeout: float = 10.0,
        guard: DestinationGuard | None = None,
        user_agent: str = "mediation-hub/1 (report delivery)",
        ca_certs: str | None = None,
    ):
        self.timeout = timeout
        self.guard = guard or DestinationGuard()
        self.user_agent = user_agent
        self.ca_certs = ca_certs  # a CA bundle file; certifi's when None

    def send(self, url: str, secret: str, message_id: str, body: bytes) -> DeliveryResult:
        """Deliver; raise DeliveryError unless the endpoint answers 2xx."""
        try:
            destination = self.guard.check(url)
        except DestinationRefused as exc:
            raise DeliveryError(refused_message(exc.reason), code=f"destination_{exc.reason}") from None
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": self.user_agent,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message_id, timestamp, body),
        }
        started = time.monotonic()
        try:
            status_code = post(destination, body, headers, timeout=self.timeout, ca_certs=self.ca_certs)
        except OutboundFailure as exc:
            if exc.kind == "timeout":
                raise DeliveryError(timeout_message(self.timeout), code="timeout") from None
            raise DeliveryError(FAILURES[exc.kind], code=f"{exc.kind}_failed") from None
        duration_ms = int((time.monotonic() - started) * 1000)
        if not 200 <= status_code < 300:
            code = "redirect_refused" if 300 <= status_code < 400 else "answer_rejected"
            raise DeliveryError(status_message(status_code), status_code=status_code, code=code)
        return DeliveryResult(status_code=status_code, duration_ms=duration_ms)
