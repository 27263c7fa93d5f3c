"""Monthly aggregates of transfers and legal-aid applications, kept exactly in step with their tables.

The dashboard's transfer flows and legal-aid figures (``queries.transfer_flows``, ``queries.legal_aid_counts``)
count the ``transfers`` and ``legal_aid_applications`` rows of a period; at ten years those counts cost 80–90 ms
a province-year. These two tables hold the same counts per calendar month (``month`` is its first day):

``transfer_monthly_stats``  (month of ``requested_on``, from organisation, to organisation, mode, status,
                            working days to answer) → transfers. ``working_days`` is -1 for a request not
                            answered (pending, expired, withdrawn): a histogram per key, so the median over any
                            set of months is exact (the middle one or two values of the summed counts), the same
                            number as ``percentile_cont(0.5)`` over the rows. Pairs of provinces come from the
                            organisations' regions at query time, as on the base table.
``legal_aid_monthly_stats`` (month, centre) → filed (month of ``filed_on``, at the filing centre), decided,
                            decided in time (``decided_on <= decide_by``), granted (month of ``decided_on``, at
                            the centre holding the application).

Both are rolled up the region tree, as the rate aggregates are (``case_region_monthly_stats``):

``transfer_region_monthly_stats`` (region, month, side, from province, to province, status, working days) →
                            transfers. A transfer has a row in every region of the union of the sending
                            organisation's region and its ancestors and the receiving one's: ``side`` is
                            ``sent`` (the region holds only the sender), ``received`` (only the receiver) or
                            ``both`` (a transfer inside the region, counted once). A region's transfers sent are
                            its ``sent`` + ``both`` rows, received ``received`` + ``both``, sent or received
                            (the pairs of provinces) all three.
``legal_aid_region_monthly_stats`` (region, month) → the same four counts as ``legal_aid_monthly_stats``.

A scope of one real region (province, prefecture, county) reads the region rows; an organisation, a studio, a
custom region (the sum of its members would count a transfer between two of them twice) and the whole country
read the organisation rows. Provinces and ancestors are those of the organisations' regions when the row is
written; a change of an organisation's region moves its rows (``apply_flush`` sees it).

A period is cut with ``aggregates.split_period``: whole months from these tables, the odd days at either end from
the base tables themselves (each a short range of an index: ``ix_transfers_from/to_requested_on``,
``ix_legal_aid_applications_filed_scope/decided_scope``), in one UNION ALL; no daily table.

Maintenance (``reporting.listeners``): every ORM write of a transfer or an application (insert, change of a
counted column, delete) moves its contribution in the flush that writes it (``apply_flush``: attribute history
gives the old values); the transfers service closes a request with a conditional Core UPDATE the ORM does not
see, so ``transfer.answered`` / ``withdrawn`` / ``expired`` move it from pending (``apply_transfer_closed``).
Rows are upserted in one fixed order (table, then key). Bulk loads rebuild: ``rebuild_flow_stats`` (the region
rows from the organisation rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column
from sqlalchemy.orm.attributes import instance_state

from ..extensions import Model, db
from ..legal_aid.models import LegalAidApplication
from ..regions.models import Region, RegionLevel
from ..registry.models import Organization
from ..transfers.models import Transfer
from .aggregates import _ancestor_pairs, _ancestors, _insert, month_end, month_start, split_period

if TYPE_CHECKING:
    from .queries import Scope

NOT_ANSWERED = -1  # working_days of a request without an answer (part of the key, so not NULL)
SENT, RECEIVED, BOTH = "sent", "received", "both"  # side of a region row: which of the two organisations it holds
TRANSFER_STATUSES = ("accepted", "declined", "expired", "withdrawn", "pending")
LEGAL_AID_FIELDS = ("filed", "decided", "decided_in_time", "granted")


def _count_column() -> Mapped[int]:
    return mapped_column(sa.Integer, nullable=False, default=0, server_default="0")


class TransferMonthlyStat(Model):
    """Transfers requested in one month under one (from, to, mode, status, working days to answer)."""

    __tablename__ = "transfer_monthly_stats"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    from_organization_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    to_organization_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    mode: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    working_days: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    transfers: Mapped[int] = _count_column()

    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "month",
            "from_organization_id",
            "to_organization_id",
            "mode",
            "status",
            "working_days",
            name="pk_transfer_monthly_stats",
        ),
        sa.Index("ix_transfer_monthly_stats_from_month", "from_organization_id", "month"),
        sa.Index("ix_transfer_monthly_stats_to_month", "to_organization_id", "month"),
    )


class LegalAidMonthlyStat(Model):
    """Applications filed at a centre, and decisions taken by it, in one month."""

    __tablename__ = "legal_aid_monthly_stats"

    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    centre_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    filed: Mapped[int] = _count_column()
    decided: Mapped[int] = _count_column()
    decided_in_time: Mapped[int] = _count_column()
    granted: Mapped[int] = _count_column()

    __table_args__ = (
        sa.PrimaryKeyConstraint("month", "centre_id", name="pk_legal_aid_monthly_stats"),
        sa.Index("ix_legal_aid_monthly_stats_centre_month", "centre_id", "month"),
    )


class TransferRegionMonthlyStat(Model):
    """Transfers requested in one month that a region (its whole subtree) sent, received or both, by pair of
    provinces, status and working days to answer."""

    __tablename__ = "transfer_region_monthly_stats"

    region_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    side: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    from_province: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    to_province: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    working_days: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    transfers: Mapped[int] = _count_column()

    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "region_code",
            "month",
            "side",
            "from_province",
            "to_province",
            "status",
            "working_days",
            name="pk_transfer_region_monthly_stats",
        ),
    )


class LegalAidRegionMonthlyStat(Model):
    """``legal_aid_monthly_stats`` summed over the centres of a region's subtree."""

    __tablename__ = "legal_aid_region_monthly_stats"

    region_code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    month: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    filed: Mapped[int] = _count_column()
    decided: Mapped[int] = _count_column()
    decided_in_time: Mapped[int] = _count_column()
    granted: Mapped[int] = _count_column()

    __table_args__ = (sa.PrimaryKeyConstraint("region_code", "month", name="pk_legal_aid_region_monthly_stats"),)


# --- incremental maintenance ---------------------------------------------------------------------------------

TRANSFER_COLUMNS = (
    "requested_on",
    "from_organization_id",
    "to_organization_id",
    "mode",
    "status",
    "working_days_to_answer",
)
APPLICATION_COLUMNS = ("filed_on", "filed_centre_id", "decided_on", "centre_id", "decide_by", "granted")
ORGANIZATION_COLUMNS = ("from_organization_id", "to_organization_id", "filed_centre_id", "centre_id")


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)  # enum members as their stored strings


@dataclass(frozen=True)
class _Place:
    """Where an organisation's counts roll up: its region and that region's ancestors, and its province."""

    ancestors: tuple[str, ...]
    province: str


def _region_places(connection: sa.Connection, codes: Iterable[str]) -> dict[str, _Place]:
    regions = Region.__table__
    rows = connection.execute(
        sa.select(regions.c.code, regions.c.path, sa.func.coalesce(regions.c.province_code, regions.c.code)).where(
            regions.c.code.in_(sorted(set(codes)))
        )
    )
    return {code: _Place(_ancestors(path, code), province) for code, path, province in rows}


def _organization_places(connection: sa.Connection, ids: Iterable[int | None]) -> dict[int, _Place]:
    """The place of each organisation, by its region as the database holds it now (one statement)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    orgs, regions = Organization.__table__, Region.__table__
    rows = connection.execute(
        sa.select(orgs.c.id, regions.c.code, regions.c.path, sa.func.coalesce(regions.c.province_code, regions.c.code))
        .join_from(orgs, regions, regions.c.code == orgs.c.region_code)
        .where(orgs.c.id.in_(wanted))
    )
    return {org_id: _Place(_ancestors(path, code), province) for org_id, code, path, province in rows}


class _Deltas:
    """Count changes summed per aggregate row, written table by table and key by key (one fixed lock order).
    ``places``: the place of every organisation the counted rows name (loaded before counting)."""

    TABLE_ORDER = (
        "transfer_monthly_stats",
        "transfer_region_monthly_stats",
        "legal_aid_monthly_stats",
        "legal_aid_region_monthly_stats",
    )

    def __init__(self, places: dict[int, _Place] | None = None) -> None:
        self.rows: dict[str, dict[tuple[tuple[str, Any], ...], dict[str, int]]] = {n: {} for n in self.TABLE_ORDER}
        self.places = places or {}

    def add(self, table: str, key: dict[str, Any], deltas: dict[str, int]) -> None:
        counts = self.rows[table].setdefault(tuple(key.items()), {})
        for name, value in deltas.items():
            counts[name] = counts.get(name, 0) + value

    def transfer(self, state: dict[str, Any] | None, sign: int) -> None:
        if state is None or state["requested_on"] is None:
            return
        days = state["working_days_to_answer"]
        key = {
            "month": month_start(state["requested_on"]),
            "from_organization_id": state["from_organization_id"],
            "to_organization_id": state["to_organization_id"],
            "mode": _plain(state["mode"]),
            "status": _plain(state["status"]),
            "working_days": NOT_ANSWERED if days is None else days,
        }
        self.add("transfer_monthly_stats", key, {"transfers": sign})
        sender, receiver = self.places.get(key["from_organization_id"]), self.places.get(key["to_organization_id"])
        self.transfer_regions(key, sender, receiver, sign)

    def transfer_regions(self, key: dict[str, Any], sender: _Place | None, receiver: _Place | None, delta: int) -> None:
        """The region rows of an organisation row's ``delta`` transfers (organisations at the given places)."""
        if sender is None or receiver is None:
            return  # an organisation that does not exist (the foreign key refuses it at commit)
        sent, received = set(sender.ancestors), set(receiver.ancestors)
        for code in sorted(sent | received):
            side = BOTH if code in sent and code in received else SENT if code in sent else RECEIVED
            region_key = {
                "region_code": code,
                "month": key["month"],
                "side": side,
                "from_province": sender.province,
                "to_province": receiver.province,
                "status": key["status"],
                "working_days": key["working_days"],
            }
            self.add("transfer_region_monthly_stats", region_key, {"transfers": delta})

    def legal_aid(self, month: date, centre_id: int, deltas: dict[str, int], place: _Place | None = None) -> None:
        """A centre-month's counts, and the same counts in every region of the centre's place (its current one
        unless given)."""
        self.add("legal_aid_monthly_stats", {"month": month, "centre_id": centre_id}, deltas)
        self.legal_aid_regions(month, place or self.places.get(centre_id), deltas)

    def legal_aid_regions(self, month: date, place: _Place | None, deltas: dict[str, int]) -> None:
        for code in place.ancestors if place is not None else ():
            self.add("legal_aid_region_monthly_stats", {"region_code": code, "month": month}, deltas)

    def application(self, state: dict[str, Any] | None, sign: int) -> None:
        if state is None:
            return
        if state["filed_on"] is not None:
            self.legal_aid(month_start(state["filed_on"]), state["filed_centre_id"], {"filed": sign})
        decided_on = state["decided_on"]
        if decided_on is not None:
            in_time = state["decide_by"] is not None and decided_on <= state["decide_by"]
            deltas = {"decided": sign, "decided_in_time": sign * in_time, "granted": sign * (state["granted"] is True)}
            self.legal_aid(month_start(decided_on), state["centre_id"], deltas)

    def write(self, connection: sa.Connection) -> None:
        """One INSERT … ON CONFLICT DO UPDATE per table, rows in key order; rows that net to zero are skipped."""
        for name in self.TABLE_ORDER:
            rows = {key: counts for key, counts in self.rows[name].items() if any(counts.values())}
            if not rows:
                continue
            table = db.metadata.tables[name]
            columns = sorted({column for counts in rows.values() for column in counts})
            ordered = sorted(rows.items(), key=lambda item: tuple(str(v) for _k, v in item[0]))
            stmt = _insert(connection, table).values(
                [{**dict(key), **{c: counts.get(c, 0) for c in columns}} for key, counts in ordered]
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[k for k, _v in ordered[0][0]], set_={c: table.c[c] + stmt.excluded[c] for c in columns}
            )
            connection.execute(stmt)


def _states(obj: object, columns: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before the flush, after it) of the counted columns of a persistent object, from attribute history."""
    attrs = instance_state(obj).attrs
    old, new = {}, {}
    for name in columns:
        history = attrs[name].history
        new[name] = getattr(obj, name)
        if history.deleted:
            old[name] = history.deleted[0]
        elif history.unchanged:
            old[name] = history.unchanged[0]
        else:  # never loaded and not set: unchanged by this flush (active history loads the old value on a set)
            old[name] = new[name]
    return old, new


def apply_flush(session: Session) -> None:
    """Move the contributions of the transfers and applications this flush inserted, changed or deleted
    (``after_flush``: the session's new/dirty/deleted and the attribute history still show the flush's changes),
    and the region rows of every organisation whose region it changed."""
    steps: list[tuple[str, dict[str, Any], int]] = []
    kinds = (("transfer", Transfer, TRANSFER_COLUMNS), ("application", LegalAidApplication, APPLICATION_COLUMNS))
    for kind, model, columns in kinds:
        for obj in session.new:
            if isinstance(obj, model):
                steps.append((kind, {name: getattr(obj, name) for name in columns}, 1))
        for obj in session.dirty:
            if isinstance(obj, model):
                old, new = _states(obj, columns)
                if {k: _plain(v) for k, v in old.items()} != {k: _plain(v) for k, v in new.items()}:
                    steps.extend(((kind, old, -1), (kind, new, 1)))
        for obj in session.deleted:
            if isinstance(obj, model):
                steps.append((kind, _states(obj, columns)[0], -1))
    moved = {}
    for obj in session.dirty:
        if isinstance(obj, Organization):
            old, new = _states(obj, ("region_code",))
            if old["region_code"] != new["region_code"]:
                moved[obj.id] = old["region_code"]
    if not steps and not moved:
        return
    connection = session.connection()
    ids = [state[c] for _kind, state, _sign in steps for c in ORGANIZATION_COLUMNS if c in state]
    deltas = _Deltas(_organization_places(connection, [*ids, *moved]))
    if moved:
        _move_organizations(connection, deltas, moved)
    for kind, state, sign in steps:
        (deltas.transfer if kind == "transfer" else deltas.application)(state, sign)
    if any(deltas.rows.values()):
        deltas.write(connection)


def _move_organizations(connection: sa.Connection, deltas: _Deltas, moved: dict[int, str]) -> None:
    """Organisations whose region changed (id → the region before): every organisation row naming one leaves the
    region rows of the old place for those of the new one (the organisation rows themselves stay). Counted from
    the organisation rows as they stood before this flush's own steps, which are counted at the new place."""
    old_places = _region_places(connection, moved.values())
    stats, la_stats = TransferMonthlyStat.__table__, LegalAidMonthlyStat.__table__
    rows = connection.execute(
        sa.select(stats).where(
            sa.or_(stats.c.from_organization_id.in_(sorted(moved)), stats.c.to_organization_id.in_(sorted(moved)))
        )
    ).all()
    others = {row.to_organization_id for row in rows} | {row.from_organization_id for row in rows}
    deltas.places.update(_organization_places(connection, others - set(deltas.places)))

    def before(org_id: int) -> _Place | None:
        return old_places.get(moved[org_id]) if org_id in moved else deltas.places.get(org_id)

    for row in rows:
        key = {"month": row.month, "status": row.status, "working_days": row.working_days}
        sender, receiver = row.from_organization_id, row.to_organization_id
        deltas.transfer_regions(key, before(sender), before(receiver), -row.transfers)
        deltas.transfer_regions(key, deltas.places.get(sender), deltas.places.get(receiver), row.transfers)
    for row in connection.execute(sa.select(la_stats).where(la_stats.c.centre_id.in_(sorted(moved)))):
        counts = {name: row._mapping[name] for name in LEGAL_AID_FIELDS}
        deltas.legal_aid_regions(row.month, before(row.centre_id), {k: -v for k, v in counts.items()})
        deltas.legal_aid_regions(row.month, deltas.places.get(row.centre_id), counts)


def _load_old_values(*_args: Any) -> None:
    """Registered with ``active_history``: setting a counted column loads the value it replaces (for the history)."""


def watch_counted_columns() -> None:
    """Make the ORM keep the old value of every counted column it writes (once, when the app wires the listeners)."""
    watched = (
        (Transfer, TRANSFER_COLUMNS),
        (LegalAidApplication, APPLICATION_COLUMNS),
        (Organization, ("region_code",)),
    )
    for model, columns in watched:
        for name in columns:
            attribute = getattr(model, name)
            if not sa.event.contains(attribute, "set", _load_old_values):
                sa.event.listen(attribute, "set", _load_old_values, active_history=True)


def apply_transfer_closed(connection: sa.Connection, transfer_id: int) -> None:
    """A pending request was closed by the transfers service's conditional UPDATE (answered, withdrawn or
    expired): move it from the pending row to the row of its new status and working days."""
    transfers, orgs, regions = Transfer.__table__, Organization.__table__, Region.__table__
    places: list[sa.ColumnElement[Any]] = []
    joined: sa.FromClause = transfers
    for side in ("from", "to"):  # the two organisations' places in the same statement
        org, region = orgs.alias(f"{side}_org"), regions.alias(f"{side}_region")
        joined = joined.join(org, org.c.id == transfers.c[f"{side}_organization_id"]).join(
            region, region.c.code == org.c.region_code
        )
        places += [region.c.code, region.c.path, sa.func.coalesce(region.c.province_code, region.c.code)]
    row = connection.execute(
        sa.select(*(transfers.c[name] for name in TRANSFER_COLUMNS), *places)
        .select_from(joined)
        .where(transfers.c.id == transfer_id)
    ).one()
    after = {name: row[i] for i, name in enumerate(TRANSFER_COLUMNS)}
    n = len(TRANSFER_COLUMNS)
    deltas = _Deltas(
        {
            after["from_organization_id"]: _Place(_ancestors(row[n + 1], row[n]), row[n + 2]),
            after["to_organization_id"]: _Place(_ancestors(row[n + 4], row[n + 3]), row[n + 5]),
        }
    )
    deltas.transfer({**after, "status": "pending", "working_days_to_answer": None}, -1)
    deltas.transfer(after, 1)
    deltas.write(connection)


# --- rebuild after bulk loads ----------------------------------------------------------------------------------


def _month_of(column: sa.ColumnElement[date]) -> sa.ColumnElement[date]:
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.date_trunc("month", column), sa.Date)
    return sa.func.date(column, "start of month")


def rebuild_flow_stats(date_from: date | None = None, date_to: date | None = None) -> dict[str, int]:
    """Recompute the transfer and legal-aid month rows for the whole months covering [from, to] (everything by
    default) from their tables, then their region rows from the organisation rows; flush only. Returns the rows
    now held per table in that span."""
    t, a = Transfer.__table__, LegalAidApplication.__table__
    stats, la_stats = TransferMonthlyStat.__table__, LegalAidMonthlyStat.__table__
    region_stats, la_region_stats = TransferRegionMonthlyStat.__table__, LegalAidRegionMonthlyStat.__table__
    low = month_start(date_from) if date_from else date(1, 1, 1)
    high = month_end(date_to) if date_to else date(9999, 12, 31)
    for table in (stats, region_stats, la_stats, la_region_stats):
        db.session.execute(table.delete().where(table.c.month.between(low, high)))
    keys = (
        _month_of(t.c.requested_on),
        t.c.from_organization_id,
        t.c.to_organization_id,
        sa.cast(t.c.mode, sa.String),
        sa.cast(t.c.status, sa.String),
        sa.func.coalesce(t.c.working_days_to_answer, NOT_ANSWERED),
    )
    db.session.execute(
        stats.insert().from_select(
            ["month", "from_organization_id", "to_organization_id", "mode", "status", "working_days", "transfers"],
            sa.select(*keys, sa.func.count()).where(t.c.requested_on.between(low, high)).group_by(*keys),
        )
    )
    filed = sa.select(
        _month_of(a.c.filed_on).label("month"),
        a.c.filed_centre_id.label("centre_id"),
        sa.literal(1).label("filed"),
        sa.literal(0).label("decided"),
        sa.literal(0).label("decided_in_time"),
        sa.literal(0).label("granted"),
    ).where(a.c.filed_on.between(low, high))
    decided = sa.select(
        _month_of(a.c.decided_on).label("month"),
        a.c.centre_id.label("centre_id"),
        sa.literal(0).label("filed"),
        sa.literal(1).label("decided"),
        sa.case((sa.and_(a.c.decide_by.is_not(None), a.c.decided_on <= a.c.decide_by), 1), else_=0).label(
            "decided_in_time"
        ),
        sa.case((a.c.granted.is_(True), 1), else_=0).label("granted"),
    ).where(a.c.decided_on.between(low, high))
    both = sa.union_all(filed, decided).subquery("steps")
    db.session.execute(
        la_stats.insert().from_select(
            ["month", "centre_id", *LEGAL_AID_FIELDS],
            sa.select(
                both.c.month, both.c.centre_id, *(sa.func.sum(both.c[name]) for name in LEGAL_AID_FIELDS)
            ).group_by(both.c.month, both.c.centre_id),
        )
    )
    db.session.execute(
        region_stats.insert().from_select([c.name for c in region_stats.columns], _transfer_rollup_select(low, high))
    )
    db.session.execute(
        la_region_stats.insert().from_select(
            ["region_code", "month", *LEGAL_AID_FIELDS], _legal_aid_rollup_select(low, high)
        )
    )
    db.session.flush()
    return {
        table.name: db.session.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.month.between(low, high))
        ).scalar_one()
        for table in (stats, region_stats, la_stats, la_region_stats)
    }


def _transfer_rollup_select(low: date, high: date) -> sa.Select[Any]:
    """The region rows of the organisation rows of [low, high]: each organisation row in every ancestor region of
    its sender (flag ``sent``) and of its receiver (``received``), one row per region with both flags merged
    (its side), then summed per region key with the provinces of the two organisations."""
    stats, orgs, regions = TransferMonthlyStat.__table__, Organization.__table__, Region.__table__
    pairs = _ancestor_pairs()
    row_key = [stats.c[c.name] for c in stats.primary_key.columns]
    halves = []
    for column, sent, received in (("from_organization_id", 1, 0), ("to_organization_id", 0, 1)):
        org = orgs.alias(f"{column}_org")
        halves.append(
            sa.select(
                *row_key,
                stats.c.transfers,
                pairs.c.ancestor.label("region_code"),
                sa.literal(sent).label("sent"),
                sa.literal(received).label("received"),
            )
            .select_from(stats.join(org, org.c.id == stats.c[column]).join(pairs, pairs.c.code == org.c.region_code))
            .where(stats.c.month.between(low, high))
        )
    flagged = sa.union_all(*halves).subquery("flagged")
    merged_key = [flagged.c[c.name] for c in stats.primary_key.columns]
    merged = (
        sa.select(
            *merged_key,
            flagged.c.transfers,
            flagged.c.region_code,
            sa.func.max(flagged.c.sent).label("sent"),
            sa.func.max(flagged.c.received).label("received"),
        )
        .group_by(*merged_key, flagged.c.transfers, flagged.c.region_code)
        .subquery("merged")
    )
    side = sa.case(
        (sa.and_(merged.c.sent == 1, merged.c.received == 1), BOTH), (merged.c.sent == 1, SENT), else_=RECEIVED
    )
    sender, receiver = orgs.alias("sender"), orgs.alias("receiver")
    sender_region, receiver_region = regions.alias("sender_region"), regions.alias("receiver_region")
    keys = (
        merged.c.region_code,
        merged.c.month,
        side,
        sa.func.coalesce(sender_region.c.province_code, sender_region.c.code),
        sa.func.coalesce(receiver_region.c.province_code, receiver_region.c.code),
        merged.c.status,
        merged.c.working_days,
    )
    return (
        sa.select(*keys, sa.func.sum(merged.c.transfers))
        .select_from(
            merged.join(sender, sender.c.id == merged.c.from_organization_id)
            .join(sender_region, sender_region.c.code == sender.c.region_code)
            .join(receiver, receiver.c.id == merged.c.to_organization_id)
            .join(receiver_region, receiver_region.c.code == receiver.c.region_code)
        )
        .group_by(*keys)
    )


def _legal_aid_rollup_select(low: date, high: date) -> sa.Select[Any]:
    """The centre-month rows of [low, high] summed into every ancestor region of the centre's region."""
    la_stats, orgs = LegalAidMonthlyStat.__table__, Organization.__table__
    pairs = _ancestor_pairs()
    keys = (pairs.c.ancestor, la_stats.c.month)
    return (
        sa.select(*keys, *(sa.func.sum(la_stats.c[name]) for name in LEGAL_AID_FIELDS))
        .select_from(
            la_stats.join(orgs, orgs.c.id == la_stats.c.centre_id).join(pairs, pairs.c.code == orgs.c.region_code)
        )
        .where(la_stats.c.month.between(low, high))
        .group_by(*keys)
    )


# --- reading --------------------------------------------------------------------------------------------------


def _in_scope(column: sa.ColumnElement[int], scope: Scope) -> sa.ColumnElement[bool]:
    from .queries import in_scope_organizations

    conditions = []
    if scope.region_code:
        conditions.append(in_scope_organizations(column, scope.region_code))
    if scope.organization_id:
        conditions.append(column == scope.organization_id)
    return sa.and_(*conditions) if conditions else sa.true()


def _side(from_column: Any, to_column: Any, scope: Scope, side: str | None) -> sa.ColumnElement[bool]:
    sent, received = _in_scope(from_column, scope), _in_scope(to_column, scope)
    if side == "sent":
        return sent
    if side == "received":
        return received
    return sa.or_(sent, received)


@dataclass
class FlowCounts:
    """One row of ``transfer_flows``: counts by status, the exact median working days to answer, and the pair of
    provinces when grouped."""

    total: int
    accepted: int
    declined: int
    expired: int
    withdrawn: int
    pending: int
    median: float | None
    from_province: str | None = None
    to_province: str | None = None


def median_of(histogram: Iterable[tuple[int, int]]) -> float | None:
    """The median of the values of a histogram ((value, count) pairs): the middle value, or the mean of the two
    middle values of an even count; None when empty."""
    ordered = sorted((value, count) for value, count in histogram if count > 0)
    n = sum(count for _value, count in ordered)
    if n == 0:
        return None
    wanted = {(n + 1) // 2, (n + 2) // 2}  # 1-based ranks of the middle one or two values
    picked, seen = [], 0
    for value, count in ordered:
        for rank in sorted(wanted):
            if seen < rank <= seen + count:
                picked.append(value)
        seen += count
    return sum(picked) / len(picked)


def _organization_flows(
    scope: Scope, date_from: date, date_to: date, side: str | None, by_province: bool
) -> sa.Select[Any]:
    """(n, [from_province, to_province,] status, days) from the organisation rows and the odd days."""
    stats, t = TransferMonthlyStat.__table__, Transfer.__table__
    day_ranges, months = split_period(date_from, date_to)
    pieces: list[sa.Select[Any]] = []
    for low, high in day_ranges:
        keys = (
            t.c.from_organization_id.label("from_id"),
            t.c.to_organization_id.label("to_id"),
            sa.cast(t.c.status, sa.String).label("status"),
            sa.func.coalesce(t.c.working_days_to_answer, NOT_ANSWERED).label("days"),
        )
        pieces.append(
            sa.select(*keys, sa.func.count().label("n"))
            .where(
                t.c.requested_on.between(low, high),
                _side(t.c.from_organization_id, t.c.to_organization_id, scope, side),
            )
            .group_by(*keys)
        )
    if months:
        pieces.append(
            sa.select(
                stats.c.from_organization_id.label("from_id"),
                stats.c.to_organization_id.label("to_id"),
                stats.c.status,
                stats.c.working_days.label("days"),
                stats.c.transfers.label("n"),
            ).where(
                stats.c.month.between(*months),
                _side(stats.c.from_organization_id, stats.c.to_organization_id, scope, side),
            )
        )
    union = sa.union_all(*pieces).subquery("pieces")
    frm, to, status, days, n = union.c.from_id, union.c.to_id, union.c.status, union.c.days, union.c.n
    group: list[sa.ColumnElement[Any]] = [status, days]
    stmt = sa.select(sa.func.sum(n).label("n"))
    if by_province:
        stmt, from_province, to_province = _provinces_joined(stmt.select_from(union), frm, to)
        stmt = stmt.add_columns(from_province, to_province)
        group = [from_province, to_province, *group]
    return stmt.add_columns(status.label("status"), days.label("days")).group_by(*group)


def _provinces_joined(
    stmt: sa.Select[Any], from_id: Any, to_id: Any
) -> tuple[sa.Select[Any], sa.Label[str], sa.Label[str]]:
    """The sender's and the receiver's province codes, with the joins they need."""
    sender, receiver = aliased(Organization), aliased(Organization)
    sender_region, receiver_region = aliased(Region), aliased(Region)
    from_province = sa.func.coalesce(sender_region.province_code, sender_region.code).label("from_province")
    to_province = sa.func.coalesce(receiver_region.province_code, receiver_region.code).label("to_province")
    stmt = (
        stmt.join(sender, sender.id == from_id)
        .join(sender_region, sender_region.code == sender.region_code)
        .join(receiver, receiver.id == to_id)
        .join(receiver_region, receiver_region.code == receiver.region_code)
    )
    return stmt, from_province, to_province


def _rollup_region(scope: Scope) -> Region | None:
    """The region whose rollup rows answer the scope: a real region alone (not an organisation or a studio in it,
    not a custom region, whose members' rows would count a transfer between two of them twice)."""
    if not scope.region_code or scope.organization_id or scope.studio_id:
        return None
    region = db.session.get(Region, scope.region_code)
    if region is None or region.level == RegionLevel.custom:
        return None
    return region


SIDES = {SENT: (SENT, BOTH), RECEIVED: (RECEIVED, BOTH), None: (SENT, RECEIVED, BOTH)}


def _region_flow_rows(region: Region, date_from: date, date_to: date) -> list[sa.Row[Any]]:
    """(side, from_province, to_province, status, days, n) of the region's transfers of the period, every side in
    one statement: its region rows, and the odd days of the base table with the side of each transfer worked out
    from its two organisations' regions (a prefix of the materialised path: the date range leads, and no list of
    organisations to plan)."""
    stats, t = TransferRegionMonthlyStat.__table__, Transfer.__table__
    orgs, regions = Organization.__table__, Region.__table__
    day_ranges, months = split_period(date_from, date_to)
    pieces: list[sa.Select[Any]] = []
    for low, high in day_ranges:
        sender, receiver = orgs.alias("sender"), orgs.alias("receiver")
        sender_region, receiver_region = regions.alias("sender_region"), regions.alias("receiver_region")
        sent, received = sender_region.c.path.startswith(region.path), receiver_region.c.path.startswith(region.path)
        keys = (
            sa.case((sa.and_(sent, received), BOTH), (sent, SENT), else_=RECEIVED).label("side"),
            sa.func.coalesce(sender_region.c.province_code, sender_region.c.code).label("from_province"),
            sa.func.coalesce(receiver_region.c.province_code, receiver_region.c.code).label("to_province"),
            sa.cast(t.c.status, sa.String).label("status"),
            sa.func.coalesce(t.c.working_days_to_answer, NOT_ANSWERED).label("days"),
        )
        pieces.append(
            sa.select(*keys, sa.func.count().label("n"))
            .select_from(
                t.join(sender, sender.c.id == t.c.from_organization_id)
                .join(sender_region, sender_region.c.code == sender.c.region_code)
                .join(receiver, receiver.c.id == t.c.to_organization_id)
                .join(receiver_region, receiver_region.c.code == receiver.c.region_code)
            )
            .where(t.c.requested_on.between(low, high), sa.or_(sent, received))
            .group_by(*keys)
        )
    if months:
        pieces.append(
            sa.select(
                stats.c.side,
                stats.c.from_province,
                stats.c.to_province,
                stats.c.status,
                stats.c.working_days.label("days"),
                stats.c.transfers.label("n"),
            ).where(stats.c.region_code == region.code, stats.c.month.between(*months))
        )
    union = sa.union_all(*pieces).subquery("pieces")
    group = [union.c[name] for name in ("side", "from_province", "to_province", "status", "days")]
    return list(db.session.execute(sa.select(*group, sa.func.sum(union.c.n).label("n")).group_by(*group)))


def scope_flows(scope: Scope, date_from: date, date_to: date) -> tuple[FlowCounts, FlowCounts, list[FlowCounts]]:
    """What the scope sent, what it received, and its transfers by pair of provinces: ``transfer_flows`` three
    times, or for a real region one statement over its region rows (and the odd days)."""
    region = _rollup_region(scope)
    if region is None:
        return (
            transfer_flows(scope, date_from, date_to, SENT)[0],
            transfer_flows(scope, date_from, date_to, RECEIVED)[0],
            transfer_flows(scope, date_from, date_to, by_province=True),
        )
    rows = _region_flow_rows(region, date_from, date_to)
    return (
        _folded(rows, SIDES[SENT], by_province=False)[0],
        _folded(rows, SIDES[RECEIVED], by_province=False)[0],
        _folded(rows, SIDES[None], by_province=True),
    )


def transfer_flows(
    scope: Scope, date_from: date, date_to: date, side: str | None = None, by_province: bool = False
) -> list[FlowCounts]:
    """The same counts and medians as ``queries.transfer_flows`` + ``queries.transfer_medians`` (one row, or one per
    pair of provinces in their order), from the month rows and the odd days of the base table."""
    region = _rollup_region(scope)
    if region is not None:
        return _folded(_region_flow_rows(region, date_from, date_to), SIDES[side], by_province)
    stmt = _organization_flows(scope, date_from, date_to, side, by_province)
    return _folded(list(db.session.execute(stmt)), None, by_province)


def _folded(rows: Sequence[sa.Row[Any]], sides: tuple[str, ...] | None, by_province: bool) -> list[FlowCounts]:
    """Rows of (n, status, days[, from_province, to_province][, side]) as counts and the median from the histogram;
    ``sides``: only the rows of these sides (region rows)."""
    groups: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for row in rows:
        if sides is not None and row.side not in sides:
            continue
        key = (row.from_province, row.to_province) if by_province else (None, None)
        entry = groups.setdefault(key, {"counts": dict.fromkeys(TRANSFER_STATUSES, 0), "histogram": []})
        entry["counts"][_plain(row.status)] += int(row.n)
        if row.days != NOT_ANSWERED:
            entry["histogram"].append((int(row.days), int(row.n)))
    if not by_province and not groups:
        groups[(None, None)] = {"counts": dict.fromkeys(TRANSFER_STATUSES, 0), "histogram": []}
    result = []
    for (from_code, to_code), entry in sorted(groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")):
        counts = entry["counts"]
        if by_province and not any(counts.values()):
            continue
        result.append(
            FlowCounts(
                total=sum(counts.values()),
                median=median_of(entry["histogram"]),
                from_province=from_code,
                to_province=to_code,
                **counts,
            )
        )
    return result


@dataclass
class LegalAidCounts:
    applications: int
    decided: int
    decided_in_time: int
    granted: int


def legal_aid_counts(scope: Scope, date_from: date, date_to: date) -> LegalAidCounts:
    """The same numbers as ``queries.legal_aid_counts``: whole months from the month rows (a real region's own
    rows, or the centres'), odd days from the applications (two index ranges each)."""
    stats, a = LegalAidMonthlyStat.__table__, LegalAidApplication.__table__
    region_stats = LegalAidRegionMonthlyStat.__table__
    region = _rollup_region(scope)
    day_ranges, months = split_period(date_from, date_to)

    def in_scope(column: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        """A real region: its centres by the path prefix (the date range leads; no list of ids to plan)."""
        if region is None:
            return _in_scope(column, scope)
        orgs, regions = Organization.__table__, Region.__table__
        return column.in_(
            sa.select(orgs.c.id)
            .join(regions, regions.c.code == orgs.c.region_code)
            .where(regions.c.path.startswith(region.path))
        )

    pieces: list[sa.Select[Any]] = []

    def zeros(*names: str) -> list[sa.Label[int]]:
        return [sa.literal(0).label(name) for name in names]

    for low, high in day_ranges:
        pieces.append(
            sa.select(sa.func.count().label("filed"), *zeros("decided", "decided_in_time", "granted")).where(
                a.c.filed_on.between(low, high), in_scope(a.c.filed_centre_id)
            )
        )
        pieces.append(
            sa.select(
                *zeros("filed"),
                sa.func.count().label("decided"),
                sa.func.count()
                .filter(sa.and_(a.c.decide_by.is_not(None), a.c.decided_on <= a.c.decide_by))
                .label("decided_in_time"),
                sa.func.count().filter(a.c.granted.is_(True)).label("granted"),
            ).where(a.c.decided_on.between(low, high), in_scope(a.c.centre_id))
        )
    if months and region is not None:
        pieces.append(
            sa.select(*(region_stats.c[name] for name in LEGAL_AID_FIELDS)).where(
                region_stats.c.region_code == region.code, region_stats.c.month.between(*months)
            )
        )
    elif months:
        pieces.append(
            sa.select(*(stats.c[name] for name in LEGAL_AID_FIELDS)).where(
                stats.c.month.between(*months), _in_scope(stats.c.centre_id, scope)
            )
        )
    union = sa.union_all(*pieces).subquery("pieces")
    row = db.session.execute(
        sa.select(*(sa.func.coalesce(sa.func.sum(union.c[name]), 0) for name in LEGAL_AID_FIELDS))
    ).one()
    return LegalAidCounts(*(int(value) for value in row))
