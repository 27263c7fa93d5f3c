"""Which cases an actor sees and may work on, and the lists built on that scope (worklist, search)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ...core.actor import ORGANIZATION_SCOPED_ROLES, Actor, Role
from ...core.modules import import_optional
from ...core.pii import lookup_hash, normalise_id_number
from ...core.shanghai import today_shanghai
from ...errors import NotFound, PermissionDenied, ValidationFailed
from ...extensions import db
from ...regions.models import Region
from ...regions.service import subtree_condition
from ...registry.models import Organization
from ..models import Case, CaseStatus, Party
from ..rules import OPEN_STATES, RUNNING_STATES

CASE_HANDLER_ROLES = (Role.mediator, Role.legal_aid_officer)


def _co_mediated_case_ids(organization_id: int | None) -> sa.Select | None:
    transfers = import_optional("mediation_hub.transfers.models")
    helper = getattr(transfers, "co_mediated_case_ids", None) if transfers else None
    return helper(organization_id) if helper else None


def case_scope(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL condition on Case for what the actor may see."""
    if actor.sees_everything:
        return sa.true()
    if actor.role in ORGANIZATION_SCOPED_ROLES:
        own = Case.organization_id == actor.organization_id
        co_mediated = _co_mediated_case_ids(actor.organization_id)
        return own if co_mediated is None else sa.or_(own, Case.id.in_(co_mediated))
    org_ids = sa.select(Organization.id).where(subtree_condition(Organization.region_code, actor.region_code))
    return Case.organization_id.in_(org_ids)


def cases_visible_to(actor: Actor) -> sa.Select:
    """Cases the actor may see: all for admins and the system; the handling (or co-mediating)
    organisation's for mediators and legal-aid officers; the region subtree's for region-scoped roles."""
    return sa.select(Case).where(case_scope(actor))


# What the case page and the API's case detail show, loaded with the case: its organisation, category and source
# in the same query, its lists in one query each (instead of a lazy load per attribute as the schema reads it).
DETAIL_LOADING = (
    joinedload(Case.organization), joinedload(Case.category), joinedload(Case.source),
    selectinload(Case.mediators), selectinload(Case.parties), selectinload(Case.sessions),
    selectinload(Case.follow_ups),
)


def get_case(actor: Actor, case_id: int, *, detail: bool = False) -> Case:
    """The case if the actor may see it, else NotFound; ``detail`` loads what the case detail shows with it."""
    stmt = cases_visible_to(actor).where(Case.id == case_id)
    case = db.session.scalar(stmt.options(*DETAIL_LOADING) if detail else stmt)
    if case is None:
        raise NotFound("case")
    return case


def can_handle(actor: Actor, case: Case) -> bool:
    """Whether the actor may move the case through its lifecycle: admins, the system, and mediators
    (or legal-aid officers) of the handling organisation."""
    if actor.is_admin or actor.is_system:
        return True
    return actor.role in CASE_HANDLER_ROLES and actor.organization_id == case.organization_id


def require_handler(actor: Actor, case: Case) -> None:
    if not can_handle(actor, case):
        raise PermissionDenied("只有承办组织的调解员可以办理该案件 (only the handling organisation works on a case)")


def is_of_handling_organization(actor: Actor, case: Case) -> bool:
    """A user of the organisation that handles the case now (the only ones who may reveal numbers)."""
    return actor.organization_id is not None and actor.organization_id == case.organization_id


def worklist(actor: Actor) -> sa.Select:
    """Open cases (registered, accepted, in mediation) of the actor's organisation (or, for actors without
    one, of their scope): the nearest due date first, registered cases by the day they were received."""
    stmt = sa.select(Case).where(Case.status.in_(OPEN_STATES))
    if actor.organization_id is not None:
        stmt = stmt.where(Case.organization_id == actor.organization_id)
    else:
        stmt = stmt.where(case_scope(actor))
    return stmt.order_by(sa.func.coalesce(Case.due_on, Case.received_on), Case.id)


def overdue_condition(today: date | None = None) -> sa.ColumnElement[bool]:
    today = today or today_shanghai()
    return sa.and_(Case.status.in_(RUNNING_STATES), Case.due_on < today)


def _text_condition(q: str) -> sa.ColumnElement[bool]:
    """Number, summary or a party's name; a valid ID number or USCC is matched through the keyed hash."""
    q = q.strip()
    party_match = sa.select(Party.case_id).where(Party.name.contains(q))
    conditions = [Case.number.contains(q), Case.summary.contains(q), Case.id.in_(party_match)]
    try:
        number = normalise_id_number(q)
    except ValueError:
        number = None
    if number:
        conditions.append(Case.id.in_(sa.select(Party.case_id).where(
            Party.id_number_hash == lookup_hash("ric", number))))
    elif len(q) == 18:
        conditions.append(Case.id.in_(sa.select(Party.case_id).where(
            Party.id_number_hash == lookup_hash("uscc", q.upper()))))
    return sa.or_(*conditions)


def search_cases(actor: Actor, *, status=None, category=None, date_from: date | None = None,
                 date_to: date | None = None, region_code: str | None = None, studio_id: int | None = None,
                 overdue: bool | None = None, q: str | None = None, organization_id: int | None = None) -> sa.Select:
    """Cases in the actor's scope filtered by status, category, received date range, the handling
    organisation's region subtree, studio, overdue, and text (number, summary, party name or ID number);
    the most recently received first."""
    stmt = cases_visible_to(actor)
    if status:
        stmt = stmt.where(Case.status == CaseStatus(status))
    if category:
        stmt = stmt.where(Case.category_code == category)
    if date_from:
        stmt = stmt.where(Case.received_on >= date_from)
    if date_to:
        stmt = stmt.where(Case.received_on <= date_to)
    if region_code:
        if db.session.get(Region, region_code) is None:
            raise ValidationFailed({"region_code": ["未知的行政区划代码 (unknown region code)"]})
        stmt = stmt.where(Case.organization_id.in_(
            sa.select(Organization.id).where(subtree_condition(Organization.region_code, region_code))))
    if studio_id:
        stmt = stmt.where(Case.studio_id == studio_id)
    if organization_id:
        stmt = stmt.where(Case.organization_id == organization_id)
    if overdue is True:
        stmt = stmt.where(overdue_condition())
    elif overdue is False:
        stmt = stmt.where(sa.not_(overdue_condition()))
    if q and q.strip():
        stmt = stmt.where(_text_condition(q))
    return stmt.order_by(Case.received_on.desc(), Case.id.desc())
