"""Who handles a case: the change of handling organisation (a transfer accepted moves the case).

The case keeps its state, history and number; what belonged to the organisation it leaves (its studio, its
mediators) stops handling it, and one ``handling_organization_changed`` event records the move and who was
dropped. The caller (``transfers.service``) has decided that the move is allowed."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...core.actor import Actor
from ...extensions import db
from ...registry.models import Mediator, Organization, Studio
from ..events import record_event
from ..models import Case


def change_handling_organization(
    actor: Actor, case: Case, organization: Organization, *, on_date: date, reason: dict[str, Any]
) -> dict[str, Any]:
    """Hand ``case`` over to ``organization`` on ``on_date``; ``reason`` (e.g. ``{"transfer_id": 7}``) opens the
    event's data, followed by the organisations and what was dropped. Flushes; returns what was dropped
    (``studio_id``, ``mediator_ids``, each only when there was one)."""
    leaving = case.organization_id
    removed = _drop_assignments(case, organization.id)
    case.organization = organization
    record_event(
        case,
        "handling_organization_changed",
        actor,
        on_date,
        {**reason, "from_organization_id": leaving, "to_organization_id": organization.id, **removed},
    )
    return removed


def _drop_assignments(case: Case, receiver_id: int) -> dict[str, Any]:
    """The leaving organisation's studio and mediators stop handling the case; the event keeps who they were."""
    removed: dict[str, Any] = {}
    if case.studio_id is not None:
        studio = db.session.get(Studio, case.studio_id)
        if studio is None or studio.organization_id != receiver_id:
            removed["studio_id"] = case.studio_id
            case.studio_id = None
    gone = [cm for cm in case.mediators if _organization_of(cm.mediator_id) != receiver_id]
    if gone:
        removed["mediator_ids"] = [cm.mediator_id for cm in gone]
        for cm in gone:
            case.mediators.remove(cm)
    return removed


def _organization_of(mediator_id: int) -> int | None:
    mediator = db.session.get(Mediator, mediator_id)
    return mediator.organization_id if mediator is not None else None
