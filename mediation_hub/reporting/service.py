"""Reports for coordinators, administrators and mediators: rates, transfer flows, legal aid, overdue work.

Scope rules: administrators (and the system) see everything; region-scoped roles (coordinators) only
their region's subtree (a region outside it is "not found"); organisation-scoped roles (mediators,
legal-aid officers) only their own organisation. The arithmetic is in ``queries``; this module decides
the scope, names the groups and turns counts into rates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, SupportsFloat

import sqlalchemy as sa
from flask_babel import gettext as _

from ..cases.models import CaseCategory
from ..core.actor import ORGANIZATION_SCOPED_ROLES, Actor
from ..core.messages import coded
from ..core.shanghai import today_shanghai
from ..errors import NotFound, ValidationFailed, collect
from ..extensions import db
from ..regions.models import Region, RegionLevel
from ..regions.service import children_of, get_region, is_within
from ..registry.models import Organization, OrgKind, Studio
from ..registry.service import visible_organization_ids
from . import aggregates, flow_aggregates, queries
from .queries import BASES, COUNT_FIELDS, Scope

GROUPINGS = ("month", "category", "region", "organization", "studio")
# rate name -> (numerator count, denominator count)
RATES = {
    "success_rate": ("agreement", "concluded"),
    "completion_rate": ("completed", "received"),
    "on_time_rate": ("concluded_on_time", "concluded"),
    "on_time_original_rate": ("concluded_on_time_original", "concluded"),
}
PASS_THROUGH_LEVELS = ("市辖区", "县")
# Where rates are counted: "aggregates" (daily/monthly tables, the default) or "events" (the event log itself,
# the reference; bench/dashboard.py switches to it to time the dashboard without the aggregates).
RATES_SOURCE = "aggregates"  # 北京市 → 市辖区 → 朝阳区: skip the single pass-through level


# --- scope -----------------------------------------------------------------------------------------------


def region_within(code: str, ancestor_code: str) -> bool:
    """Whether region ``code`` lies in ``ancestor_code``'s subtree; a custom region (雄安新区) does when
    every member does."""
    region = get_region(code)
    if region.level == RegionLevel.custom and code != ancestor_code:
        return bool(region.member_codes) and all(is_within(m, ancestor_code) for m in region.member_codes)
    ancestor = db.session.get(Region, ancestor_code)
    if ancestor is not None and ancestor.level != RegionLevel.custom:
        return region.path.startswith(ancestor.path)  # the subtree is the path prefix: no query
    return is_within(code, ancestor_code)


def _pin_regions(*codes: str | None) -> None:
    """Keep the scope's regions in the session for the whole request.

    The identity map holds objects weakly, so without a reference every ``get_region`` of the same code (scope
    check, subtree, names, grouping) would query again; on a busy database each round trip costs more than
    the rates query itself."""
    pinned = db.session.info.setdefault("reporting_pinned_regions", {})
    for code in codes:
        if code and code not in pinned:
            pinned[code] = db.session.get(Region, code)


def resolve_scope(
    actor: Actor, *, region_code: str | None = None, organization_id: int | None = None, studio_id: int | None = None
) -> Scope:
    """The scope the actor asked for, narrowed to what the actor may see; NotFound outside it."""
    _pin_regions(region_code, actor.region_code)
    if actor.role in ORGANIZATION_SCOPED_ROLES and not actor.sees_everything:
        if region_code is not None:
            raise NotFound("region")
        if organization_id is not None and organization_id != actor.organization_id:
            raise NotFound("organization")
        organization_id = actor.organization_id
    elif not actor.sees_everything and actor.region_code is not None:  # a region-scoped role: always has one
        if region_code is None:
            region_code = actor.region_code
        elif db.session.get(Region, region_code) is None or not region_within(region_code, actor.region_code):
            raise NotFound("region")
    if region_code is not None:
        get_region(region_code)
    if (
        organization_id is not None
        and db.session.scalar(visible_organization_ids(actor).where(Organization.id == organization_id)) is None
    ):
        raise NotFound("organization")
    if studio_id is not None:
        studio = db.session.get(Studio, studio_id)
        if (
            studio is None
            or db.session.scalar(visible_organization_ids(actor).where(Organization.id == studio.organization_id))
            is None
        ):
            raise NotFound("studio")
    return Scope(region_code=region_code, organization_id=organization_id, studio_id=studio_id)


def describe_scope(scope: Scope) -> dict[str, Any]:
    """The scope with its names, for the report header."""
    region = db.session.get(Region, scope.region_code) if scope.region_code else None
    org = db.session.get(Organization, scope.organization_id) if scope.organization_id else None
    studio = db.session.get(Studio, scope.studio_id) if scope.studio_id else None
    return {
        "region_code": scope.region_code,
        "region_name": region.full_name if region else "全国",
        "organization_id": scope.organization_id,
        "organization_name": org.name if org else None,
        "studio_id": scope.studio_id,
        "studio_name": studio.name if studio else None,
    }


def region_children(code: str | None) -> list[Region]:
    """The regions a report groups by: children (members for a custom region, provinces at the top),
    skipping a single pass-through level such as Beijing's 市辖区."""
    children = [r for r in db.session.scalars(children_of(code)) if code or r.level != RegionLevel.custom]
    while len(children) == 1 and children[0].name in PASS_THROUGH_LEVELS:
        children = list(db.session.scalars(children_of(children[0].code)))
    return children


def default_basis(actor: Actor, scope: Scope | None = None, group_by: str | None = None) -> str:
    """The basis a question is answered on when it names none: a governance centre (综治中心) answers for its
    territory, so its people see the occurred basis; everyone else, and any question about an organisation or a
    studio (its scope, a mediator's own organisation, or a grouping by them, which exist only where cases are
    handled), the handled one."""
    if scope is not None and (scope.organization_id or scope.studio_id or group_by in ("organization", "studio")):
        return "handled"
    if actor.organization_id is not None and actor.role not in ORGANIZATION_SCOPED_ROLES:
        kind = db.session.scalar(sa.select(Organization.kind).where(Organization.id == actor.organization_id))
        if kind == OrgKind.governance_centre:
            return "occurred"
    return "handled"


def check_basis(scope: Scope, basis: str, group_by: str | None = None) -> None:
    """The occurred basis counts places, not organisations: it takes a region scope and no grouping by
    organisation or studio (a 422 naming the field at fault)."""
    errors: dict[str, list[str]] = {}
    if basis not in BASES:
        collect(errors, "basis", coded("unknown_basis", "统计口径须为属地或承办"))
    elif basis == "occurred":
        if scope.organization_id or scope.studio_id:
            collect(
                errors,
                "basis",
                coded("occurred_needs_region", "属地口径按纠纷发生地统计，只能按地区查看，不能限定组织或工作室"),
            )
        if group_by in ("organization", "studio"):
            collect(errors, "group_by", coded("occurred_grouping", "属地口径不能按组织或工作室分组"))
    if errors:
        raise ValidationFailed(errors)


def _check_period(date_from: date, date_to: date, as_of: date) -> None:
    errors: dict[str, list[str]] = {}
    if date_to < date_from:
        collect(errors, "to", coded("period_reversed", "结束日期不能早于开始日期"))
    if as_of < date_from:
        collect(errors, "as_of", coded("as_of_before_from", "统计截止日不能早于开始日期"))
    if errors:
        raise ValidationFailed(errors)


# --- rates -----------------------------------------------------------------------------------------------


def fraction(numerator: int, denominator: int) -> float | None:
    """A rate between 0 and 1, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def with_rates(counts: Mapping[str, int]) -> dict[str, Any]:
    """Counts plus each rate (null for a zero denominator) and its numerator and denominator."""
    result: dict[str, Any] = dict(counts)
    result["rate_details"] = {}
    for name, (top, bottom) in RATES.items():
        result[name] = fraction(counts[top], counts[bottom])
        result["rate_details"][name] = {"value": result[name], "numerator": counts[top], "denominator": counts[bottom]}
    return result


def _counts(row: sa.Row[Any]) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in COUNT_FIELDS}


ZERO = dict.fromkeys(COUNT_FIELDS, 0)


def rates_report(
    actor: Actor,
    *,
    region_code: str | None = None,
    organization_id: int | None = None,
    studio_id: int | None = None,
    date_from: date,
    date_to: date,
    as_of: date | None = None,
    group_by: str | None = None,
    basis: str | None = None,
) -> dict[str, Any]:
    """The rates report ``{scope, basis, from, to, as_of, counted_to, group_by, totals, groups, case_flows}``
    (DESIGN.md "Rates").

    Each event counts where the case was handled when it happened (``basis`` handled, the default) or where the
    dispute arose (occurred, a governance centre's default); a rate is null when its denominator is 0. ``as_of``
    (default today in Asia/Shanghai) is the day whose state the report shows: nothing after it is counted, and
    ``counted_to`` (the earlier of ``to`` and ``as_of``) says so."""
    as_of = as_of or today_shanghai()
    _check_period(date_from, date_to, as_of)
    if group_by is not None and group_by not in GROUPINGS:
        raise ValidationFailed({"group_by": [f"one of {', '.join(GROUPINGS)}"]})
    scope = resolve_scope(actor, region_code=region_code, organization_id=organization_id, studio_id=studio_id)
    basis = basis or default_basis(actor, scope, group_by)
    check_basis(scope, basis, group_by)
    return report_for_scope(scope, date_from, date_to, as_of, group_by, basis=basis)


def report_for_scope(
    scope: Scope,
    date_from: date,
    date_to: date,
    as_of: date,
    group_by: str | None,
    *,
    source: str | None = None,
    basis: str = "handled",
) -> dict[str, Any]:
    """The rates report for an already-checked scope and basis (also used to freeze snapshots).

    ``source`` "aggregates" (the daily/monthly tables, fast) or "events" (the event log itself, the
    reference the aggregates are tested against); both give the same numbers."""
    totals = with_rates(_counts(rate_rows(scope, date_from, date_to, as_of, None, source=source, basis=basis)[0]))
    groups = _groups(scope, date_from, date_to, as_of, group_by, source=source, basis=basis) if group_by else []
    counted_to = min(date_to, as_of)
    return {
        "scope": describe_scope(scope),
        "basis": basis,
        "from": date_from,
        "to": date_to,
        "as_of": as_of,
        "counted_to": counted_to,
        "group_by": group_by,
        "totals": totals,
        "groups": groups,
        "case_flows": case_flows(scope, date_from, counted_to, totals, basis=basis, source=source),
    }


def case_flows(
    scope: Scope,
    date_from: date,
    counted_to: date,
    totals: Mapping[str, Any],
    *,
    basis: str = "handled",
    source: str | None = None,
) -> dict[str, int]:
    """The flows that reconcile the figures (DESIGN.md "Rates"): open at the start of the period, registered,
    handed in and out by accepted transfers, concluded, declined, open at ``counted_to``; so that
    open_at_start + registered + transferred_in − transferred_out = concluded + declined + open_at_end."""
    before = date_from - timedelta(days=1)
    if (source or RATES_SOURCE) == "events":
        # the whole country's moves are those to and from other hubs' organisations (queries.move_counts)
        moved = queries.move_counts(scope, date_from, counted_to) if basis == "handled" else {}
        start, end = queries.open_count(scope, before, basis), queries.open_count(scope, counted_to, basis)
    else:
        moved = aggregates.move_counts(scope, date_from, counted_to, basis)
        start, end = aggregates.open_count(scope, before, basis), aggregates.open_count(scope, counted_to, basis)
    return {
        "open_at_start": start,
        "registered": totals["received"],
        "transferred_in": moved.get("transferred_in", 0),
        "transferred_out": moved.get("transferred_out", 0),
        "concluded": totals["concluded"],
        "declined": totals["declined"],
        "open_at_end": end,
    }


def rate_rows(
    scope: Scope,
    date_from: date,
    date_to: date,
    as_of: date,
    group_by: str | None,
    *,
    children: list[Region] | None = None,
    fallback_region: str | None = None,
    source: str | None = None,
    basis: str = "handled",
) -> Sequence[sa.Row[Any]]:
    """The count rows of a rates report, from the aggregates or (``source="events"``) from the event log."""
    source = source or RATES_SOURCE
    if source == "events":
        grouping = queries.grouping_for(group_by, children=children, fallback_region=fallback_region, basis=basis)
        return queries.rate_counts(scope, date_from, date_to, as_of, grouping, basis=basis)
    if source != "aggregates":
        raise ValueError(f"unknown rates source {source!r}")
    return aggregates.rate_counts(
        scope, date_from, date_to, as_of, group_by, children=children, fallback_region=fallback_region, basis=basis
    )


def _groups(
    scope: Scope,
    date_from: date,
    date_to: date,
    as_of: date,
    group_by: str,
    *,
    source: str | None = None,
    basis: str = "handled",
) -> list[dict[str, Any]]:
    children = region_children(scope.region_code) if group_by == "region" else None
    rows = {
        row.key: _counts(row)
        for row in rate_rows(
            scope,
            date_from,
            date_to,
            as_of,
            group_by,
            children=children,
            fallback_region=scope.region_code or "",
            source=source,
            basis=basis,
        )
    }
    if group_by == "month":
        rows = {f"{key // 100:04d}-{key % 100:02d}": counts for key, counts in rows.items()}
    keys_labels = _labels(group_by, rows, date_from, min(date_to, as_of), children, scope)
    return [{"key": key, "label": label, **with_rates(rows.get(key, ZERO))} for key, label in keys_labels]


def _labels(
    group_by: str,
    rows: Mapping[str | int, dict[str, int]],
    first: date,
    last: date,
    children: list[Region] | None,
    scope: Scope,
) -> list[tuple[str | int, str]]:
    """Groups in display order with their labels; every month and every child region is listed (zeros
    included) so trends and comparisons have no holes."""
    if group_by == "month":
        return (
            [(f"{y:04d}-{m:02d}", _("%(year)s年%(month)s月", year=y, month=m)) for y, m in _months(first, last)]
            if first <= last
            else []
        )
    if group_by == "region":
        listed: list[tuple[str | int, str]] = [(child.code, child.name) for child in children or []]
        own = scope.region_code or ""
        if rows.get(own):  # events at the chosen region itself (e.g. a province-level organisation)
            region = db.session.get(Region, own)
            listed.append((own, _("%(region)s本级", region=region.name) if region else _("本级")))
        return listed
    if group_by == "category":
        categories = dict(
            db.session.execute(sa.select(CaseCategory.code, CaseCategory.name).order_by(CaseCategory.position))
            .tuples()
            .all()
        )
        return [(code, name) for code, name in categories.items() if code in rows]
    model = Organization if group_by == "organization" else Studio
    names: dict[str | int, str] = dict(
        db.session.execute(sa.select(model.id, model.name).where(model.id.in_(list(rows)))).tuples().all()
    )
    return sorted(((key, names.get(key, str(key))) for key in rows), key=lambda kv: kv[1])


def _months(first: date, last: date) -> Iterator[tuple[int, int]]:
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


# --- transfers, legal aid, overdue ------------------------------------------------------------------------


def _flow_stats(counts: Any, median: SupportsFloat | None) -> dict[str, Any]:
    answered_or_expired = counts.accepted + counts.declined + counts.expired
    return {
        "total": counts.total,
        **{name: getattr(counts, name) for name in queries.TRANSFER_OUTCOMES},
        "acceptance_rate": fraction(counts.accepted, answered_or_expired),
        "acceptance_rate_details": {"numerator": counts.accepted, "denominator": answered_or_expired},
        "median_working_days": float(median) if median is not None else None,
    }


def flows_for_scope(scope: Scope, date_from: date, date_to: date, source: str = "aggregates") -> dict[str, Any]:
    """Transfers sent and received by the scope, and the flows between provinces.

    ``source="aggregates"`` (the default) reads the month aggregates and the odd days of the period
    (``flow_aggregates.scope_flows``: a real region's rollup rows in one statement, else the organisation rows);
    ``"tables"`` counts the transfers table itself (the reference the tests compare with)."""
    sides: dict[str, dict[str, Any]] = {}
    rows: list[tuple[tuple[str, str], Any, Any]] = []
    if source == "aggregates":
        sent, received, by_pair = flow_aggregates.scope_flows(scope, date_from, date_to)
        sides = {"sent": _flow_stats(sent, sent.median), "received": _flow_stats(received, received.median)}
        for flow in by_pair:
            rows.append(((flow.from_province or "", flow.to_province or ""), flow, flow.median))
    else:
        in_counts = queries.median_in_counts()
        for side in ("sent", "received"):
            counts = queries.transfer_flows(scope, date_from, date_to, side)[0]
            median = counts.median if in_counts else queries.transfer_medians(scope, date_from, date_to, side)[0].median
            sides[side] = _flow_stats(counts, median)
        medians = (
            {}
            if in_counts
            else {
                (r.from_province, r.to_province): r.median
                for r in queries.transfer_medians(scope, date_from, date_to, by_province=True)
            }
        )
        for row in queries.transfer_flows(scope, date_from, date_to, by_province=True):
            key = (row.from_province, row.to_province)
            rows.append((key, row, row.median if in_counts else medians.get(key)))
    names = dict(
        db.session.execute(sa.select(Region.code, Region.name).where(Region.level == RegionLevel.province))
        .tuples()
        .all()
    )
    pairs = []
    for key, row, median in rows:
        pairs.append(
            {
                "from_region_code": key[0],
                "from_region_name": names.get(key[0], key[0]),
                "to_region_code": key[1],
                "to_region_name": names.get(key[1], key[1]),
                **_flow_stats(row, median),
            }
        )
    return {
        "sent": sides["sent"]["total"],
        "received": sides["received"]["total"],
        "outgoing": sides["sent"],
        "incoming": sides["received"],
        "pairs": pairs,
    }


def transfer_flows_report(
    actor: Actor, *, region_code: str | None = None, organization_id: int | None = None, date_from: date, date_to: date
) -> dict[str, Any]:
    """Cross-region transfer figures for the actor's scope: sent, received, accepted, declined, expired,
    acceptance rate and median working days to answer, overall and per pair of provinces."""
    _check_period(date_from, date_to, date_to)
    scope = resolve_scope(actor, region_code=region_code, organization_id=organization_id)
    return {
        "scope": describe_scope(scope),
        "from": date_from,
        "to": date_to,
        "flows": flows_for_scope(scope, date_from, date_to),
        "legal_aid": legal_aid_for_scope(scope, date_from, date_to),
    }


def legal_aid_for_scope(
    scope: Scope, date_from: date, date_to: date, source: str = "aggregates"
) -> dict[str, Any] | None:
    """Applications filed, decided within the 7-day limit ÷ decided, granted ÷ decided; None for a studio (studios
    handle no legal aid). ``source``: the month aggregates (default) or ``"tables"`` (the reference)."""
    if scope.studio_id:
        return None
    row: Any
    if source == "aggregates":
        row = flow_aggregates.legal_aid_counts(scope, date_from, date_to)
    else:
        row = queries.legal_aid_counts(scope, date_from, date_to)
    return {
        "applications": row.applications,
        "decided": row.decided,
        "decided_in_time": row.decided_in_time,
        "granted": row.granted,
        "in_time_rate": fraction(row.decided_in_time, row.decided),
        "grant_rate": fraction(row.granted, row.decided),
    }


def overdue_for_scope(scope: Scope, as_of: date, limit: int = 50) -> dict[str, Any]:
    """Open cases past their time limit (and pending transfers past their answer-by date) on ``as_of``."""
    categories = dict(db.session.execute(sa.select(CaseCategory.code, CaseCategory.name)).tuples().all())
    cases = [
        {
            "case_id": r.id,
            "number": r.number,
            "category": categories.get(r.category_code, r.category_code),
            "status": r.status.value,
            "due_on": r.due_on,
            "due_on_provisional": r.due_on_provisional,
            "days_overdue": (as_of - r.due_on).days,
            "organization_id": r.organization_id,
            "organization_name": r.organization_name,
        }
        for r in queries.overdue_cases(scope, as_of, limit)
    ]
    transfers = []
    if not scope.studio_id:
        transfers = [
            {
                "transfer_id": r.id,
                "case_id": r.case_id,
                "respond_by": r.respond_by,
                "respond_by_provisional": r.respond_by_provisional,
                "days_overdue": (as_of - r.respond_by).days,
                "mode": r.mode.value,
                "from_name": r.from_name,
                "to_name": r.to_name,
            }
            for r in queries.overdue_transfers(scope, as_of, limit)
        ]
    return {"case_count": queries.overdue_case_count(scope, as_of), "cases": cases, "transfers": transfers}


def overdue_report(
    actor: Actor, *, region_code: str | None = None, organization_id: int | None = None, as_of: date | None = None
) -> dict[str, Any]:
    """The overdue list for the actor's scope."""
    scope = resolve_scope(actor, region_code=region_code, organization_id=organization_id)
    as_of = as_of or today_shanghai()
    return {"scope": describe_scope(scope), "as_of": as_of, **overdue_for_scope(scope, as_of)}


def dashboard(
    actor: Actor,
    *,
    region_code: str | None,
    date_from: date,
    date_to: date,
    as_of: date | None = None,
    basis: str | None = None,
) -> dict[str, Any]:
    """Everything the officials' dashboard shows, for one region, period and basis (属地 or 承办; studios only
    on the handled basis: a place has no studios)."""
    as_of = as_of or today_shanghai()
    _check_period(date_from, date_to, as_of)
    scope = resolve_scope(actor, region_code=region_code)
    basis = basis or default_basis(actor, scope)
    check_basis(scope, basis)
    report = report_for_scope(scope, date_from, date_to, as_of, None, basis=basis)
    return {
        "scope": report["scope"],
        "basis": basis,
        "from": date_from,
        "to": date_to,
        "as_of": as_of,
        "counted_to": report["counted_to"],
        "totals": report["totals"],
        "case_flows": report["case_flows"],
        "by_category": _groups(scope, date_from, date_to, as_of, "category", basis=basis),
        "by_month": _groups(scope, date_from, date_to, as_of, "month", basis=basis),
        "by_region": _groups(scope, date_from, date_to, as_of, "region", basis=basis),
        "by_studio": _groups(scope, date_from, date_to, as_of, "studio") if basis == "handled" else [],
        "flows": flows_for_scope(scope, date_from, date_to),
        "legal_aid": legal_aid_for_scope(scope, date_from, date_to),
        "overdue": overdue_for_scope(scope, as_of),
    }


def region_choices(actor: Actor) -> list[Region]:
    """Regions the dashboard offers: the actor's own, its children, and custom regions inside it (雄安新区
    for Hebei); for an administrator the provinces and the custom regions."""
    own = actor.region_code if not actor.sees_everything else None
    regions = [get_region(own)] if own else []
    regions += region_children(own)
    customs = db.session.scalars(sa.select(Region).where(Region.level == RegionLevel.custom).order_by(Region.code))
    for custom in customs:
        if custom not in regions and (own is None or region_within(custom.code, own)):
            regions.append(custom)
    return regions


def default_period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """A missing end is today; a missing start is the first of January of the end's year."""
    date_to = date_to or today_shanghai()
    return date_from or date(date_to.year, 1, 1), date_to
