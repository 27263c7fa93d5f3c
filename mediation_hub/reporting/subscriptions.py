"""Report subscriptions of governance centres: freezing one snapshot per period, and the delivery outbox.

``freeze_snapshot`` writes the snapshot and its delivery row in the same transaction, and inserts with
ON CONFLICT DO NOTHING on (subscription, period_start), so any number of processes produce one snapshot.
``deliver`` claims a due delivery with a conditional UPDATE (a lease), commits, makes the HTTP call with
no transaction open, then records the attempt: success, a retry later (exponential backoff over hours),
or — at the attempt cap — failed, until someone presses 重新投递 (``redeliver``).

Endpoint URLs are checked against ``integrations.outbound`` (public https addresses, or what the setting
WEBHOOK_ALLOWED_HOSTS allows) when a subscription is saved, and again by the client at every send."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import current_app

from integrations.governance_reports import SECRET_PREFIX, DeliveryError, GovernanceReportClient, generate_secret
from integrations.outbound import DestinationGuard, DestinationRefused

from ..core.actor import Actor
from ..core.db import affected_rows, utcnow
from ..core.messages import coded
from ..core.pii import decrypt, encrypt
from ..core.shanghai import SHANGHAI
from ..core.uow import commit_batch
from ..errors import NotFound, StateConflict, ValidationFailed, collect
from ..extensions import db
from ..regions.models import Region
from ..registry.models import Organization, OrgKind
from ..registry.service import visible_organization_ids
from . import service
from .delivery_errors import REFUSAL_REASONS
from .models import DeliveryAttempt, DeliveryStatus, Frequency, ReportDelivery, ReportSnapshot, ReportSubscription
from .policy import POLICY
from .queries import BASES, Scope

DEFAULT_BACKOFF_SECONDS = (60, 300, 1800, 7200, 21600, 43200, 86400)  # 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_TIMEOUT_SECONDS = 10.0
T = TypeVar("T")
# transition -> the delivery states it may start from
ALLOWED_FROM = {"redeliver": (DeliveryStatus.failed,)}


def setting(name: str, default: T) -> T:
    """A delivery setting: the app config wins, then MEDIATION_HUB_<NAME> in the environment."""
    value = current_app.config.get(name)
    if value is None:
        value = os.environ.get("MEDIATION_HUB_" + name)
    if value is None or value == "":
        return default
    if isinstance(default, tuple):
        return cast(T, tuple(int(v) for v in (value.split(",") if isinstance(value, str) else value)))
    # the default's own type reads the value (int, float): mypy cannot see that its constructor takes one
    return cast(Callable[[object], T], type(default))(value)


def destination_guard() -> DestinationGuard:
    """The check of endpoint URLs, with the allow list of the setting WEBHOOK_ALLOWED_HOSTS."""
    return DestinationGuard(current_app.config.get("WEBHOOK_ALLOWED_HOSTS"))


def backoff_after(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    steps = setting("REPORT_DELIVERY_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS)
    return timedelta(seconds=steps[min(attempts, len(steps)) - 1])


# --- periods ---------------------------------------------------------------------------------------------


def last_ended_period(frequency: Frequency, today: date) -> tuple[date, date]:
    """The most recent whole period that ended before ``today`` (a Shanghai business date)."""
    if frequency == Frequency.weekly:
        start = today - timedelta(days=today.weekday() + 7)
        return start, start + timedelta(days=6)
    if frequency == Frequency.monthly:
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = quarter_start - timedelta(days=1)
    return date(end.year, end.month - 2, 1), end


# --- subscriptions ---------------------------------------------------------------------------------------


def subscriptions_visible_to(actor: Actor) -> sa.Select[tuple[ReportSubscription]]:
    """Subscriptions of the governance centres the actor can see."""
    return sa.select(ReportSubscription).where(ReportSubscription.organization_id.in_(visible_organization_ids(actor)))


def get_subscription(actor: Actor, subscription_id: int) -> ReportSubscription:
    sub = db.session.scalar(subscriptions_visible_to(actor).where(ReportSubscription.id == subscription_id))
    if sub is None:
        raise NotFound("report subscription")
    return sub


def subscription_basis(org: Organization | None, asked: str | None) -> str:
    """The basis a subscription's snapshots are counted on: the one asked for, else occurred (属地) for a
    governance centre, which answers for its territory, and handled (承办) for anyone else."""
    if asked:
        return asked
    return "occurred" if org is not None and org.kind == OrgKind.governance_centre else "handled"


def create_subscription(actor: Actor, data: dict[str, Any]) -> tuple[ReportSubscription, str]:
    """Subscribe a governance centre to a region's report on a basis (``subscription_basis``). Returns the
    subscription and its signing secret (``whsec_…``, given or generated), which is shown once and stored
    encrypted."""
    POLICY.require(actor, "manage_subscriptions")
    errors: dict[str, list[str]] = {}
    org = db.session.scalar(
        sa.select(Organization).where(
            Organization.id == data.get("organization_id"), Organization.id.in_(visible_organization_ids(actor))
        )
    )
    if org is None:
        collect(errors, "organization_id", coded("unknown_organization", "未知的组织"))
    elif org.kind != OrgKind.governance_centre:
        collect(errors, "organization_id", coded("not_governance_centre", "报表只推送给综治中心"))
    region_code: str = data.get("region_code") or ""
    if db.session.get(Region, region_code) is None:
        collect(errors, "region_code", coded("unknown_region", "未知的行政区划代码"))
    elif not actor.sees_everything and not service.region_within(region_code, actor.region_code or ""):
        collect(errors, "region_code", coded("outside_region", "超出您的管辖范围"))
    url = (data.get("endpoint_url") or "").strip()
    _check_endpoint_url(url, errors)
    secret = data.get("secret") or generate_secret()
    if not _valid_secret(secret):
        collect(errors, "secret", coded("invalid_secret", "签名密钥格式为 whsec_ 加 base64 编码"))
    try:
        frequency = Frequency(data.get("frequency") or "")  # none given: unknown, as any other
    except ValueError:
        collect(errors, "frequency", coded("unknown_frequency", "频率须为每周、每月或每季度"))
    basis = subscription_basis(org, data.get("basis"))
    if basis not in BASES:
        collect(errors, "basis", coded("unknown_basis", "统计口径须为属地或承办"))
    if errors:
        raise ValidationFailed(errors)
    assert org is not None  # else an error above
    sub = ReportSubscription(
        organization_id=org.id,
        region_code=region_code,
        frequency=frequency,
        basis=basis,
        endpoint_url=url,
        secret_enc=encrypt(secret),
        active=data.get("active", True),
        created_by_id=actor.user_id,
    )
    db.session.add(sub)
    db.session.flush()
    return sub, secret


def _check_endpoint_url(url: str, errors: dict[str, list[str]]) -> None:
    """Only destinations the guard allows (it resolves the host now); the reason goes to ``endpoint_url``."""
    try:
        destination_guard().vet(url)
    except DestinationRefused as exc:
        collect(errors, "endpoint_url", coded(f"destination_{exc.reason}", REFUSAL_REASONS[exc.reason]))


def _valid_secret(secret: str) -> bool:
    import base64
    import binascii

    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        return len(base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)) >= 16
    except (binascii.Error, ValueError):
        return False


def set_subscription_active(actor: Actor, subscription_id: int, active: bool) -> ReportSubscription:
    """Pause or resume a subscription (snapshots already frozen are still delivered)."""
    sub = get_subscription(actor, subscription_id)
    POLICY.require(actor, "manage_subscriptions")
    sub.active = active
    db.session.flush()
    return sub


# --- snapshots -------------------------------------------------------------------------------------------


def snapshot_payload(sub: ReportSubscription, start: date, end: date) -> dict[str, Any]:
    """The report a governance centre receives for one period, as plain JSON (dates as ISO text), counted on the
    subscription's basis (the rates and the categories; transfers and legal aid have none) up to the period's
    end, and saying so: ``basis`` and ``counted_to``."""
    scope = Scope(region_code=sub.region_code)
    report = service.report_for_scope(scope, start, end, end, "region", basis=sub.basis)
    payload = {
        "type": "mediation_hub.rates_report",
        "version": 1,
        "subscription_id": sub.id,
        "organization_id": sub.organization_id,
        "region_code": sub.region_code,
        "frequency": sub.frequency.value,
        "basis": sub.basis,
        "period": {"start": start, "end": end},
        "counted_to": report["counted_to"],
        "rates": report,
        "by_category": service._groups(scope, start, end, end, "category", basis=sub.basis),
        "transfers": service.flows_for_scope(scope, start, end),
        "legal_aid": service.legal_aid_for_scope(scope, start, end),
    }
    as_json: dict[str, Any] = json.loads(json.dumps(payload, default=_iso, ensure_ascii=False))
    return as_json


def _iso(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _insert_ignoring_duplicates(values: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT (subscription_id, period_start) DO NOTHING RETURNING id (None if it existed)."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(ReportSnapshot)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["subscription_id", "period_start"])
        .returning(ReportSnapshot.id)
    )
    return db.session.scalar(stmt)


def freeze_snapshot(sub: ReportSubscription, start: date, end: date, now: datetime) -> ReportSnapshot | None:
    """Freeze the period's report and queue its delivery, in one transaction; None if already frozen."""
    exists = sa.select(ReportSnapshot.id).where(
        ReportSnapshot.subscription_id == sub.id, ReportSnapshot.period_start == start
    )
    if db.session.scalar(exists) is not None:
        return None
    snapshot_id = _insert_ignoring_duplicates(
        {
            "subscription_id": sub.id,
            "period_start": start,
            "period_end": end,
            "payload": snapshot_payload(sub, start, end),
            "created_at": utcnow(),
        }
    )
    if snapshot_id is None:  # another process froze it meanwhile
        return None
    db.session.add(
        ReportDelivery(snapshot_id=snapshot_id, status=DeliveryStatus.pending, attempts=0, next_attempt_at=now)
    )
    db.session.flush()
    return db.session.get(ReportSnapshot, snapshot_id)


def freeze_due(now: datetime) -> int:
    """For every active subscription, freeze the last period that has ended (Asia/Shanghai) if missing."""
    today = now.astimezone(SHANGHAI).date()
    frozen = 0
    subs = db.session.scalars(
        sa.select(ReportSubscription).where(ReportSubscription.active).order_by(ReportSubscription.id)
    ).all()
    for sub in subs:
        start, end = last_ended_period(sub.frequency, today)
        if freeze_snapshot(sub, start, end, now) is not None:
            frozen += 1
    return frozen


def snapshots_visible_to(actor: Actor) -> sa.Select[tuple[ReportSnapshot]]:
    """Pull access: an administrator sees every snapshot; anyone else only the snapshots of subscriptions
    of their own organisation (the governance centre's integration account)."""
    stmt = sa.select(ReportSnapshot).join(ReportSubscription)
    if actor.is_admin or actor.is_system:
        return stmt
    if actor.organization_id is None:
        return stmt.where(sa.false())
    return stmt.where(ReportSubscription.organization_id == actor.organization_id)


def get_snapshot(actor: Actor, snapshot_id: int) -> ReportSnapshot:
    snapshot = db.session.scalar(snapshots_visible_to(actor).where(ReportSnapshot.id == snapshot_id))
    if snapshot is None:
        raise NotFound("report snapshot")
    return snapshot


# --- delivery --------------------------------------------------------------------------------------------


def deliveries_visible_to(actor: Actor) -> sa.Select[tuple[ReportDelivery]]:
    return (
        sa.select(ReportDelivery)
        .join(ReportSnapshot)
        .join(ReportSubscription)
        .where(ReportSubscription.organization_id.in_(visible_organization_ids(actor)))
    )


def get_delivery(actor: Actor, delivery_id: int) -> ReportDelivery:
    delivery = db.session.scalar(deliveries_visible_to(actor).where(ReportDelivery.id == delivery_id))
    if delivery is None:
        raise NotFound("report delivery")
    return delivery


def redeliver(actor: Actor, delivery_id: int) -> ReportDelivery:
    """重新投递: put a failed delivery back in the outbox for a fresh round of attempts (the history stays)."""
    delivery = get_delivery(actor, delivery_id)
    POLICY.require(actor, "redeliver")
    if delivery.status not in ALLOWED_FROM["redeliver"]:
        raise StateConflict(
            coded(
                "redelivery_needs_failed",
                "投递状态为%(status)s，只有投递失败的可以重新投递",
                status=delivery.status_label,
            )
        )
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.pending, 0, utcnow()
    delivery.claimed_until = None
    db.session.flush()
    return delivery


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        ReportDelivery.status == DeliveryStatus.pending,
        ReportDelivery.next_attempt_at <= now,
        sa.or_(ReportDelivery.claimed_until.is_(None), ReportDelivery.claimed_until < now),
    )


def report_client() -> GovernanceReportClient:
    """The delivery client as the settings make it: timeout, the destination check, and the CA bundle that
    verifies the receivers' certificates (WEBHOOK_CA_BUNDLE for a governance centre's own CA; certifi's
    otherwise)."""
    return GovernanceReportClient(
        timeout=setting("REPORT_DELIVERY_TIMEOUT", DEFAULT_TIMEOUT_SECONDS),
        guard=destination_guard(),
        ca_certs=current_app.config.get("WEBHOOK_CA_BUNDLE"),
    )


def deliver_due(now: datetime, *, client: GovernanceReportClient | None = None, limit: int = 50) -> int:
    """Attempt every due delivery once; returns the number of attempts made. A job's step (``core.jobs``): it
    commits part-way, each delivery's claim before its call and its attempt before the next call."""
    client = client or report_client()
    ids = db.session.scalars(
        sa.select(ReportDelivery.id)
        .where(_due(now))
        .order_by(ReportDelivery.next_attempt_at, ReportDelivery.id)
        .limit(limit)
    ).all()
    commit_batch()  # end the transaction that chose them: each delivery is claimed in a short one of its own
    return sum(1 for delivery_id in ids if deliver(delivery_id, now, client))


def deliver(delivery_id: int, now: datetime, client: GovernanceReportClient) -> bool:
    """Claim one delivery, send it outside any transaction, record the attempt. False if not claimed."""
    # The lease outlives the call (3 timeouts, at least a minute) so no other worker sends it meanwhile; when
    # this process dies after sending, the delivery is due again once the lease ends (same webhook-id).
    lease = timedelta(seconds=setting("REPORT_DELIVERY_CLAIM_SECONDS", max(60.0, 3 * client.timeout)))
    claimed = affected_rows(
        db.session.execute(
            sa.update(ReportDelivery)
            .where(ReportDelivery.id == delivery_id, _due(now))
            .values(claimed_until=now + lease)
        )
    )
    if claimed != 1:
        db.session.rollback()
        return False
    delivery = db.session.get_one(ReportDelivery, delivery_id)  # claimed just now
    snapshot = delivery.snapshot
    sub = snapshot.subscription
    url, secret = sub.endpoint_url, decrypt(sub.secret_enc)
    message_id = f"report-snapshot-{snapshot.id}"
    body = json.dumps(snapshot.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    commit_batch()  # the claim is visible to every worker before the call; no transaction during it
    started = time.monotonic()
    try:
        result = client.send(url, secret, message_id, body)
        outcome: dict[str, Any] = {"succeeded": True, "status_code": result.status_code, "error": None}
    except DeliveryError as exc:  # a fixed message and the status code: never the receiver's answer
        outcome = {"succeeded": False, "status_code": exc.status_code, "error": str(exc)[:2000]}
    duration_ms = int((time.monotonic() - started) * 1000)
    _record_attempt(delivery_id, now, duration_ms=duration_ms, **outcome)
    commit_batch()  # the attempt is recorded before the next delivery's call
    return True


def _record_attempt(
    delivery_id: int, now: datetime, *, succeeded: bool, status_code: int | None, error: str | None, duration_ms: int
) -> None:
    delivery = db.session.get_one(ReportDelivery, delivery_id)
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery_id,
            at=utcnow(),
            succeeded=succeeded,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
    )
    delivery.attempts += 1
    delivery.claimed_until = None
    if succeeded:
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.delivered, utcnow(), None
    elif delivery.attempts >= setting("REPORT_DELIVERY_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS):
        delivery.status, delivery.next_attempt_at, delivery.last_error = DeliveryStatus.failed, None, error
    else:
        delivery.next_attempt_at, delivery.last_error = now + backoff_after(delivery.attempts), error
    db.session.flush()
