"""Which cases an actor sees and may work on, and the lists built on that scope (worklist, search).

Two scopes: what an actor *sees* in its lists (``case_scope``: the cases its organisation handles or
co-mediates, or its region's) and what it may *read* (``readable_by``: that, plus the cases its organisation
handed over by an accepted transfer, which the sender keeps as a read-only view, DESIGN "Lifecycles").
``only_reads`` tells the one from the other for a case. What an actor may do to a case it reads is
``cases.policy``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased, joinedload, selectinload

from ...core.actor import ORGANIZATION_SCOPED_ROLES, Actor
from ...core.messages import coded
from ...core.pii import (
    lookup_hash,
    mask_id_number,
    mask_numbers_in_text,
    mask_phone,
    normalise_id_number,
    normalise_phone,
)
from ...core.shanghai import today_shanghai
from ...errors import NotFound, ValidationFailed
from ...extensions import db
from ...regions.models import Region
from ...regions.service import subtree_condition
from ...registry.models import Organization
from ...transfers.models import (
    Transfer,
    TransferMode,
    TransferStatus,
    co_mediated_case_ids,
    transferred_out_case_ids,
)
from ..models import (
    Case,
    CaseCategory,
    CaseMediator,
    CaseSource,
    CaseStatus,
    FollowUp,
    MediationSession,
    Party,
)
from ..rules import OPEN_STATES, RUNNING_STATES


def case_scope(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL condition on Case for what the actor sees in its lists (and may work on, role permitting)."""
    if actor.sees_everything:
        return sa.true()
    if actor.role in ORGANIZATION_SCOPED_ROLES:
        own = Case.organization_id == actor.organization_id
        return sa.or_(own, Case.id.in_(co_mediated_case_ids(actor.organization_id)))
    return Case.organization_id.in_(_organizations_in_region(actor))


def _organizations_in_region(actor: Actor) -> sa.Select[tuple[int]]:
    # Asked only for a region-scoped actor that does not see everything, so it has a region (Actor.sees_everything;
    # a mediator or legal-aid officer always has an organisation, CHECK org_scoped_roles_have_org on users).
    assert actor.region_code is not None, "a region-scoped actor without a region sees everything"
    return sa.select(Organization.id).where(subtree_condition(Organization.region_code, actor.region_code))


def _sends_cases(actor: Actor) -> bool:
    """A user of an organisation that may hand cases over (and so keep reading them afterwards)."""
    return actor.role in ORGANIZATION_SCOPED_ROLES and actor.organization_id is not None and not actor.is_system


def readable_by(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL condition on Case for what the actor may read: its scope, and for a user of an organisation the
    cases that organisation handed over by an accepted transfer (mode transfer; onward transfers by the
    receiver do not take the view away). A declined, expired or withdrawn request changes nothing."""
    scope = case_scope(actor)
    if not _sends_cases(actor):
        return scope
    return sa.or_(scope, Case.id.in_(transferred_out_case_ids(actor.organization_id)))


def transferred_out_condition(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL condition on Case for the "已转出" list: the cases the actor's organisation handed over by an
    accepted transfer and no longer handles. For actors without an organisation: the cases in their scope
    handed over by an organisation of their region (admins: by any organisation)."""
    if _sends_cases(actor):
        return sa.and_(Case.id.in_(transferred_out_case_ids(actor.organization_id)), sa.not_(case_scope(actor)))
    senders = None if actor.sees_everything else _organizations_in_region(actor)
    return sa.and_(case_scope(actor), Case.id.in_(transferred_out_case_ids(senders)))


def cases_visible_to(actor: Actor) -> sa.Select[tuple[Case]]:
    """Cases the actor may see: all for admins and the system; the handling (or co-mediating)
    organisation's for mediators and legal-aid officers; the region subtree's for region-scoped roles."""
    return sa.select(Case).where(case_scope(actor))


# What the case page and the API's case detail show, loaded with the case: its organisation, category and source
# in the same query, its lists in one query each (instead of a lazy load per attribute as the schema reads it).
DETAIL_LOADING = (
    joinedload(Case.organization),
    joinedload(Case.category),
    joinedload(Case.source),
    selectinload(Case.mediators),
    selectinload(Case.parties),
    selectinload(Case.sessions),
    selectinload(Case.follow_ups),
)


# What the case page shows besides: the studio, and each mediator's name (a query per mediator otherwise).
PAGE_LOADING = (
    joinedload(Case.organization),
    joinedload(Case.category),
    joinedload(Case.source),
    joinedload(Case.studio),
    selectinload(Case.mediators).joinedload(CaseMediator.mediator),
    selectinload(Case.parties),
    selectinload(Case.sessions),
    selectinload(Case.follow_ups),
)
# What the case list and the worklist show of each case: its organisation's and category's names, its parties.
LIST_LOADING = (joinedload(Case.organization), joinedload(Case.category), selectinload(Case.parties))


def get_case(actor: Actor, case_id: int, *, detail: bool = False, page: bool = False) -> Case:
    """The case if the actor may read it (``readable_by``), else NotFound; ``detail`` loads what the case
    detail shows with it, ``page`` what the case page shows. Whether the actor may also act on it is checked by
    each action."""
    stmt = sa.select(Case).where(readable_by(actor), Case.id == case_id)
    loading = PAGE_LOADING if page else DETAIL_LOADING if detail else ()
    case = db.session.scalar(stmt.options(*loading))
    if case is None:
        raise NotFound("case")
    return case


def read_only_ids(actor: Actor, case_ids: list[int]) -> set[int]:
    """Of these readable cases, the ones the actor reads only as a sender (outside its scope): one query."""
    if not case_ids or not _sends_cases(actor):
        return set()
    in_scope = set(db.session.scalars(sa.select(Case.id).where(Case.id.in_(case_ids), case_scope(actor))))
    return set(case_ids) - in_scope


def only_reads(actor: Actor, case: Case) -> bool:
    """Whether the actor's organisation sent this case away and now only reads it (no action of any kind)."""
    return case.id in read_only_ids(actor, [case.id])


@dataclass(frozen=True)
class Handover:
    """How a case left the organisation that reads it now: the accepted transfer, its receiver and date."""

    transfer_id: int
    to_organization_id: int
    to_organization_name: str
    accepted_on: date


def handovers(actor: Actor, case_ids: list[int]) -> dict[int, Handover]:
    """For each case, its latest accepted transfer (mode transfer) sent by the actor's organisation (by any
    organisation for actors without one): the receiver and the day it accepted. Cases never handed over are
    absent."""
    if not case_ids:
        return {}
    stmt = (
        sa.select(Transfer)
        .options(joinedload(Transfer.to_organization))
        .where(
            Transfer.case_id.in_(case_ids),
            Transfer.status == TransferStatus.accepted,
            Transfer.mode == TransferMode.transfer,
        )
        .order_by(Transfer.answered_at, Transfer.id)
    )
    if _sends_cases(actor):
        stmt = stmt.where(Transfer.from_organization_id == actor.organization_id)
    found: dict[int, Handover] = {}
    for t in db.session.scalars(stmt):  # oldest first: the latest of each case stays
        # An accepted transfer has its answer date (CHECK closed_has_time on transfers).
        assert t.answered_on is not None, f"accepted transfer {t.id} has no answer date"
        found[t.case_id] = Handover(t.id, t.to_organization_id, t.to_organization.name, t.answered_on)
    return found


def worklist(actor: Actor) -> sa.Select[tuple[Case]]:
    """Open cases (registered, accepted, in mediation) of the actor's organisation (or, for actors without
    one, of their scope): the nearest due date first, registered cases by the day they were received."""
    stmt = sa.select(Case).where(Case.status.in_(OPEN_STATES))
    if actor.organization_id is not None:
        stmt = stmt.where(Case.organization_id == actor.organization_id)
    else:
        stmt = stmt.where(case_scope(actor))
    return stmt.order_by(sa.func.coalesce(Case.due_on, Case.received_on), Case.id)


def overdue_condition(today: date | None = None) -> sa.ColumnElement[bool]:
    """SQL condition on Case: running and past its due date (``today``: Shanghai's by default)."""
    today = today or today_shanghai()
    return sa.and_(Case.status.in_(RUNNING_STATES), Case.due_on < today)


# The keyed hash of a searched ID number or phone, as links carry it instead of the number (``pid``).
PERSON_HASH = re.compile(r"[0-9a-f]{64}")
# A phone number as typed into a search box: digits with the usual separators, and either an 11-digit mobile
# (1…), a fixed line with its area code (0…) or an international form (+86 …). Without that anchor a fragment
# of a case number ("2026-000007") would read as a fixed line in 广州 (020).
_PHONE_LIKE = re.compile(r"\+[0-9 ()\-]{6,23}|\(?0[0-9 ()\-]{6,23}|1[0-9 \-]{10,14}")


@dataclass(frozen=True)
class SearchedNumber:
    """A party's full ID number or phone typed into a search, in the forms that may travel: the keyed hash
    (``hash``, what a link carries and the search compares) and the masked number (what the page shows)."""

    kind: str  # "ric" or "phone", as in ``lookup_hash``
    hash: str
    masked: str


def searched_number(q: str | None) -> SearchedNumber | None:
    """The personal number a search text is, if it is one: a valid resident ID number or a mainland phone
    number (mobile or fixed line). Anything else (a case number, a name, a USCC) is None."""
    text = (q or "").strip()
    if not text:
        return None
    try:  # typed in groups ("110105 19800105 123X") it is the same number
        number = normalise_id_number(re.sub(r"[\s\-]", "", text))
    except ValueError:  # not an ID number (stdnum's own ValueErrors for non-digits included)
        pass
    else:
        return SearchedNumber("ric", lookup_hash("ric", number), mask_id_number(number))
    if not _PHONE_LIKE.fullmatch(text):
        return None
    try:
        number = normalise_phone(text)
    except ValueError:
        return None
    return SearchedNumber("phone", lookup_hash("phone", number), mask_phone(number))


masked_text = mask_numbers_in_text  # the search box's text as it may travel: numbers inside it masked


def carries_personal_number(q: str | None) -> bool:
    """Whether a search text is, or contains, a full ID number or phone (so it may not be put in a URL)."""
    if not q:
        return False
    return searched_number(q) is not None or masked_text(q) != q


def _party_number_condition(person_hash: str) -> sa.ColumnElement[bool]:
    """Cases with a party whose ID number or phone has this keyed hash (the kind is part of what is hashed,
    so an ID number's hash never equals a phone's)."""
    return Case.id.in_(
        sa.select(Party.case_id).where(sa.or_(Party.id_number_hash == person_hash, Party.phone_hash == person_hash))
    )


def _text_condition(q: str) -> sa.ColumnElement[bool]:
    """Number, summary or a party's name; a valid ID number, phone or USCC is matched through the keyed hash."""
    q = q.strip()
    party_match = sa.select(Party.case_id).where(Party.name.contains(q))
    conditions = [Case.number.contains(q), Case.summary.contains(q), Case.id.in_(party_match)]
    searched = searched_number(q)
    if searched:
        conditions.append(_party_number_condition(searched.hash))
    elif len(q) == 18:
        conditions.append(
            Case.id.in_(sa.select(Party.case_id).where(Party.id_number_hash == lookup_hash("uscc", q.upper())))
        )
    return sa.or_(*conditions)


# The order of the case list: the most recently received first.
LIST_ORDER = (Case.received_on.desc(), Case.id.desc())


def search_cases(
    actor: Actor,
    *,
    status: CaseStatus | str | None = None,
    category: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    region_code: str | None = None,
    studio_id: int | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    organization_id: int | None = None,
    person_hash: str | None = None,
    transferred_out: bool | None = None,
) -> sa.Select[tuple[Case]]:
    """Cases in the actor's scope filtered by status, category, received date range, the handling
    organisation's region subtree, studio, overdue, text (number, summary, party name, ID number or phone)
    and ``person_hash``, the keyed hash of a party's ID number or phone (``searched_number(...).hash``: how
    a link names the number without carrying it); the most recently received first. ``transferred_out``
    lists instead the cases the actor's organisation handed over ("已转出", ``transferred_out_condition``)."""
    stmt = sa.select(Case).where(transferred_out_condition(actor)) if transferred_out else cases_visible_to(actor)
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
            raise ValidationFailed({"region_code": [coded("unknown_region", "未知的行政区划代码")]})
        stmt = stmt.where(
            Case.organization_id.in_(
                sa.select(Organization.id).where(subtree_condition(Organization.region_code, region_code))
            )
        )
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
    if person_hash:
        stmt = stmt.where(_party_number_condition(person_hash))
    return stmt.order_by(*LIST_ORDER)


# --- reading a case for the API: one query per case detail, one per page of a list ---------------------------------
#
# The case detail and the case list answer from one statement each: the case row with its organisation, category and
# source names, whether the caller only reads it (``only_reads``), its hand-over (``handovers``) and its lists as JSON
# arrays built by the database (a correlated subquery per list). No ORM object per party, session or follow-up.

_PARTY_COLUMNS = (
    "id",
    "position",
    "role",
    "kind",
    "name",
    "id_number_masked",
    "phone_masked",
    "region_code",
    "gender",
    "ethnicity",
    "occupation",
    "address",
    "representative",
)
_SESSION_COLUMNS = ("id", "held_on", "summary", "mediator_id", "place", "attendees", "recorder")
_FOLLOW_UP_COLUMNS = ("id", "visited_on", "summary", "performed", "method", "visitor")


@dataclass
class CaseRead:
    """A case as the API shows it: the row, the names it shows, the caller's view of it and its lists (rows as
    dicts of column values; dates as ISO text, booleans as the database gives them: true/false or 1/0)."""

    case: Case
    organization_name: str
    category_name: str
    source_name: str
    read_only: bool
    handover: Handover | None
    parties: list[dict[str, Any]]
    mediator_ids: list[int]
    sessions: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)


def _json_rows(table: sa.FromClause, names: tuple[str, ...], *order_by: str, postgresql: bool) -> sa.ScalarSelect[Any]:
    """The rows of ``table`` belonging to the outer query's case, as one JSON array of objects, in ``order_by``
    (column names; ``-name`` for descending)."""
    columns = table.c
    order = [columns[name[1:]].desc() if name.startswith("-") else columns[name] for name in order_by]
    pairs = [part for name in names for part in (sa.literal_column(f"'{name}'"), columns[name])]
    belongs = columns.case_id == Case.id
    if postgresql:
        aggregate = sa.func.json_agg(aggregate_order_by(sa.func.json_build_object(*pairs), *order))
        found = sa.func.coalesce(aggregate, sa.literal_column("'[]'::json"))
        return sa.select(sa.type_coerce(found, sa.JSON)).where(belongs).correlate(Case).scalar_subquery()
    rows = (
        sa.select(sa.func.json_object(*pairs).label("row")).where(belongs).order_by(*order).correlate(Case).subquery()
    )
    return sa.select(sa.type_coerce(sa.func.json_group_array(sa.func.json(rows.c.row)), sa.JSON)).scalar_subquery()


def _latest_handover(actor: Actor) -> sa.ScalarSelect[int]:
    """The id of the case's latest accepted transfer (mode transfer) sent by the actor's organisation (by any
    organisation for actors without one), as ``handovers`` finds it."""
    stmt = sa.select(Transfer.id).where(
        Transfer.case_id == Case.id,
        Transfer.status == TransferStatus.accepted,
        Transfer.mode == TransferMode.transfer,
    )
    if _sends_cases(actor):
        stmt = stmt.where(Transfer.from_organization_id == actor.organization_id)
    return stmt.order_by(Transfer.answered_at.desc(), Transfer.id.desc()).limit(1).correlate(Case).scalar_subquery()


def _reading_statement(
    actor: Actor, stmt: sa.Select[tuple[Case]], *, detail: bool, handed_over: bool, postgresql: bool
) -> sa.Select[Any]:
    """``stmt`` (cases, filtered, ordered and limited) with everything the API shows of each case (``_reads``)."""
    sends = _sends_cases(actor)
    lists = [
        _json_rows(Party.__table__, _PARTY_COLUMNS, "position", postgresql=postgresql),
        # the lead mediator (the first named at registration) first
        _json_rows(CaseMediator.__table__, ("mediator_id",), "-lead", "mediator_id", postgresql=postgresql),
    ]
    if detail:
        lists.append(_json_rows(MediationSession.__table__, _SESSION_COLUMNS, "held_on", "id", postgresql=postgresql))
        lists.append(_json_rows(FollowUp.__table__, _FOLLOW_UP_COLUMNS, "visited_on", "id", postgresql=postgresql))
    receiver = aliased(Organization)
    handover: list[sa.ColumnElement[Any]] = [sa.null()] * 4  # never read only, never a hand-over to name
    if sends or handed_over:
        handover = [
            Transfer.id.expression,
            Transfer.to_organization_id.expression,
            receiver.name.expression,
            Transfer.answered_on.expression,
        ]
    stmt = (
        stmt.add_columns(
            Organization.name,
            CaseCategory.name,
            CaseSource.name,
            case_scope(actor) if sends else sa.true(),
            *handover,
            *lists,
        )
        .join(Organization, Organization.id == Case.organization_id)
        .join(CaseCategory, CaseCategory.code == Case.category_code)
        .join(CaseSource, CaseSource.code == Case.source_code)
    )
    if sends or handed_over:
        stmt = stmt.outerjoin(Transfer, Transfer.id == _latest_handover(actor)).outerjoin(
            receiver, receiver.id == Transfer.to_organization_id
        )
    return stmt


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _reading(actor: Actor, stmt: sa.Select[tuple[Case]], *, detail: bool, handed_over: bool = False) -> list[CaseRead]:
    """Run ``stmt`` (cases, filtered, ordered and limited) with everything the API shows of each case.

    ``handed_over``: name the hand-over of every case (the "已转出" list), not only of the cases read only."""
    full = _reading_statement(actor, stmt, detail=detail, handed_over=handed_over, postgresql=_postgresql())
    return _reads(db.session.execute(full), handed_over=handed_over)


def _reads(rows: Iterable[sa.Row[Any]], *, handed_over: bool) -> list[CaseRead]:
    """The rows of a ``_reading_statement`` as ``CaseRead``s."""
    found = []
    for row in rows:
        case, organization, category, source, in_scope, transfer_id, to_id, to_name, accepted_on, *rows = row
        read_only = not in_scope
        handed = None
        if transfer_id is not None and (read_only or handed_over):
            handed = Handover(transfer_id, to_id, to_name, accepted_on)
        parties, mediators, *more = rows
        found.append(
            CaseRead(
                case,
                organization,
                category,
                source,
                read_only,
                handed,
                parties,
                [m["mediator_id"] for m in mediators],
                *more,
            )
        )
    return found


def read_case(actor: Actor, case_id: int) -> CaseRead:
    """The case detail as the API shows it, if the actor may read the case (``readable_by``), else NotFound: one
    statement (the scope check, the names, the caller's view, the hand-over and the four lists)."""
    found = _reads(db.session.execute(_case_statement(actor), {"case_id": case_id}), handed_over=False)
    if not found:
        raise NotFound("case")
    return found[0]


# ``read_case``'s statements, kept built: building one (a few hundred SQL elements) and then its cache key, by which
# SQLAlchemy finds the compiled SQL, cost more than the rest of the request's Python. A statement kept is built once
# and its cache key with it (memoised on the statement); the case id is its one parameter. Kept per dialect and per
# what the statement reads of the actor (``_statement_key``); a few hundred at most (one per organisation served).
_CASE_STATEMENTS: dict[tuple[Any, ...], sa.Select[Any]] = {}
_CASE_STATEMENTS_KEPT = 512


def _statement_key(actor: Actor) -> tuple[Any, ...] | None:
    """All that ``readable_by`` and ``_reading_statement`` take from ``actor``; None when the statement also
    depends on rows (a region-scoped actor's subtree is read from the regions table): then it is built each time."""
    if actor.sees_everything:
        return ("all",)
    if actor.role in ORGANIZATION_SCOPED_ROLES:
        return ("organization", actor.organization_id, _sends_cases(actor))
    return None


def _case_statement(actor: Actor) -> sa.Select[Any]:
    """``read_case``'s statement for ``actor``, the case id bound as ``case_id``."""
    postgresql = _postgresql()
    key = _statement_key(actor)
    kept = None if key is None else _CASE_STATEMENTS.get((postgresql, *key))
    if kept is not None:
        return kept
    stmt = sa.select(Case).where(readable_by(actor), Case.id == sa.bindparam("case_id", type_=sa.Integer))
    built = _reading_statement(actor, stmt, detail=True, handed_over=False, postgresql=postgresql)
    if key is not None:
        if len(_CASE_STATEMENTS) >= _CASE_STATEMENTS_KEPT:
            _CASE_STATEMENTS.clear()
        _CASE_STATEMENTS[(postgresql, *key)] = built
    return built


def read_page(
    actor: Actor, stmt: sa.Select[tuple[Case]], page: int, per_page: int, *, handed_over: bool = False
) -> list[CaseRead]:
    """One page of a case list (``search_cases``: ordered by ``LIST_ORDER``) as the API shows it: one statement.
    The page is cut first (ids only), so a deep page builds the lists of its own cases only."""
    ids = stmt.with_only_columns(Case.id).limit(per_page).offset((page - 1) * per_page).subquery()
    page_stmt = sa.select(Case).join(ids, ids.c.id == Case.id).order_by(*LIST_ORDER)
    return _reading(actor, page_stmt, detail=False, handed_over=handed_over)
