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

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .outbound import REFUSALS, DestinationGuard, DestinationRefused, OutboundFailure, post_reading
from .webhook_signing import SECRET_PREFIX, generate_secret, sign, signature_header, verify

__all__ = ["SECRET_PREFIX", "DeliveryError", "GovernanceReportClient", "generate_secret", "sign", "verify"]


class DeliveryError(Exception):
    """The endpoint did not accept the report (refused destination, network error, timeout or a non-2xx
    answer). The message is one of the fixed texts below: safe to store and to show."""

    def __init__(
        self, message: str, status_code: int | None = None, code: str = "delivery_failed", answer: bytes = b""
    ):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.answer = answer  # the first bytes of a refusing answer, when the client reads them (``read_limit``)


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
        read_limit: int = 0,
    ):
        self.timeout = timeout
        self.read_limit = read_limit  # bytes of a refusing answer to keep (a peer hub's reason); 0: none
        self.guard = guard or DestinationGuard()
        self.user_agent = user_agent
        self.ca_certs = ca_certs  # a CA bundle file; certifi's when None

    def send(self, url: str, secret: str | Sequence[str], message_id: str, body: bytes) -> DeliveryResult:
        """Deliver, signed with ``secret`` (or each of several during a rotation); raise DeliveryError unless the
        endpoint answers 2xx (with the first ``read_limit`` bytes of a refusal in ``answer``)."""
        try:
            destination = self.guard.check(url)
        except DestinationRefused as exc:
            raise DeliveryError(refused_message(exc.reason), code=f"destination_{exc.reason}") from None
        timestamp = int(time.time())
        signing = [secret] if isinstance(secret, str) else list(secret)
        headers = {
            "content-type": "application/json",
            "user-agent": self.user_agent,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(signing, message_id, timestamp, body),
        }
        started = time.monotonic()
        try:
            status_code, answer = post_reading(
                destination, body, headers, timeout=self.timeout, ca_certs=self.ca_certs, read_limit=self.read_limit
            )
        except OutboundFailure as exc:
            if exc.kind == "timeout":
                raise DeliveryError(timeout_message(self.timeout), code="timeout") from None
            raise DeliveryError(FAILURES[exc.kind], code=f"{exc.kind}_failed") from None
        duration_ms = int((time.monotonic() - started) * 1000)
        if not 200 <= status_code < 300:
            code = "redirect_refused" if 300 <= status_code < 400 else "answer_rejected"
            raise DeliveryError(status_message(status_code), status_code=status_code, code=code, answer=answer)
        return DeliveryResult(status_code=status_code, duration_ms=duration_ms)
