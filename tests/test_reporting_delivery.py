"""Scheduled report delivery: one frozen snapshot per subscription and period, pushed through the outbox
to a local receiver that checks the Standard Webhooks signature; retries with backoff up to a cap."""

from __future__ import annotations

import json
import re
import socket
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from integrations.governance_reports import GovernanceReportClient, sign, verify
from integrations.outbound import DestinationGuard
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.errors import StateConflict, ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind
from mediation_hub.reporting import subscriptions
from mediation_hub.reporting.models import (
    DeliveryAttempt,
    DeliveryStatus,
    Frequency,
    ReportDelivery,
    ReportSnapshot,
    ReportSubscription,
)
from mediation_hub.reporting.tasks import deliver_due_reports, freeze_due_snapshots
from tests.factories_reporting import d


class Receiver:
    """An HTTP endpoint on 127.0.0.1 answering with the given status codes in turn (then the last one),
    recording each request and whether its signature verified."""

    def __init__(self, secret: str, statuses: list[int]):
        self.secret, self.statuses, self.requests = secret, list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = verify(receiver.secret, headers, body)
                receiver.requests.append({"headers": headers, "body": body, "valid": valid})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status if valid else 401)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/reports"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def centre(make_org, make_case_history):
    """容城县综治中心, and one case in 容城 registered 03-04 and settled 03-18 (so March reads 1 of 1)."""
    committee = make_org(region_code="130629")
    make_case_history(
        committee, registered=d(3, 4), accepted=d(3, 5), due=d(4, 4), concluded=d(3, 18), outcome="agreement"
    )
    return make_org(name="容城县综治中心(测试)", kind=OrgKind.governance_centre, region_code="130629")


@pytest.fixture
def subscribe(centre):
    def build(url: str, frequency: str = "monthly"):
        return subscriptions.create_subscription(
            SYSTEM, {"organization_id": centre.id, "region_code": "130629", "frequency": frequency, "endpoint_url": url}
        )

    return build


# 2026-04-01 00:30 in Shanghai is 2026-03-31 16:30 UTC: March has ended there.
FIRST_OF_APRIL = "2026-03-31T16:30:00+00:00"


def at(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_fails_twice_then_accepts_three_attempts_one_snapshot(subscribe, app):
    receiver = Receiver("", [500, 503, 200])
    try:
        sub, secret = subscribe(receiver.url)
        receiver.secret = secret
        now = at(FIRST_OF_APRIL)
        assert freeze_due_snapshots(now) == 1
        assert deliver_due_reports(now) == 1  # attempt 1: HTTP 500
        delivery = db.session.scalar(sa.select(ReportDelivery))
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.pending, 1)
        assert delivery.next_attempt_at == now + timedelta(minutes=1)
        assert deliver_due_reports(now + timedelta(seconds=30)) == 0  # not due yet
        assert deliver_due_reports(now + timedelta(seconds=61)) == 1  # attempt 2: HTTP 503, next in 5 min
        db.session.refresh(delivery)
        assert delivery.next_attempt_at == now + timedelta(seconds=61 + 300)
        assert freeze_due_snapshots(now + timedelta(minutes=5)) == 0  # frozen once per period
        assert deliver_due_reports(now + timedelta(seconds=361)) == 1  # attempt 3: accepted
        db.session.refresh(delivery)
        assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.delivered, 3, None)
        assert delivery.delivered_at is not None
        attempts = db.session.scalars(sa.select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        assert [(a.status_code, a.succeeded) for a in attempts] == [(500, False), (503, False), (200, True)]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportSnapshot)) == 1
        assert deliver_due_reports(now + timedelta(days=1)) == 0
    finally:
        receiver.close()
    assert len(receiver.requests) == 3 and all(r["valid"] for r in receiver.requests)
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert ids == {f"report-snapshot-{delivery.snapshot_id}"}  # the receiver can drop duplicates
    payload = json.loads(receiver.requests[-1]["body"])
    assert payload["period"] == {"start": "2026-03-01", "end": "2026-03-31"}
    assert payload["rates"]["totals"]["received"] == 1 and payload["rates"]["totals"]["success_rate"] == 1.0
    assert payload["organization_id"] == sub.organization_id


def test_receiver_that_never_answers_stops_at_the_cap_and_can_be_redelivered(subscribe, app, monkeypatch, api_as):
    monkeypatch.setitem(app.config, "REPORT_DELIVERY_TIMEOUT", 0.2)
    monkeypatch.setitem(app.config, "REPORT_DELIVERY_MAX_ATTEMPTS", 3)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections queue in the kernel; nobody ever reads or answers
    try:
        subscribe(f"http://127.0.0.1:{silent.getsockname()[1]}/r")
        now = at(FIRST_OF_APRIL)
        freeze_due_snapshots(now)
        delivery = db.session.scalar(sa.select(ReportDelivery))
        made = 0
        for _ in range(6):
            made += deliver_due_reports(now)
            db.session.refresh(delivery)
            if delivery.next_attempt_at is None:
                break
            now = delivery.next_attempt_at
        assert made == 3
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.failed, 3, None)
        assert delivery.last_error == "超时：0.2 秒内无应答"
        assert deliver_due_reports(now + timedelta(days=7)) == 0
        admin = api_as(role=Role.admin)
        listed = admin.get("/api/v1/report-deliveries?status=failed").json
        assert [item["attempts"] for item in listed["items"]] == [3]
        assert len(listed["items"][0]["attempt_log"]) == 3
        again = admin.post(f"/api/v1/report-deliveries/{delivery.id}/redeliver")
        assert again.status_code == 200
        assert (again.json["status"], again.json["attempts"]) == ("pending", 0)
        assert admin.post(f"/api/v1/report-deliveries/{delivery.id}/redeliver").status_code == 409
    finally:
        silent.close()


def test_freeze_twice_gives_one_snapshot_and_one_delivery(subscribe):
    sub, _ = subscribe("http://127.0.0.1:9/unused")
    now = at(FIRST_OF_APRIL)
    assert freeze_due_snapshots(now) == 1
    assert freeze_due_snapshots(now) == 0
    assert (
        subscriptions._insert_ignoring_duplicates(
            {  # a racing process's insert is skipped, not an error
                "subscription_id": sub.id,
                "period_start": date(2026, 3, 1),
                "period_end": date(2026, 3, 31),
                "payload": {},
                "created_at": now,
            }
        )
        is None
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportSnapshot)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportDelivery)) == 1


def test_the_period_is_taken_in_shanghai_time(subscribe):
    subscribe("http://127.0.0.1:9/unused")
    # 2026-03-31 15:00 UTC is 23:00 on the 31st in Shanghai: March has not ended, February is due
    freeze_due_snapshots(at("2026-03-31T15:00:00+00:00"))
    freeze_due_snapshots(at(FIRST_OF_APRIL))
    periods = db.session.execute(
        sa.select(ReportSnapshot.period_start, ReportSnapshot.period_end).order_by(ReportSnapshot.period_start)
    ).all()
    assert periods == [(date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 31))]


@pytest.mark.parametrize(
    ("frequency", "today", "period"),
    [
        (Frequency.monthly, date(2026, 1, 1), (date(2025, 12, 1), date(2025, 12, 31))),
        (Frequency.monthly, date(2026, 3, 15), (date(2026, 2, 1), date(2026, 2, 28))),
        (Frequency.quarterly, date(2026, 4, 1), (date(2026, 1, 1), date(2026, 3, 31))),
        (Frequency.quarterly, date(2026, 2, 10), (date(2025, 10, 1), date(2025, 12, 31))),
        (Frequency.weekly, date(2026, 3, 18), (date(2026, 3, 9), date(2026, 3, 15))),  # a Wednesday
        (Frequency.weekly, date(2026, 3, 16), (date(2026, 3, 9), date(2026, 3, 15))),  # a Monday
    ],
)
def test_last_ended_period(frequency, today, period):
    assert subscriptions.last_ended_period(frequency, today) == period


def test_inactive_subscriptions_are_not_frozen(subscribe):
    sub, _ = subscribe("http://127.0.0.1:9/unused")
    subscriptions.set_subscription_active(SYSTEM, sub.id, False)
    assert freeze_due_snapshots(at(FIRST_OF_APRIL)) == 0


def test_signature_is_standard_webhooks():
    # the example of the Standard Webhooks specification
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    assert verify(secret, headers, body, now=1614265330)
    assert not verify(secret, headers, body + b" ", now=1614265330)
    assert not verify(secret, headers, body, now=1614265330 + 3600)  # too old: replay refused


def test_client_raises_on_non_2xx():
    from integrations.governance_reports import DeliveryError

    receiver = Receiver("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", [418])
    try:
        with pytest.raises(DeliveryError) as err:
            GovernanceReportClient(timeout=2, guard=DestinationGuard("127.0.0.1")).send(
                receiver.url, receiver.secret, "m1", b"{}"
            )
        assert err.value.status_code == 418
    finally:
        receiver.close()


def test_subscriptions_api_creates_with_a_secret_shown_once(centre, api_as):
    api = api_as(role=Role.coordinator, region_code="130000")
    created = api.post(
        "/api/v1/report-subscriptions",
        json={
            "organization_id": centre.id,
            "region_code": "XIONGAN",
            "frequency": "quarterly",
            "endpoint_url": "https://zz.example.cn/hub/reports",
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["secret"].startswith("whsec_")
    listed = api.get("/api/v1/report-subscriptions").json
    assert [(s["region_code"], s["frequency"]) for s in listed["items"]] == [("XIONGAN", "quarterly")]
    assert "secret" not in listed["items"][0]
    paused = api.patch(f"/api/v1/report-subscriptions/{created.json['id']}", json={"active": False})
    assert paused.status_code == 200 and paused.json["active"] is False
    beijing = api_as(role=Role.coordinator, region_code="110000")
    assert beijing.get("/api/v1/report-subscriptions").json["total"] == 0
    assert beijing.get(f"/api/v1/report-subscriptions/{created.json['id']}").status_code == 404
    refused = api.post(
        "/api/v1/report-subscriptions",
        json={
            "organization_id": centre.id,
            "region_code": "110000",
            "frequency": "daily",
            "endpoint_url": "https://zz.example.cn/r",
            "secret": "not-a-secret",
        },
    )
    assert refused.status_code == 422


def test_subscription_rules_are_checked_together(centre, make_org):
    committee = make_org(region_code="130629")
    with pytest.raises(ValidationFailed) as err:
        subscriptions.create_subscription(
            SYSTEM,
            {
                "organization_id": committee.id,
                "region_code": "999999",
                "frequency": "daily",
                "endpoint_url": "ftp://x",
                "secret": "whsec_short",
            },
        )
    assert set(err.value.errors) == {"organization_id", "region_code", "frequency", "endpoint_url", "secret"}


def test_pull_returns_only_the_centres_own_snapshots(subscribe, centre, make_org, make_user, api_as):
    subscribe("http://127.0.0.1:9/unused")
    freeze_due_snapshots(at(FIRST_OF_APRIL))
    own = api_as(make_user(role=Role.coordinator, organization=centre, region_code="130629"))
    listed = own.get("/api/v1/reports/snapshots").json
    assert [(s["period_start"], s["period_end"]) for s in listed["items"]] == [("2026-03-01", "2026-03-31")]
    item = own.get(f"/api/v1/reports/snapshots/{listed['items'][0]['id']}").json
    assert item["payload"]["rates"]["totals"]["received"] == 1
    other_centre = make_org(kind=OrgKind.governance_centre, region_code="130632")
    other = api_as(make_user(role=Role.coordinator, organization=other_centre, region_code="130632"))
    assert other.get("/api/v1/reports/snapshots").json["total"] == 0
    assert other.get(f"/api/v1/reports/snapshots/{listed['items'][0]['id']}").status_code == 404


def test_redeliver_only_from_failed(subscribe):
    subscribe("http://127.0.0.1:9/unused")
    freeze_due_snapshots(at(FIRST_OF_APRIL))
    delivery = db.session.scalar(sa.select(ReportDelivery))
    with pytest.raises(StateConflict):
        subscriptions.redeliver(SYSTEM, delivery.id)


# --- the basis of a subscription (issue 17) ----------------------------------------------------------------------


@pytest.fixture
def beijing_centre(make_org, make_case_history):
    """北京市综治中心, and two March cases: A handled by the 保定竞秀区 committee though the dispute arose in 北京东城
    (110101), registered 03-02, agreement 03-20; C handled by the 北京朝阳 committee (110105), where it arose,
    registered 03-06, no agreement 03-25."""
    bd, bj = make_org(region_code="130602"), make_org(region_code="110105")
    make_case_history(
        bd, registered=d(3, 2), accepted=d(3, 3), concluded=d(3, 20), outcome="agreement", occurred="110101"
    )
    make_case_history(bj, registered=d(3, 6), accepted=d(3, 7), concluded=d(3, 25), outcome="no_agreement")
    return make_org(name="北京市综治中心(测试)", kind=OrgKind.governance_centre, region_code="110000")


def _subscribe_beijing(centre, **extra):
    return subscriptions.create_subscription(
        SYSTEM,
        {
            "organization_id": centre.id,
            "region_code": "110000",
            "frequency": "monthly",
            "endpoint_url": "http://127.0.0.1:9/unused",
            **extra,
        },
    )


def test_a_governance_centre_subscribes_by_place_and_its_snapshot_counts_by_place(beijing_centre):
    by_place, _ = _subscribe_beijing(beijing_centre)
    by_handler, _ = _subscribe_beijing(beijing_centre, basis="handled")
    assert (by_place.basis, by_handler.basis) == ("occurred", "handled")
    assert freeze_due_snapshots(at(FIRST_OF_APRIL)) == 2
    frozen = {s.subscription_id: s.payload for s in db.session.scalars(sa.select(ReportSnapshot))}
    place, handler = frozen[by_place.id], frozen[by_handler.id]
    assert (place["basis"], place["counted_to"], place["rates"]["basis"]) == ("occurred", "2026-03-31", "occurred")
    # by place: A (arose in 东城, handled in 保定) and C; concluded both, one agreement
    totals = place["rates"]["totals"]
    assert (totals["received"], totals["concluded"], totals["agreement"], totals["success_rate"]) == (2, 2, 1, 0.5)
    groups = {g["key"]: g["received"] for g in place["rates"]["groups"] if g["received"]}
    assert groups == {"110101": 1, "110105": 1}  # 东城区 and 朝阳区
    assert [(g["key"], g["received"]) for g in place["by_category"]] == [("neighbour", 2)]
    assert place["rates"]["case_flows"]["transferred_in"] == place["rates"]["case_flows"]["transferred_out"] == 0
    # by handler: C only (A is 保定's)
    assert handler["basis"] == "handled" and handler["rates"]["totals"]["received"] == 1
    assert {g["key"]: g["received"] for g in handler["rates"]["groups"] if g["received"]} == {"110105": 1}
    assert [(g["key"], g["received"]) for g in handler["by_category"]] == [("neighbour", 1)]


def test_the_pull_api_says_each_snapshots_basis(beijing_centre, make_user, api_as):
    by_place, _ = _subscribe_beijing(beijing_centre)
    by_handler, _ = _subscribe_beijing(beijing_centre, basis="handled")
    freeze_due_snapshots(at(FIRST_OF_APRIL))
    own = api_as(make_user(role=Role.coordinator, organization=beijing_centre, region_code="110000"))
    listed = own.get("/api/v1/reports/snapshots").json["items"]
    assert sorted((s["subscription_id"], s["basis"], s["counted_to"]) for s in listed) == [
        (by_place.id, "occurred", "2026-03-31"),
        (by_handler.id, "handled", "2026-03-31"),
    ]
    [place_id] = [s["id"] for s in listed if s["subscription_id"] == by_place.id]
    item = own.get(f"/api/v1/reports/snapshots/{place_id}").json
    assert (item["basis"], item["payload"]["basis"], item["payload"]["rates"]["totals"]["received"]) == (
        "occurred",
        "occurred",
        2,
    )


def test_a_snapshot_frozen_before_bases_reads_as_handled(subscribe, make_user, centre, api_as):
    subscribe("http://127.0.0.1:9/unused")
    freeze_due_snapshots(at(FIRST_OF_APRIL))
    snapshot = db.session.scalar(sa.select(ReportSnapshot))
    snapshot.payload = {k: v for k, v in snapshot.payload.items() if k not in ("basis", "counted_to")}
    db.session.flush()
    own = api_as(make_user(role=Role.coordinator, organization=centre, region_code="130629"))
    [listed] = own.get("/api/v1/reports/snapshots").json["items"]
    assert (listed["basis"], listed["counted_to"]) == ("handled", "2026-03-31")  # the period's end


def test_the_subscriptions_api_takes_and_shows_the_basis(beijing_centre, api_as):
    api = api_as(role=Role.admin)
    body = {
        "organization_id": beijing_centre.id,
        "region_code": "110000",
        "frequency": "monthly",
        "endpoint_url": "https://zz.example.cn/hub/reports",
    }
    default = api.post("/api/v1/report-subscriptions", json=body)
    assert default.status_code == 201 and default.json["basis"] == "occurred"  # a governance centre's default
    handled = api.post("/api/v1/report-subscriptions", json={**body, "basis": "handled"})
    assert handled.status_code == 201 and handled.json["basis"] == "handled"
    listed = api.get("/api/v1/report-subscriptions").json["items"]
    assert [s["basis"] for s in listed] == ["occurred", "handled"]
    assert api.get(f"/api/v1/report-subscriptions/{handled.json['id']}").json["basis"] == "handled"
    refused = api.post("/api/v1/report-subscriptions", json={**body, "basis": "somewhere"})
    assert refused.status_code == 422 and refused.json["error_codes"] == {"json": {"basis": ["not_one_of"]}}


def test_the_default_basis_is_the_place_for_a_governance_centre_only(make_org):
    centre = make_org(kind=OrgKind.governance_centre, region_code="110000")
    committee = make_org(region_code="110105")
    assert subscriptions.subscription_basis(centre, None) == "occurred"
    assert subscriptions.subscription_basis(committee, None) == "handled"
    assert subscriptions.subscription_basis(centre, "handled") == "handled"
    with pytest.raises(ValidationFailed) as refused:
        _subscribe_beijing(centre, basis="somewhere")
    assert list(refused.value.errors) == ["basis"]


def test_the_subscriptions_page_offers_and_lists_the_basis(beijing_centre, make_user, signed_in):
    client = signed_in(make_user(role=Role.admin))
    page = client.get("/reporting/subscriptions").get_data(as_text=True)
    assert '<option selected value="occurred">属地口径：按纠纷发生地统计</option>' in page
    assert '<option value="handled">承办口径：按承办组织统计</option>' in page
    form = {
        "organization_id": beijing_centre.id,
        "region_code": "110000",
        "frequency": "monthly",
        "endpoint_url": "https://zz.example.cn/hub/reports",
    }
    assert client.post("/reporting/subscriptions", data={**form, "basis": "handled"}).status_code == 302
    assert client.post("/reporting/subscriptions", data=form).status_code == 302  # no basis sent: the place
    assert client.post("/reporting/subscriptions", data={**form, "basis": "x"}).status_code == 422
    assert [s.basis for s in db.session.scalars(sa.select(ReportSubscription).order_by(ReportSubscription.id))] == [
        "handled",
        "occurred",
    ]
    listed = client.get("/reporting/subscriptions").get_data(as_text=True)
    assert re.findall(r'<td class="basis">([^<]*)</td>', listed) == ["承办", "属地"]
