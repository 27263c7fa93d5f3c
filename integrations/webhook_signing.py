"""Standard Webhooks signatures (https://www.standardwebhooks.com), the one implementation the hub uses: report
deliveries to governance centres (``governance_reports``) and messages between hubs (``federation``).

Headers ``webhook-id`` (the same for every retry of one message, so the receiver can drop duplicates),
``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: space-separated ``v1,`` + base64(HMAC-SHA256(key,
"{id}.{timestamp}.{body}")), one per secret in use, where the key is the base64 part of the ``whsec_…`` secret.
A receiver accepts the message when the timestamp is within the tolerance and any offered signature matches any
of its valid secrets (two during a rotation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret


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


def signature_header(secrets_in_use: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value signed with each secret (space-separated, as the standard allows)."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_use)


def verify_any(
    secrets_in_use: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """``verify`` against each valid secret (the current one and, during a rotation, the previous one)."""
    return any(verify(secret, headers, body, tolerance=tolerance, now=now) for secret in secrets_in_use)
