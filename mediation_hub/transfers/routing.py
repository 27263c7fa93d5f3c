"""Routing: where a cross-region case may go, under which agreement, and why one partner ranks first.

The regions a case involves are its parties' regions and the place it happened. An agreement (scope
mediation or both, active, in force) must cover all of them. The partners are active mediating
organisations inside the agreement's members that lie in the *other* region(s) involved: another
province under a regional agreement, another city under a city pairing. Each is scored by
category/specialty match, closeness to a party or the place, and its current open-case load (counted in
SQL), with the reasons spelled out in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from ..agreements.models import Agreement, AgreementKind, AgreementScope
from ..agreements.service import agreements_covering
from ..cases.models import Case, CaseStatus, PartyRole
from ..core.actor import Actor
from ..core.shanghai import today_shanghai
from ..extensions import db
from ..regions.models import Region, RegionLevel
from ..regions.service import subtree_condition
from ..registry.models import MEDIATING_KINDS, Mediator, Organization

NO_AGREEMENT = "没有覆盖所涉地区的协议 (no agreement covers the regions involved)"
NO_PARTNER = "协议地区内没有可接收的调解组织 (no partner organisation)"
NOT_CROSS_REGION = "案件不涉及跨区域 (not cross-region)"
ROUTE_LIMIT = 10
OPEN_STATUSES = (CaseStatus.registered, CaseStatus.accepted, CaseStatus.in_mediation)

# Score weights: a specialty match outweighs closeness; each open case costs a tenth of a point.
ORG_SPECIALTY_POINTS = 3.0
MEDIATOR_SPECIALTY_POINTS = 2.0
CLOSENESS_POINTS = {"county": 3.0, "city": 2.0, "province": 1.0}
LOAD_PENALTY_PER_CASE = 0.1
PARTY_ROLE_LABELS = {PartyRole.applicant: "申请人", PartyRole.respondent: "被申请人",
                     PartyRole.third_party: "第三人"}
PLACE_LABEL = "纠纷发生地"


@dataclass
class InvolvedRegion:
    """A region the case involves, who stands there, and the counties it stands for."""

    code: str
    name: str
    roles: list[str] = field(default_factory=list)
    counties: list[Region] = field(default_factory=list)  # itself, or a custom grouping's members


def involved_regions(case: Case) -> dict[str, InvolvedRegion]:
    """The case's parties' regions and its place of occurrence, with the roles standing in each."""
    found: dict[str, InvolvedRegion] = {}

    def add(code: str | None, role: str) -> None:
        if not code:
            return
        if code not in found:
            region = db.session.get(Region, code)
            if region is None:
                return
            members = [db.session.get(Region, c) for c in region.member_codes] \
                if region.level == RegionLevel.custom else [region]
            found[code] = InvolvedRegion(code, region.full_name, counties=[m for m in members if m is not None])
        if role not in found[code].roles:
            found[code].roles.append(role)

    for party in case.parties:
        add(party.region_code, PARTY_ROLE_LABELS[party.role])
    add(case.occurred_region_code, PLACE_LABEL)
    return found


def area_unit(agreement: Agreement) -> str:
    """A city pairing links cities; every other agreement links provinces."""
    return "prefecture_code" if agreement.kind == AgreementKind.pairing else "province_code"


def other_areas(involved: dict[str, InvolvedRegion], home: Region, unit: str) -> set[str]:
    """The provinces (or cities) involved other than the handling organisation's own."""
    areas = {getattr(r, unit) for inv in involved.values() for r in inv.counties}
    areas.discard(None)
    areas.discard(getattr(home, unit))
    return areas


def _partner_condition(agreement: Agreement, areas: set[str], handler_id: int) -> sa.ColumnElement[bool]:
    """SQL condition on Organization: an active mediating organisation in one of ``areas`` and inside
    the agreement's member regions."""
    return sa.and_(
        Organization.active.is_(True),
        Organization.kind.in_(list(MEDIATING_KINDS)),
        Organization.id != handler_id,
        sa.or_(*(subtree_condition(Organization.region_code, a) for a in sorted(areas))),
        sa.or_(*(subtree_condition(Organization.region_code, m) for m in agreement.member_codes)),
    )


def is_partner_along(agreement: Agreement, case: Case, organization_id: int) -> bool:
    """Whether ``organization_id`` is one of the partners the agreement offers for ``case``."""
    involved = involved_regions(case)
    areas = other_areas(involved, _region(case.organization.region_code), area_unit(agreement))
    if not areas:
        return False
    return db.session.scalar(sa.select(sa.exists().where(
        Organization.id == organization_id, _partner_condition(agreement, areas, case.organization_id))))


def _region(code: str) -> Region:
    return db.session.get(Region, code)


def open_case_load(organization_ids: list[int]) -> dict[int, int]:
    """Open cases (registered, accepted, in mediation) each organisation handles, counted in SQL."""
    if not organization_ids:
        return {}
    rows = db.session.execute(
        sa.select(Case.organization_id, sa.func.count(Case.id))
        .where(Case.organization_id.in_(organization_ids), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.organization_id))
    return dict(rows.all())


def _mediator_specialties(organization_ids: list[int]) -> dict[int, set[str]]:
    specialties: dict[int, set[str]] = {}
    rows = db.session.execute(sa.select(Mediator.organization_id, Mediator.specialties)
                              .where(Mediator.organization_id.in_(organization_ids), Mediator.active.is_(True)))
    for org_id, values in rows:
        specialties.setdefault(org_id, set()).update(values or [])
    return specialties


def _closeness(org_region: Region, involved: dict[str, InvolvedRegion]) -> tuple[float, str | None]:
    """The best closeness of the organisation to any region involved, with its reason."""
    best: tuple[float, str | None] = (0.0, None)
    for inv in involved.values():
        who = "、".join(inv.roles)
        for county in inv.counties:
            if _county_of(org_region) and _county_of(org_region) == _county_of(county):
                level, text = "county", f"与{who}同在{county.name} (same county as the {_en(inv.roles)})"
            elif county.prefecture_code and org_region.prefecture_code == county.prefecture_code:
                level, text = "city", f"与{who}同市 (same city as the {_en(inv.roles)})"
            elif county.province_code and org_region.province_code == county.province_code:
                level, text = "province", f"与{who}同省 (same province as the {_en(inv.roles)})"
            else:
                continue
            if CLOSENESS_POINTS[level] > best[0]:
                best = (CLOSENESS_POINTS[level], text)
    return best


def _county_of(region: Region) -> str | None:
    """The county-level code on a region's path (None above county level)."""
    parts = region.path.strip("/").split("/")
    return parts[2] if region.level != RegionLevel.custom and len(parts) >= 3 else None


_ROLE_EN = {"申请人": "applicant", "被申请人": "respondent", "第三人": "third party", PLACE_LABEL: "place of dispute"}


def _en(roles: list[str]) -> str:
    return " / ".join(_ROLE_EN.get(r, r) for r in roles)


def _score(org: Organization, agreement: Agreement, category: str, involved: dict[str, InvolvedRegion],
           load: int, mediator_specialties: set[str]) -> dict:
    score, reasons = 0.0, [f"{agreement.name} 覆盖所涉地区 (covered by {agreement.code})"]
    if category in (org.specialties or []) or category in org.name:
        score += ORG_SPECIALTY_POINTS
        reasons.append(f"组织专长与案件类别“{category}”相符 (organisation specialises in the category)")
    elif category in mediator_specialties:
        score += MEDIATOR_SPECIALTY_POINTS
        reasons.append(f"有擅长“{category}”的调解员 (a mediator specialises in the category)")
    points, text = _closeness(org.region, involved)
    if text:
        score += points
        reasons.append(text)
    score -= LOAD_PENALTY_PER_CASE * load
    reasons.append(f"在办案件 {load} 件 ({load} open cases)")
    return {"organization_id": org.id, "organization_name": org.name, "region_code": org.region_code,
            "region_name": org.region.full_name, "agreement_code": agreement.code,
            "agreement_name": agreement.name, "score": round(score, 2), "open_cases": load, "reasons": reasons}


def routes_for(case: Case, *, on: date | None = None, limit: int = ROUTE_LIMIT) -> dict:
    """Ranked partner organisations for ``case`` (already checked visible), or the reason there are none."""
    on = on or today_shanghai()
    involved = involved_regions(case)
    home = _region(case.organization.region_code)
    crossing = {unit: other_areas(involved, home, unit) for unit in ("province_code", "prefecture_code")}
    if not crossing["province_code"] and not crossing["prefecture_code"]:
        return {"routes": [], "reason": NOT_CROSS_REGION}
    agreements = agreements_covering(list(involved), AgreementScope.mediation, on)
    plans = [(a, crossing[area_unit(a)]) for a in agreements if crossing[area_unit(a)]]
    if not plans:
        # Cities of one province that no pairing links are not a cross-region case.
        return {"routes": [], "reason": NO_AGREEMENT if crossing["province_code"] else NOT_CROSS_REGION}
    best: dict[int, dict] = {}
    for agreement, areas in plans:
        orgs = db.session.scalars(sa.select(Organization).where(
            _partner_condition(agreement, areas, case.organization_id))).all()
        ids = [o.id for o in orgs]
        loads, specialties = open_case_load(ids), _mediator_specialties(ids)
        for org in orgs:
            route = _score(org, agreement, case.category.name, involved, loads.get(org.id, 0),
                           specialties.get(org.id, set()))
            if org.id not in best or route["score"] > best[org.id]["score"]:
                best[org.id] = route
    routes = sorted(best.values(), key=lambda r: (-r["score"], r["open_cases"], r["organization_name"]))[:limit]
    return {"routes": routes, "reason": None if routes else NO_PARTNER}


def routes_for_case(actor: Actor, case_id: int) -> dict:
    """The routes for a case the actor can see: ``{routes: [...], reason}`` (reason set when empty)."""
    from ..cases.service import get_case

    return routes_for(get_case(actor, case_id))
