"""The retention job (``privacy.retention`` in scheduler.py): daily, erases the personal data whose retention
period (``MEDIATION_HUB_RETENTION_YEARS``, default 3) has run out since the case or application ended."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from ..core.actor import SYSTEM
from . import service


def erase_expired_personal_data(now: datetime) -> int:
    """Erase the expired personal data as of ``now``; returns how many parties and applicants were erased."""
    years = int(current_app.config.get("RETENTION_YEARS", 3))
    return service.erase_expired_personal_data(SYSTEM, now, years).erased
