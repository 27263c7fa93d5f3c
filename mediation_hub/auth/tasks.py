"""Account housekeeping (job ``auth.sessions`` in scheduler.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..core.db import affected_rows
from ..extensions import db
from .models import UserSession

# An ended session is kept a day (a page open when it ended still finds its row and signs in again cleanly);
# who signed in and out, and when, stays in the audit log.
ENDED_SESSIONS_KEPT = timedelta(days=1)


def prune_sessions(now: datetime) -> int:
    """Delete server-side sessions that expired or were revoked more than a day ago. Returns how many."""
    cutoff = now - ENDED_SESSIONS_KEPT
    result = db.session.execute(
        sa.delete(UserSession).where(sa.or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff))
    )
    return affected_rows(result)
