"""The result fed back (联防联调): when a case that was handed over is concluded, every organisation that
sent it away by an accepted transfer hears of it, with a link to its read-only view of the case.

Called by the notifications listener of ``case.concluded`` in the conclusion's transaction (the notice commits
with the conclusion)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from ..cases.models import Case
from ..cases.rules import OUTCOME_LABELS
from ..extensions import db
from ..notifications.service import notify
from .models import Transfer, TransferMode, TransferStatus

NOTICE_KIND = "case_concluded_elsewhere"


def sending_organization_ids(case: Case) -> list[int]:
    """The organisations that handed the case over by an accepted transfer (mode transfer), in the order they
    did, without the one handling it now (a case may come back to an earlier sender)."""
    rows = db.session.scalars(
        sa.select(Transfer.from_organization_id)
        .where(
            Transfer.case_id == case.id,
            Transfer.status == TransferStatus.accepted,
            Transfer.mode == TransferMode.transfer,
        )
        .order_by(Transfer.answered_at, Transfer.id)
    )
    return [org_id for org_id in dict.fromkeys(rows) if org_id != case.organization_id]


def notify_senders_of_conclusion(case: Case) -> int:
    """One notice to each organisation that sent the case away: who concluded it, when, with which outcome.
    Returns how many were written (a repeated call writes none)."""
    assert case.concluded_on is not None and case.outcome is not None, "a concluded case"
    message = _(
        "%(organization)s 已于 %(date)s 办结贵机构转出的案件 %(number)s：%(outcome)s",
        organization=case.organization.name,
        date=case.concluded_on.isoformat(),
        number=case.number,
        outcome=str(OUTCOME_LABELS[case.outcome]),
    )
    written = 0
    for org_id in sending_organization_ids(case):
        note = notify(
            kind=NOTICE_KIND,
            organization_id=org_id,
            message=message,
            link=f"/cases/{case.id}",
            dedupe_key=f"case-concluded:{case.id}:{org_id}",
        )
        written += note is not None
    return written
