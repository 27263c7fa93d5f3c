"""What reporting does when a case step happens: the rate aggregates follow the case event log.

A rate event (registered, accepted, declined, concluded) is counted in the transaction that records it, so the
aggregates hold exactly what the log holds, or nothing of a step that rolled back. An import writes its rows in
bulk and announces them once (``case.imported``): the aggregates of that span are rebuilt after it commits."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from ..cases.events import CaseAccepted, CaseConcluded, CaseDeclined, CaseRegistered, CasesImported, CaseStepRecorded
from ..core.events import Listeners
from ..core.uow import transaction
from ..extensions import db
from . import aggregates

log = logging.getLogger("mediation_hub.reporting")

listeners = Listeners("reporting")


@listeners.on(CaseRegistered, CaseAccepted, CaseDeclined, CaseConcluded)
def count_rate_event(event: CaseStepRecorded) -> None:
    """Add the step to the daily, monthly and region aggregates and the completion cohorts (same transaction)."""
    aggregates.apply_event(db.session.connection(), event)


@listeners.on(CasesImported, after_commit=True)
def rebuild_imported_span(event: CasesImported) -> None:
    """Rebuild the aggregates over the span of the imported rows, committed on their own once the import's
    rows are. A failure is logged, never raised: the import itself succeeded, and the command named in the log
    repairs the span; until then the rates of that span lag behind."""
    try:
        with transaction():
            aggregates.rebuild_daily_stats(event.first_day, event.last_day)
    except SQLAlchemyError:
        log.exception(
            "report aggregates not rebuilt for %s..%s after an import; run `mediation-hub reports rebuild-aggregates`",
            event.first_day,
            event.last_day,
        )
