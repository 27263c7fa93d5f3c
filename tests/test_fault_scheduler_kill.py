"""Fault: the scheduler killed between sending a report and recording it (bench/faults/scheduler_kill.py).

The report goes out again under the same webhook-id once the delivery's claim has expired, the receiver can drop
the copy, and the delivery ends up recorded as delivered. Also the two settings the fault test relies on: a
delivery claim length, and job slots shorter than a minute."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bench.faults import scheduler_kill
from bench.load.support import create_pg_database, drop_pg_database, pg_admin_url
from mediation_hub.config import ConfigError
from mediation_hub.scheduler import Job, effective_jobs


@pytest.fixture
def fault_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fault.db'}"
        return
    if not os.environ.get("MEDIATION_HUB_TEST_DATABASE_URL"):
        pytest.skip("MEDIATION_HUB_TEST_DATABASE_URL is not set")
    admin, name = pg_admin_url(), f"mh_fault_sched_{os.getpid()}"
    yield create_pg_database(admin, name)
    drop_pg_database(admin, name)


@pytest.mark.load
@pytest.mark.parametrize(
    "fault_database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_killed_scheduler_resends_the_report_under_the_same_id(fault_database, tmp_path):
    result = scheduler_kill.run(fault_database, tmp_path)

    assert scheduler_kill.failures(result) == [], result
    assert result["first_returncode"] == -9
    # Killed after the POST, before the record: still pending and claimed, no attempt in the log.
    assert (result["after_kill"]["status"], result["after_kill"]["attempts"]) == ("pending", 0)
    assert result["posts_before_restart"] == 1
    # Sent twice, one id, both correctly signed; the receiver kept one and counted one duplicate.
    assert [p["webhook_id"] for p in result["posts"]] == [f"report-snapshot-{result['delivery_id']}"] * 2
    assert all(p["signature_valid"] for p in result["posts"])
    assert (result["receiver_stored"], result["receiver_duplicates"]) == (1, 1)
    assert result["final"]["status"] == "delivered"
    assert result["final"]["attempt_log"] == [{"succeeded": True, "status_code": 200}]
    assert [r["status"] for r in result["final"]["runs"]] == ["running", "succeeded"]


@pytest.mark.parametrize(("configured", "lease"), [(None, timedelta(seconds=60)), (7, timedelta(seconds=7))])
def test_delivery_claim_length_is_a_setting(app, make_org, monkeypatch, configured, lease):
    """While the report is being sent, the delivery is claimed until now + the claim length: by default three
    client timeouts and at least a minute (10 s timeout -> 60 s); REPORT_DELIVERY_CLAIM_SECONDS when set."""
    from integrations.governance_reports import DeliveryResult
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.extensions import db
    from mediation_hub.registry.models import OrgKind
    from mediation_hub.reporting import subscriptions
    from mediation_hub.reporting.models import Frequency, ReportDelivery

    monkeypatch.setitem(app.config, "REPORT_DELIVERY_CLAIM_SECONDS", configured)
    centre = make_org(kind=OrgKind.governance_centre, region_code="110105")
    sub, _ = subscriptions.create_subscription(
        SYSTEM,
        {
            "organization_id": centre.id,
            "region_code": "110105",
            "frequency": "monthly",
            "endpoint_url": "http://127.0.0.1:9/",
        },
    )
    now = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
    snapshot = subscriptions.freeze_snapshot(sub, *subscriptions.last_ended_period(Frequency.monthly, now.date()), now)
    seen = {}

    class ClaimWatchingClient:
        timeout = 10.0

        def send(self, url, secret, message_id, body):
            delivery = db.session.scalar(sa.select(ReportDelivery).where(ReportDelivery.snapshot_id == snapshot.id))
            seen["claimed_until"] = delivery.claimed_until
            return DeliveryResult(status_code=200, duration_ms=1)

    delivery_id = db.session.scalar(sa.select(ReportDelivery.id).where(ReportDelivery.snapshot_id == snapshot.id))
    assert subscriptions.deliver(delivery_id, now, ClaimWatchingClient()) is True
    assert seen["claimed_until"] == now + lease
    assert db.session.get(ReportDelivery, delivery_id).claimed_until is None  # released once recorded


def test_jobs_take_sub_minute_slots_from_the_environment(app, monkeypatch):
    job = Job("probe.fast", "tests.test_scheduler:probe_a", "interval", {"minutes": 5})
    monkeypatch.setenv("MEDIATION_HUB_JOB_PROBE_FAST_SECONDS", "2")
    [fast] = effective_jobs(app, [job])
    assert fast.params == {"seconds": 2}
    # Two-second slots counted from the anchor: 09:37:11 is in the 09:37:10 slot, 09:37:12 opens the next one.
    at = datetime.fromisoformat("2026-03-02T09:37:11+08:00")
    assert fast.slot(at) == "2026-03-02T01:37:10Z"
    assert fast.slot(at + timedelta(seconds=1)) == "2026-03-02T01:37:12Z"


@pytest.mark.parametrize("setting", [{"seconds": 0}, {"seconds": "x"}, {"seconds": 5, "minutes": 1}])
def test_malformed_second_slots_stop_the_start(app, monkeypatch, setting):
    job = Job("probe.fast", "tests.test_scheduler:probe_a", "interval", {"minutes": 5})
    monkeypatch.setitem(app.config, "SCHEDULER_JOBS", {"probe.fast": setting})
    with pytest.raises(ConfigError):
        effective_jobs(app, [job])
