"""However many processes run the reporting jobs at once: one snapshot per period, one HTTP call per attempt.

Real commits on PostgreSQL (on SQLite the scheduler's job claim already serialises the jobs)."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
import sqlalchemy as sa

from mediation_hub.core.actor import SYSTEM
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind
from mediation_hub.reporting import subscriptions
from mediation_hub.reporting.models import DeliveryAttempt, ReportDelivery, ReportSnapshot
from tests.test_reporting_delivery import Receiver

FIRST_OF_APRIL = datetime.fromisoformat("2026-03-31T16:30:00+00:00")
WORKERS = 4


def _run_together(app, work) -> list:
    barrier, results, errors = threading.Barrier(WORKERS), [], []

    def worker():
        with app.app_context():
            try:
                barrier.wait()
                results.append(work())
                db.session.commit()
            except Exception as exc:  # reported below: the test fails on any worker error
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


@pytest.mark.postgres
@pytest.mark.real_commits
def test_concurrent_freeze_and_delivery_happen_once(app, make_org):
    receiver = Receiver("", [200])
    try:
        centre = make_org(kind=OrgKind.governance_centre, region_code="130629")
        _sub, receiver.secret = subscriptions.create_subscription(
            SYSTEM,
            {
                "organization_id": centre.id,
                "region_code": "130629",
                "frequency": "monthly",
                "endpoint_url": receiver.url,
            },
        )
        db.session.commit()
        frozen = _run_together(app, lambda: subscriptions.freeze_due(FIRST_OF_APRIL))
        assert sorted(frozen) == [0] * (WORKERS - 1) + [1]
        attempts = _run_together(app, lambda: subscriptions.deliver_due(FIRST_OF_APRIL))
        assert sorted(attempts) == [0] * (WORKERS - 1) + [1]
        db.session.remove()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportSnapshot)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportDelivery)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryAttempt)) == 1
    finally:
        receiver.close()
    assert len(receiver.requests) == 1 and receiver.requests[0]["valid"]
