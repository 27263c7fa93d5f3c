"""Client for a governance centre's (综治中心) report endpoint: one signed POST, with a timeout.

Signatures follow Standard Webhooks (https://www.standardwebhooks.com): headers ``webhook-id`` (the same
for every retry of one report, so the receiver can drop duplicates), ``webhook-timestamp`` (Unix seconds)
and ``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where the key
is the base64 part of the ``whsec_…`` secret. There are no retries here: the hub's outbox retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import requests

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret


class DeliveryError(Exception):
    """The endpoint did not accept the report (network error, timeout or a non-2xx answer)."""

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


def generate_secret() -> str:
    """A new signing secret in the Standard Webhooks format (``whsec_`` + base64 of 24 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a signing secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX):])


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for this message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
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
    """POSTs one report snapshot (JSON bytes) to an endpoint, signed, within ``timeout`` seconds."""

    def __init__(self, timeout: float = 10.0, session: requests.Session | None = None,
                 user_agent: str = "mediation-hub/1 (report delivery)"):
        self.timeout = timeout
        self.session = session or requests.Session()
        self.user_agent = user_agent

    def send(self, url: str, secret: str, message_id: str, body: bytes) -> DeliveryResult:
        """Deliver; raise DeliveryError unless the endpoint answers 2xx."""
        timestamp = int(time.time())
        headers = {"content-type": "application/json", "user-agent": self.user_agent,
                   "webhook-id": message_id, "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(secret, message_id, timestamp, body)}
        started = time.monotonic()
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout,
                                         allow_redirects=False)
        except requests.Timeout as exc:
            raise DeliveryError(f"no answer within {self.timeout:g}s: {exc.__class__.__name__}") from exc
        except requests.RequestException as exc:
            raise DeliveryError(f"connection failed: {exc.__class__.__name__}: {exc}") from exc
        duration_ms = int((time.monotonic() - started) * 1000)
        if not 200 <= response.status_code < 300:
            detail = response.text[:200].strip()
            raise DeliveryError(f"endpoint answered HTTP {response.status_code}" + (f": {detail}" if detail else ""),
                                status_code=response.status_code)
        return DeliveryResult(status_code=response.status_code, duration_ms=duration_ms)
