"""Routing: where a cross-region case may go, under which agreement, and why one partner ranks first.

The regions a case involves are its parties' regions and the place it happened. An agreement (scope
mediation or both, active, in force) must cover all of them. The partners are active mediating
organisations inside the agreement's members that lie in the *other* region(s) involved: another
province under a regional agreement, another city under a city pairing.

How partners are ranked (the rule people read as 推荐理由, one sentence per reason):

1. Specialty fit comes first. An organisation's specialties are the case categories it declares (its
   ``specialties``, by category name or code, "纠纷" ignored) plus the categories its own name carries
   (北京市医疗纠纷人民调解委员会 → 医疗). An organisation that declares the case's category *matches*
   (3 points); one that declares nothing is *general* (0 points); one whose specialties are all other
   categories is *off-specialty*: it never scores for them and ranks below every matching or general
   organisation (10 points off, and the sort puts it after them whatever its other points), so a
   medical-dispute committee is never first for a contract dispute. Unless the organisation itself matches,
   an active mediator of it who specialises in the category adds 2.
2. Closeness to a party or the place of the dispute: same county 3, same city 2, same province 1 (the best).
3. Load: each open case (registered, accepted, in mediation; counted in SQL) costs 0.1, at most 2 points.
4. Ties: fewer open cases, then the name.

``score`` is the sum, so it orders the list the same way. Each reason is a translated sentence with a
stable code beside it (``reasons`` and ``reason_codes`` are parallel lists)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ..agreements.models import Agreement, AgreementKind, AgreementScope
from ..agreements.service import agreements_covering
from ..cases.models import Case, CaseCategory, CaseStatus, PartyRole
from ..core.actor import Actor
from ..core.i18n import N_
from ..core.shanghai import today_shanghai
from ..extensions import db
from ..regions.models import Region, RegionLevel
from ..regions.service import subtree_condition
from ..registry.models import MEDIATING_KINDS, Mediator, Organization
from .policy import POLICY

# Why there is no route (translated where it is returned, its machine code beside it).
NO_AGREEMENT = N_("没有覆盖所涉地区的协议")
NO_PARTNER = N_("协议地区内没有可接收的调解组织")
NOT_CROSS_REGION = N_("案件不涉及跨区域")
NO_ROUTE_CODES = {NO_AGREEMENT: "no_agreement", NO_PARTNER: "no_partner", NOT_CROSS_REGION: "not_cross_region"}
ROUTE_LIMIT = 10
OPEN_STATUSES = (CaseStatus.registered, CaseStatus.accepted, CaseStatus.in_mediation)

# Score weights (see the module docstring): a specialty match outweighs closeness; each open case costs a
# tenth of a point, at most LOAD_PENALTY_CAP, so the off-specialty penalty always outweighs the rest.
ORG_SPECIALTY_POINTS = 3.0
MEDIATOR_SPECIALTY_POINTS = 2.0
OFF_SPECIALTY_PENALTY = 10.0
CLOSENESS_POINTS = {"county": 3.0, "city": 2.0, "province": 1.0}
LOAD_PENALTY_PER_CASE = 0.1
LOAD_PENALTY_CAP = 2.0
PARTY_ROLE_LABELS = {
    PartyRole.applicant: N_("申请人"),
    PartyRole.respondent: N_("被申请人"),
    PartyRole.third_party: N_("第三人"),
}
PLACE_LABEL = N_("纠纷发生地")
# specialty fit of an organisation for a case's category (sort rank: higher first)
FIT_MATCH, FIT_GENERAL, FIT_OFF = "match", "general", "off_specialty"
FIT_RANK = {FIT_MATCH: 1, FIT_GENERAL: 1, FIT_OFF: 0}


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
    # the regions and the ancestors their full names read, in one statement (the session holds them only weakly)
    held = _with_ancestors({p.region_code for p in case.parties if p.region_code} | {case.occurred_region_code})

    def add(code: str | None, role: str) -> None:
        if not code:
            return
        if code not in found:
            region = db.session.get(Region, code)
            if region is None:
                return
            members = (
                [db.session.get(Region, c) for c in region.member_codes]
                if region.level == RegionLevel.custom
                else [region]
            )
            found[code] = InvolvedRegion(code, region.full_name, counties=[m for m in members if m is not None])
        if role not in found[code].roles:
            found[code].roles.append(role)

    for party in case.parties:
        add(party.region_code, PARTY_ROLE_LABELS[party.role])
    add(case.occurred_region_code, PLACE_LABEL)
    del held
    return found


def _with_ancestors(codes: set[str]) -> list[Region]:
    """The regions of ``codes`` with their parents, prefectures and provinces (what ``Region.full_name`` walks up
    to), read in one statement into the session, so that the walk finds them there. Deeper ancestors (a village's
    town) still load on their own."""
    wanted = sa.select(Region).where(Region.code.in_(codes)).subquery()
    above = sa.union(
        sa.select(wanted.c.parent_code), sa.select(wanted.c.prefecture_code), sa.select(wanted.c.province_code)
    )
    return list(db.session.scalars(sa.select(Region).where(sa.or_(Region.code.in_(codes), Region.code.in_(above)))))


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
    return db.session.execute(
        sa.select(
            sa.exists().where(
                Organization.id == organization_id, _partner_condition(agreement, areas, case.organization_id)
            )
        )
    ).scalar_one()


def _region(code: str) -> Region:
    return db.session.get_one(Region, code)  # an organisation's region (a foreign key): always there


def open_case_load(organization_ids: list[int]) -> dict[int, int]:
    """Open cases (registered, accepted, in mediation) each organisation handles, counted in SQL."""
    if not organization_ids:
        return {}
    rows = db.session.execute(
        sa.select(Case.organization_id, sa.func.count(Case.id))
        .where(Case.organization_id.in_(organization_ids), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.organization_id)
    )
    return dict(rows.tuples().all())


def _mediator_specialties(organization_ids: list[int]) -> dict[int, set[str]]:
    specialties: dict[int, set[str]] = {}
    rows = db.session.execute(
        sa.select(Mediator.organization_id, Mediator.specialties).where(
            Mediator.organization_id.in_(organization_ids), Mediator.active.is_(True)
        )
    )
    for org_id, values in rows:
        specialties.setdefault(org_id, set()).update(values or [])
    return specialties


@dataclass(frozen=True)
class Reason:
    """One reason a partner is suggested: a stable machine code and the sentence people read."""

    code: str
    text: str


CLOSENESS_TEXTS = {
    "county": N_("与%(who)s同在%(place)s（同一区县）"),
    "city": N_("与%(who)s同在%(place)s（同一地级市）"),
    "province": N_("与%(who)s同在%(place)s（同一省份）"),
}


def _closeness(org_region: Region, involved: dict[str, InvolvedRegion]) -> tuple[float, Reason | None]:
    """The best closeness of the organisation to any region involved, with its reason."""
    best: tuple[float, Reason | None] = (0.0, None)
    for inv in involved.values():
        for county in inv.counties:
            level = _closeness_level(org_region, county)
            if level is not None and CLOSENESS_POINTS[level] > best[0]:
                who = _("、").join(_(role) for role in inv.roles)
                place = _place_name(county, level)
                best = (
                    CLOSENESS_POINTS[level],
                    Reason(f"same_{level}", _(CLOSENESS_TEXTS[level], who=who, place=place)),
                )
    return best


def _closeness_level(org_region: Region, county: Region) -> str | None:
    if _county_of(org_region) and _county_of(org_region) == _county_of(county):
        return "county"
    if county.prefecture_code and org_region.prefecture_code == county.prefecture_code:
        return "city"
    if county.province_code and org_region.province_code == county.province_code:
        return "province"
    return None


def _place_name(county: Region, level: str) -> str:
    """The shared county, city or province by name (a municipality's 市辖区 reads as the municipality)."""
    if level == "county":
        return county.name
    code = county.prefecture_code if level == "city" else county.province_code
    region = db.session.get(Region, code) if code else None
    if region is not None and region.name == "市辖区" and region.parent is not None:
        region = region.parent
    return region.name if region is not None else county.name


def _county_of(region: Region) -> str | None:
    """The county-level code on a region's path (None above county level)."""
    parts = region.path.strip("/").split("/")
    return parts[2] if region.level != RegionLevel.custom and len(parts) >= 3 else None


def category_names() -> dict[str, str]:
    """Every case category: code -> Chinese name."""
    return dict(db.session.execute(sa.select(CaseCategory.code, CaseCategory.name)).tuples().all())


def as_category_codes(values: list[str] | None, categories: dict[str, str]) -> set[str]:
    """The category codes a specialties list names (by code or by name, a trailing "纠纷" ignored); free
    words that name no category (商事, 调解) are not specialties of any category."""
    by_name = {name: code for code, name in categories.items()}
    codes = set()
    for value in values or []:
        word = str(value).strip().removesuffix("纠纷")
        code = word if word in categories else by_name.get(word)
        if code is not None:
            codes.add(code)
    return codes


def organization_specialties(org: Organization, categories: dict[str, str]) -> set[str]:
    """The categories an organisation specialises in: those it declares and those its name carries
    (医疗纠纷人民调解委员会 is a medical-dispute committee even with an empty list). 其他 is never a specialty."""
    other = {code for code, name in categories.items() if name == "其他"}
    named = {code for code, name in categories.items() if name in org.name}
    return (as_category_codes(org.specialties, categories) | named) - other


def specialty_fit(category_code: str, specialties: set[str]) -> str:
    """``match`` (it declares the category), ``general`` (it declares none) or ``off_specialty``."""
    if category_code in specialties:
        return FIT_MATCH
    return FIT_OFF if specialties else FIT_GENERAL


def _specialty_reasons(
    fit: str, category: CaseCategory, org_specialties: set[str], mediator_match: bool, categories: dict[str, str]
) -> tuple[float, list[Reason]]:
    """Points and reasons of the specialty fit (a mediator's specialty counts unless the organisation matches)."""
    points, reasons = 0.0, []
    if fit == FIT_MATCH:
        points += ORG_SPECIALTY_POINTS
        reasons.append(Reason("specialty_match", _("擅长%(category)s纠纷", category=_(category.name))))
    elif fit == FIT_GENERAL:
        reasons.append(Reason("general_organization", _("综合性调解组织，可受理各类纠纷")))
    else:
        points -= OFF_SPECIALTY_PENALTY
        names = "、".join(_(categories[c]) for c in sorted(org_specialties, key=list(categories).index))
        reasons.append(
            Reason(
                "off_specialty",
                _("专门调解%(specialties)s纠纷，与本案类别不符，排在综合性调解组织之后", specialties=names),
            )
        )
    if fit != FIT_MATCH and mediator_match:
        points += MEDIATOR_SPECIALTY_POINTS
        reasons.append(Reason("mediator_specialty", _("有擅长%(category)s纠纷的调解员", category=_(category.name))))
    return points, reasons


def _load_reason(load: int) -> Reason:
    if load == 0:
        return Reason("open_cases", _("目前没有在办案件"))
    return Reason("open_cases", _("目前在办案件 %(count)s 件", count=load))


def _score(
    org: Organization,
    agreement: Agreement,
    category: CaseCategory,
    involved: dict[str, InvolvedRegion],
    load: int,
    mediator_specialties: set[str],
    categories: dict[str, str],
) -> dict[str, Any]:
    """One partner's route: its score, its specialty fit and its reasons (see the module docstring)."""
    reasons = [Reason("agreement_covers", _("同在%(agreement)s内", agreement=agreement.name))]
    org_specialties = organization_specialties(org, categories)
    fit = specialty_fit(category.code, org_specialties)
    mediator_match = category.code in as_category_codes(list(mediator_specialties), categories)
    score, specialty = _specialty_reasons(fit, category, org_specialties, mediator_match, categories)
    reasons += specialty
    points, closeness = _closeness(org.region, involved)
    if closeness is not None:
        score += points
        reasons.append(closeness)
    score -= min(LOAD_PENALTY_PER_CASE * load, LOAD_PENALTY_CAP)
    reasons.append(_load_reason(load))
    return {
        "organization_id": org.id,
        "organization_name": org.name,
        "hub_id": org.hub_id,  # another hub's organisation (federation): the request travels there
        "region_code": org.region_code,
        "region_name": org.region.full_name,
        "agreement_code": agreement.code,
        "agreement_name": agreement.name,
        "score": round(score, 2),
        "specialty_fit": fit,
        "open_cases": load,
        "reasons": [r.text for r in reasons],
        "reason_codes": [r.code for r in reasons],
    }


def _rank(route: dict[str, Any]) -> tuple[int, float, int, str]:
    """The sort key: specialty fit, then score, then fewer open cases, then the name."""
    return (-FIT_RANK[route["specialty_fit"]], -route["score"], route["open_cases"], route["organization_name"])


def _no_route(reason: str) -> dict[str, Any]:
    return {"routes": [], "reason": _(reason), "reason_code": NO_ROUTE_CODES[reason]}


def routes_for(case: Case, *, on: date | None = None, limit: int = ROUTE_LIMIT) -> dict[str, Any]:
    """Ranked partner organisations for ``case`` (already checked visible), or the reason there are none."""
    on = on or today_shanghai()
    involved = involved_regions(case)
    home = _region(case.organization.region_code)
    crossing = {unit: other_areas(involved, home, unit) for unit in ("province_code", "prefecture_code")}
    if not crossing["province_code"] and not crossing["prefecture_code"]:
        return _no_route(NOT_CROSS_REGION)
    agreements = agreements_covering(list(involved), AgreementScope.mediation, on)
    plans = [(a, crossing[area_unit(a)]) for a in agreements if crossing[area_unit(a)]]
    if not plans:
        # Cities of one province that no pairing links are not a cross-region case.
        return _no_route(NO_AGREEMENT if crossing["province_code"] else NOT_CROSS_REGION)
    categories = category_names()
    best: dict[int, dict[str, Any]] = {}
    for agreement, areas in plans:
        orgs = db.session.scalars(
            sa.select(Organization).where(_partner_condition(agreement, areas, case.organization_id))
        ).all()
        ids = [o.id for o in orgs]
        loads, specialties = open_case_load(ids), _mediator_specialties(ids)
        for org in orgs:
            route = _score(
                org,
                agreement,
                case.category,
                involved,
                loads.get(org.id, 0),
                specialties.get(org.id, set()),
                categories,
            )
            if org.id not in best or route["score"] > best[org.id]["score"]:
                best[org.id] = route
    routes = sorted(best.values(), key=_rank)[:limit]
    return {"routes": routes, "reason": None, "reason_code": None} if routes else _no_route(NO_PARTNER)


def routes_for_case(actor: Actor, case_id: int) -> dict[str, Any]:
    """The routes for a case the actor can see: ``{routes: [...], reason}`` (reason set when empty). An
    organisation that handed the case over only reads it: 403."""
    from ..cases.service import get_case

    case = get_case(actor, case_id)
    POLICY.require(actor, "see_routes", case)
    return routes_for(case)
