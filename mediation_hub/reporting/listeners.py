"""What reporting does when a case step happens: the rate aggregates follow the case event log.

A rate event (registered, accepted, declined, concluded) is counted in the transaction that records it, so the
aggregates hold exactly what the log holds, or nothing of a step that rolled back; so is a case handed over
(``case.handling_organization_changed``: moved out of the sender, into the receiver). An import writes its rows in
bulk and announces them once (``case.imported``): the aggregates of that span are rebuilt after it commits.

The transfer and legal-aid month aggregates (``flow_aggregates``) follow their tables: every ORM flush that inserts,
changes or deletes a transfer or an application moves its counts in that flush (``after_flush``, whoever writes:
the services, the factories); a request closed by the transfers service's conditional UPDATE (which the ORM does
not see) is moved by ``transfer.answered`` / ``withdrawn`` / ``expired``. ``transfer.requested`` needs nothing more
(its row was inserted through the ORM and counted as pending); the legal-aid steps change their application
through the ORM, so the flush counts them."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..cases.events import (
    CaseAccepted,
    CaseConcluded,
    CaseDeclined,
    CaseHandlingOrganizationChanged,
    CaseRegistered,
    CasesImported,
    CaseStepRecorded,
)
from ..core.events import Listeners
from ..core.uow import transaction
from ..extensions import db
from ..transfers.events import TransferAnswered, TransferExpired, TransferStep, TransferWithdrawn
from . import aggregates, flow_aggregates

log = logging.getLogger("mediation_hub.reporting")

listeners = Listeners("reporting")


@listeners.on(CaseRegistered, CaseAccepted, CaseDeclined, CaseConcluded)
def count_rate_event(event: CaseStepRecorded) -> None:
    """Add the step to the daily, monthly and region aggregates and the completion cohorts (same transaction)."""
    aggregates.apply_event(db.session.connection(), event)


@listeners.on(CaseHandlingOrganizationChanged)
def count_moved_case(event: CaseStepRecorded) -> None:
    """A transfer accepted handed the case over: out of the sender's counts, into the receiver's (same transaction)."""
    aggregates.apply_move(db.session.connection(), event)


@listeners.on(TransferAnswered, TransferWithdrawn, TransferExpired)
def count_closed_transfer(event: TransferStep) -> None:
    """Move the closed request from pending to its status (and working days) in the month aggregates."""
    flow_aggregates.apply_transfer_closed(db.session.connection(), event.transfer_id)


@listeners.on_flush(prepare=flow_aggregates.watch_counted_columns)
def count_flushed_flows(session: Session) -> None:
    """Transfers and applications inserted, changed or deleted in this flush: their month aggregates, same flush."""
    flow_aggregates.apply_flush(session)


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
