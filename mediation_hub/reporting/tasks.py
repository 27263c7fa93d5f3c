"""Periodic reporting work (listed in ``mediation_hub.scheduler.JOBS``): plain ``(now) -> count`` functions."""

from __future__ import annotations

from datetime import datetime

from . import subscriptions


def freeze_due_snapshots(now: datetime) -> int:
    """Freeze the report of every active subscription whose period has ended (monthly: on the 1st, for
    the previous month, in Asia/Shanghai), with its delivery row; once per subscription and period."""
    return subscriptions.freeze_due(now)


def deliver_due_reports(now: datetime) -> int:
    """Push due snapshots to the governance centres' endpoints; returns the number of attempts made."""
    return subscriptions.deliver_due(now)
