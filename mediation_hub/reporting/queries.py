"""Parameterised report queries: aggregation in SQL over the append-only event log, rows back.

Every count is taken from ``case_events``, where each row carries the organisation (and its region and
studio) that handled the case when the event happened; so a case transferred from Hebei to Beijing is
received in Hebei and concluded in Beijing. Nothing here loads cases into Python.

Indexes these queries rely on (declared in ``reporting/models.py``, so the migration picks them up):
``case_events (code, on_date)`` and ``(organization_id, code, on_date)`` exist on the model; the
completion test is a correlated EXISTS on ``case_events (case_id, code, on_date)``; region scope is a
semi-join on ``case_events (region_code, code, on_date)``; studio scope on ``(studio_id, code, on_date)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased

from ..cases.models import Case, CaseEvent, CaseStatus
from ..extensions import db
from ..regions.models import Region
from ..regions.service import subtree_condition
from ..registry.models import Organization

RATE_EVENT_CODES = ("registered", "accepted", "declined", "concluded")
COMPLETING_CODES = ("concluded", "declined")
OUTCOMES = ("agreement", "no_agreement", "withdrawn", "referred")
TIME_FIELDS = ("concluded_on_time", "concluded_on_time_original", "concluded_extended")
COUNT_FIELDS = ("received", "accepted", "declined", "concluded", *OUTCOMES, *TIME_FIELDS, "completed")
# handled (承办): each event counts for the organisation that handled the case then; occurred (属地): for the place
# where the dispute arose, whoever handled it (DESIGN.md "Rates")
BASES = ("handled", "occurred")

# The extra indexes these queries need are declared in reporting/models.py (attached to case_events
# and transfers).


@dataclass(frozen=True)
class Scope:
    """What a report covers: a region subtree (custom regions: the union of their members), an
    organisation, a studio, or any combination (all must hold)."""

    region_code: str | None = None
    organization_id: int | None = None
    studio_id: int | None = None


@dataclass(frozen=True)
class Grouping:
    """A SQL expression for the group key, and the joins it needs."""

    key: sa.SQLColumnExpression[Any]
    needs_region: bool = False
    needs_case: bool = False
    where: tuple[sa.ColumnElement[bool], ...] = ()


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def event_scope(
    scope: Scope, event: type[CaseEvent] = CaseEvent, basis: str = "handled"
) -> list[sa.ColumnElement[bool]]:
    """Conditions on an event row for the report's scope: the handler at the event, or on the occurred basis the
    place of the case's dispute (a region scope only)."""
    if basis == "occurred":
        return [subtree_condition(Case.occurred_region_code, scope.region_code)] if scope.region_code else []
    conditions = []
    if scope.region_code:
        conditions.append(subtree_condition(event.region_code, scope.region_code))
    if scope.organization_id:
        conditions.append(event.organization_id == scope.organization_id)
    if scope.studio_id:
        conditions.append(event.studio_id == scope.studio_id)
    return conditions


def month_key(column: sa.SQLColumnExpression[Any]) -> sa.ColumnElement[int]:
    """yyyymm as an integer, portable (EXTRACT on PostgreSQL, strftime on SQLite)."""
    return sa.cast(sa.extract("year", column) * 100 + sa.extract("month", column), sa.Integer)


def region_child_key(children: list[Region], fallback: str | None) -> sa.ColumnElement[str | None]:
    """The child region an event's region lies under (a prefix test on the materialised path);
    events at the chosen region itself fall to ``fallback``."""
    whens = [(Region.path.startswith(child.path), sa.literal(child.code)) for child in children]
    if not whens:
        return sa.literal(fallback)
    return sa.case(*whens, else_=sa.literal(fallback))


def grouping_for(
    group_by: str | None,
    *,
    children: list[Region] | None = None,
    fallback_region: str | None = None,
    basis: str = "handled",
) -> Grouping | None:
    """The group key for ``group_by`` (month | category | region | organization | studio); on the occurred basis
    a region group is the child region the dispute's place lies under."""
    if group_by is None:
        return None
    if group_by == "month":
        return Grouping(month_key(CaseEvent.on_date))
    if group_by == "category":
        return Grouping(Case.category_code, needs_case=True)
    if group_by == "region":
        return Grouping(
            region_child_key(children or [], fallback_region), needs_region=True, needs_case=basis == "occurred"
        )
    if group_by == "organization":
        return Grouping(CaseEvent.organization_id)
    if group_by == "studio":
        return Grouping(CaseEvent.studio_id, where=(CaseEvent.studio_id.is_not(None),))
    raise ValueError(f"unknown grouping {group_by!r}")


def rate_counts(
    scope: Scope,
    date_from: date,
    date_to: date,
    as_of: date,
    grouping: Grouping | None = None,
    basis: str = "handled",
) -> Sequence[sa.Row[Any]]:
    """One row per group (or one row) with every count the rates need, counted on the event log itself.

    The reference implementation: reports read the same numbers from ``aggregates.rate_counts`` (daily and
    monthly tables kept in step with this log), and tests/test_reporting_aggregates.py checks both agree.

    Events count when their business date lies in [date_from, min(date_to, as_of)]: a report as of an
    earlier day sees the cases as they stood that day. ``completed`` counts the cases registered in the
    period that were concluded or declined on or before ``as_of`` (the completion numerator)."""
    e = CaseEvent
    done = aliased(CaseEvent)
    until = min(date_to, as_of)
    outcome = sa.func.coalesce(e.data["outcome"].as_string(), Case.outcome)
    is_concluded = e.code == "concluded"
    timed = sa.and_(is_concluded, Case.due_on.is_not(None))
    completed = sa.exists().where(done.case_id == e.case_id, done.code.in_(COMPLETING_CODES), done.on_date <= as_of)

    def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.count().filter(condition)

    columns = [
        count_if(e.code == "registered").label("received"),
        count_if(e.code == "accepted").label("accepted"),
        count_if(e.code == "declined").label("declined"),
        count_if(is_concluded).label("concluded"),
        *(count_if(sa.and_(is_concluded, outcome == name)).label(name) for name in OUTCOMES),
        count_if(sa.and_(timed, e.on_date <= Case.due_on)).label("concluded_on_time"),
        count_if(sa.and_(timed, e.on_date <= sa.func.coalesce(Case.original_due_on, Case.due_on))).label(
            "concluded_on_time_original"
        ),
        count_if(sa.and_(is_concluded, Case.original_due_on.is_not(None))).label("concluded_extended"),
        count_if(sa.and_(e.code == "registered", completed)).label("completed"),
    ]
    stmt = (
        sa.select(*columns)
        .select_from(e)
        .join(Case, Case.id == e.case_id)
        .where(
            e.code.in_(RATE_EVENT_CODES), e.on_date >= date_from, e.on_date <= until, *event_scope(scope, basis=basis)
        )
    )
    if grouping is not None:
        if grouping.needs_region:
            place = Case.occurred_region_code if basis == "occurred" else e.region_code
            stmt = stmt.join(Region, Region.code == place)
        key: sa.Label[Any] = grouping.key.label("key")
        stmt = stmt.add_columns(key).where(*grouping.where).group_by(key).order_by(key)
    return db.session.execute(stmt).all()


def move_counts(scope: Scope, date_from: date, date_to: date) -> dict[str, int]:
    """Cases handed into and out of the scope by accepted transfers in the period, counted on the event log (the
    reference for ``aggregates.move_counts``): into it when the receiver lies in the scope and the sender does not,
    out of it the other way round."""
    from .aggregates import moves_subquery

    moves = moves_subquery(date_from, date_to)

    def side(name: str) -> sa.ColumnElement[bool]:
        conditions: list[sa.ColumnElement[bool]] = []
        if not (scope.organization_id or scope.studio_id):
            # another hub's organisation lies outside every region of this hub, the whole country included
            conditions.append(sa.not_(moves.c[f"{name}_remote"]))
        if scope.region_code:
            conditions.append(subtree_condition(moves.c[f"{name}_region_code"], scope.region_code))
        if scope.organization_id:
            conditions.append(moves.c[f"{name}_organization_id"] == scope.organization_id)
        if scope.studio_id:
            conditions.append(moves.c[f"{name}_studio_id"] == scope.studio_id)
        return sa.and_(*conditions) if conditions else sa.true()

    row = db.session.execute(
        sa.select(
            sa.func.count().filter(sa.and_(side("to"), sa.not_(side("from")))).label("transferred_in"),
            sa.func.count().filter(sa.and_(side("from"), sa.not_(side("to")))).label("transferred_out"),
        ).select_from(moves)
    ).one()
    return {"transferred_in": int(row.transferred_in), "transferred_out": int(row.transferred_out)}


def open_count(scope: Scope, day: date, basis: str = "handled") -> int:
    """Cases open at the end of ``day`` under the scope, counted on the event log (the reference for
    ``aggregates.open_count``): registered, less concluded or declined, plus handed in, less handed out."""
    e = CaseEvent
    signs = sa.case((e.code == "registered", 1), else_=-1)
    stmt = (
        sa.select(sa.func.coalesce(sa.func.sum(signs), 0))
        .select_from(e)
        .join(Case, Case.id == e.case_id)
        .where(e.code.in_(("registered", *COMPLETING_CODES)), e.on_date <= day, *event_scope(scope, basis=basis))
    )
    total = int(db.session.scalar(stmt) or 0)
    if basis == "handled":
        moved = move_counts(scope, date(1900, 1, 1), day)
        total += moved["transferred_in"] - moved["transferred_out"]
    return total


# --- cases past their time limit ------------------------------------------------------------------------

_SCOPE_ORGS = "reporting_scope_organization_ids"  # session.info key: {region code: [organisation ids]}


def scope_organization_ids(region_code: str) -> list[int]:
    """The organisations in a region's subtree, looked up once for the request's reports (until the session
    writes again).

    Report queries test a row's organisation against this list of values, which the planner can count. As a
    subquery on the regions' path prefix it is estimated at one or two organisations whatever the region, and
    the plans built on that misjudge every step after it (a province's overdue count went to nested loops over
    1,520 organisations: 4 s at ten million cases)."""
    cache = db.session.info.setdefault(_SCOPE_ORGS, {})
    if region_code not in cache:
        cache[region_code] = list(
            db.session.scalars(
                sa.select(Organization.id)
                .where(subtree_condition(Organization.region_code, region_code))
                .order_by(Organization.id)
            )
        )
    ids: list[int] = cache[region_code]
    return ids


def in_scope_organizations(column: sa.SQLColumnExpression[int], region_code: str) -> sa.ColumnElement[bool]:
    """``column`` is one of the region's organisations: ``= ANY(array)`` with the ids as one parameter on
    PostgreSQL (an IN list of 1,500 parameters cost more to render, send and plan than the query took to run),
    an IN list elsewhere."""
    ids = scope_organization_ids(region_code)
    if _dialect() == "postgresql":
        return column == sa.any_(
            sa.bindparam("scope_organization_ids", ids, type_=postgresql.ARRAY(sa.Integer), unique=True)
        )
    return column.in_(ids)


@sa.event.listens_for(Session, "after_flush")
@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_scope_organizations(session: Session, *_args: object) -> None:
    session.info.pop(_SCOPE_ORGS, None)


def case_scope(scope: Scope) -> list[sa.ColumnElement[bool]]:
    """Conditions on the case's current handler (for lists of open cases, not for rates)."""
    conditions = []
    if scope.region_code:
        conditions.append(in_scope_organizations(Case.organization_id, scope.region_code))
    if scope.organization_id:
        conditions.append(Case.organization_id == scope.organization_id)
    if scope.studio_id:
        conditions.append(Case.studio_id == scope.studio_id)
    return conditions


def overdue_cases(scope: Scope, as_of: date, limit: int = 50) -> Sequence[sa.Row[Any]]:
    """Open cases (accepted or in mediation) whose time limit passed before ``as_of``, oldest first."""
    stmt = (
        sa.select(
            Case.id,
            Case.number,
            Case.category_code,
            Case.status,
            Case.due_on,
            Case.due_on_provisional,
            Case.organization_id,
            Organization.name.label("organization_name"),
        )
        .join(Organization, Organization.id == Case.organization_id)
        .where(Case.status.in_((CaseStatus.accepted, CaseStatus.in_mediation)), Case.due_on < as_of, *case_scope(scope))
        .order_by(Case.due_on, Case.id)
        .limit(limit)
    )
    return db.session.execute(stmt).all()


def overdue_case_count(scope: Scope, as_of: date) -> int:
    stmt = (
        sa.select(sa.func.count())
        .select_from(Case)
        .where(Case.status.in_((CaseStatus.accepted, CaseStatus.in_mediation)), Case.due_on < as_of, *case_scope(scope))
    )
    return db.session.scalar(stmt) or 0


# --- cross-region transfers -------------------------------------------------------------------------------

TRANSFER_OUTCOMES = ("accepted", "declined", "expired", "withdrawn", "pending")


def _org_in_scope(org_id_column: sa.SQLColumnExpression[int], scope: Scope) -> sa.ColumnElement[bool]:
    conditions = []
    if scope.region_code:
        conditions.append(in_scope_organizations(org_id_column, scope.region_code))
    if scope.organization_id:
        conditions.append(org_id_column == scope.organization_id)
    return sa.and_(*conditions) if conditions else sa.true()


def transfer_flows(
    scope: Scope, date_from: date, date_to: date, side: str | None = None, by_province: bool = False
) -> Sequence[sa.Row[Any]]:
    """Transfers requested in the period that the scope sent (``side='sent'``), received
    (``'received'``) or either (None), counted by status; grouped by (from province, to province)
    when ``by_province``. On PostgreSQL each row also carries the median working days to answer (the same
    scan); elsewhere it comes from ``transfer_medians``."""
    from ..transfers.models import Transfer

    columns = [sa.func.count().label("total")]
    columns += [sa.func.count().filter(Transfer.status == name).label(name) for name in TRANSFER_OUTCOMES]
    if median_in_counts():  # percentile_cont skips the unanswered (NULL) rows, as transfer_medians does
        columns.append(sa.func.percentile_cont(0.5).within_group(Transfer.working_days_to_answer.asc()).label("median"))
    stmt = _transfer_base(sa.select(*columns), scope, date_from, date_to, side)
    if by_province:
        stmt, keys = _with_provinces(stmt)
        stmt = stmt.group_by(*keys).order_by(*keys)
    return db.session.execute(stmt).all()


def median_in_counts() -> bool:
    """Whether ``transfer_flows`` rows carry the median themselves (PostgreSQL's ordered-set aggregate)."""
    return _dialect() == "postgresql"


def _transfer_base(
    stmt: sa.Select[Any], scope: Scope, date_from: date, date_to: date, side: str | None
) -> sa.Select[Any]:
    from ..transfers.models import Transfer

    stmt = stmt.select_from(Transfer).where(Transfer.requested_on >= date_from, Transfer.requested_on <= date_to)
    sent, received = (
        _org_in_scope(Transfer.from_organization_id, scope),
        _org_in_scope(Transfer.to_organization_id, scope),
    )
    by_side: dict[str | None, sa.ColumnElement[bool]] = {"sent": sent, "received": received}
    return stmt.where(by_side.get(side, sa.or_(sent, received)))


def _with_provinces(stmt: sa.Select[Any]) -> tuple[sa.Select[Any], tuple[sa.Label[str], sa.Label[str]]]:
    """Add the sender's and the receiver's province codes as columns (and the joins they need)."""
    from ..transfers.models import Transfer

    sender, receiver = aliased(Organization), aliased(Organization)
    sender_region, receiver_region = aliased(Region), aliased(Region)
    from_province = sa.func.coalesce(sender_region.province_code, sender_region.code).label("from_province")
    to_province = sa.func.coalesce(receiver_region.province_code, receiver_region.code).label("to_province")
    stmt = (
        stmt.add_columns(from_province, to_province)
        .join(sender, sender.id == Transfer.from_organization_id)
        .join(sender_region, sender_region.code == sender.region_code)
        .join(receiver, receiver.id == Transfer.to_organization_id)
        .join(receiver_region, receiver_region.code == receiver.region_code)
    )
    return stmt, (from_province, to_province)


def transfer_medians(
    scope: Scope, date_from: date, date_to: date, side: str | None = None, by_province: bool = False
) -> Sequence[sa.Row[Any]]:
    """Median working days from request to answer (accepted or declined transfers), per group.

    PostgreSQL: ``percentile_cont(0.5)``; elsewhere a portable window-function median (the mean of the
    middle one or two values)."""
    from ..transfers.models import Transfer

    days = Transfer.working_days_to_answer
    if _dialect() == "postgresql":
        stmt = sa.select(sa.func.percentile_cont(0.5).within_group(days.asc()).label("median"))
        stmt = _transfer_base(stmt, scope, date_from, date_to, side).where(days.is_not(None))
        if by_province:
            stmt, keys = _with_provinces(stmt)
            stmt = stmt.group_by(*keys)
        return db.session.execute(stmt).all()
    inner = _transfer_base(sa.select(days.label("days")), scope, date_from, date_to, side).where(days.is_not(None))
    names: list[str] = []
    if by_province:
        inner, _keys = _with_provinces(inner)
        names = ["from_province", "to_province"]
    sub = inner.subquery()
    partition = [sub.c[name] for name in names] or None
    ranked = sa.select(
        sub.c.days,
        *(sub.c[name] for name in names),
        sa.func.row_number().over(partition_by=partition, order_by=sub.c.days).label("rn"),
        sa.func.count().over(partition_by=partition).label("n"),
    ).subquery()
    # Integer division on both dialects: the middle row, or the two middle rows of an even count.
    middle = sa.or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
    stmt = sa.select(sa.func.avg(ranked.c.days).label("median"), *(ranked.c[name] for name in names)).where(middle)
    if names:
        stmt = stmt.group_by(*(ranked.c[name] for name in names))
    return db.session.execute(stmt).all()


def overdue_transfers(scope: Scope, as_of: date, limit: int = 50) -> Sequence[sa.Row[Any]]:
    """Pending transfers past their answer-by date that the scope sent or must answer."""
    from ..transfers.models import Transfer

    sender, receiver = aliased(Organization), aliased(Organization)
    stmt = (
        sa.select(
            Transfer.id,
            Transfer.case_id,
            Transfer.respond_by,
            Transfer.respond_by_provisional,
            Transfer.mode,
            sender.name.label("from_name"),
            receiver.name.label("to_name"),
        )
        .join(sender, sender.id == Transfer.from_organization_id)
        .join(receiver, receiver.id == Transfer.to_organization_id)
        .where(
            Transfer.status == "pending",
            Transfer.respond_by < as_of,
            sa.or_(
                _org_in_scope(Transfer.from_organization_id, scope), _org_in_scope(Transfer.to_organization_id, scope)
            ),
        )
        .order_by(Transfer.respond_by, Transfer.id)
        .limit(limit)
    )
    return db.session.execute(stmt).all()


# --- legal aid ---------------------------------------------------------------------------------------------


def legal_aid_counts(scope: Scope, date_from: date, date_to: date) -> sa.Row[Any]:
    """Applications filed in the period at a centre in scope; decisions taken in the period by a centre in
    scope, how many by their decide-by date (7 days after receipt) and how many granted.

    Two counts in one statement, each a range of its own index that holds every column it reads
    (``ix_legal_aid_applications_filed_scope``, ``…_decided_scope``), so a province-year at ten years of data is
    two index-only scans instead of a bitmap OR over both ranges and a visit to every row."""
    from ..legal_aid.models import LegalAidApplication as App

    filed = (
        sa.select(sa.func.count())
        .select_from(App)
        .where(App.filed_on >= date_from, App.filed_on <= date_to, _org_in_scope(App.filed_centre_id, scope))
        .scalar_subquery()
    )
    stmt = (
        sa.select(
            filed.label("applications"),
            sa.func.count().label("decided"),
            sa.func.count()
            .filter(sa.and_(App.decide_by.is_not(None), App.decided_on <= App.decide_by))
            .label("decided_in_time"),
            sa.func.count().filter(App.granted.is_(True)).label("granted"),
        )
        .select_from(App)
        .where(App.decided_on >= date_from, App.decided_on <= date_to, _org_in_scope(App.centre_id, scope))
    )
    return db.session.execute(stmt).one()
