"""Registering a dispute: validate everything at once, number it, flag cross-region, warn of duplicates."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import identity_key

from ...core.actor import Actor
from ...core.business_dates import check_business_date
from ...core.pii import PersonalNumbersMixin, lookup_hash, normalise_id_number, normalise_phone, normalise_uscc
from ...core.shanghai import today_shanghai
from ...errors import PermissionDenied, ValidationFailed, collect
from ...extensions import db
from ...regions.models import Region
from ...registry.models import MEDIATING_KINDS, Mediator, Organization, Studio
from ..events import record_event
from ..models import Case, CaseCategory, CaseMediator, CaseSource, Party, PartyKind, PartyRole
from ..numbering import next_case_number
from ..rules import OPEN_STATES, is_cross_region, to_amount
from .scope import CASE_HANDLER_ROLES, case_scope

SIDES = (PartyRole.applicant, PartyRole.respondent)


def _check_region(code: str | None, field: str, errors: dict, *, required: bool) -> None:
    if not code:
        if required:
            collect(errors, field, "请选择行政区划 (a region is required)")
        return
    region = db.session.get(Region, code)
    if region is None:
        collect(errors, field, f"未知的行政区划代码 {code} (unknown region code)")
    elif region.province_code is None:
        collect(errors, field, "请选择具体的行政区划，而不是自定义区域 (choose a division, not a custom grouping)")


def _handling_organization(actor: Actor, data: dict, errors: dict) -> Organization | None:
    if not (actor.is_admin or actor.is_system or actor.role in CASE_HANDLER_ROLES):
        raise PermissionDenied("只有调解组织的工作人员可以登记案件 (only mediation staff register cases)")
    org_id = data.get("organization_id") or actor.organization_id
    if org_id is None:
        collect(errors, "organization_id", "请选择承办组织 (the handling organisation is required)")
        return None
    org = db.session.get(Organization, org_id)
    if org is None or not (actor.is_admin or actor.is_system or org.id == actor.organization_id):
        collect(errors, "organization_id", "只能为本组织登记案件 (you register cases for your own organisation)")
        return None
    problem = handling_organization_problem(org)
    if problem:
        collect(errors, "organization_id", problem)
        return None
    return org


def handling_organization_problem(org: Organization) -> str | None:
    """Why ``org`` may not handle cases (not a mediation organisation, or inactive), or None."""
    if org.kind not in MEDIATING_KINDS or not org.active:
        return "承办组织须为在册的调解组织 (must be an active mediation organisation)"
    return None


def _check_case_fields(data: dict, org: Organization | None, errors: dict) -> None:
    if not (data.get("summary") or "").strip():
        collect(errors, "summary", "请填写纠纷简要情况 (a summary is required)")
    if not data.get("category") or db.session.get(CaseCategory, data["category"]) is None:
        collect(errors, "category", "未知的纠纷类别 (unknown category)")
    if not data.get("source") or db.session.get(CaseSource, data["source"]) is None:
        collect(errors, "source", "未知的案件来源 (unknown source)")
    received_on = data.get("received_on")
    if received_on and received_on > today_shanghai():
        collect(errors, "received_on", "受理登记日期不能晚于今天 (may not be in the future)")
    check_business_date(received_on, "received_on", errors)
    _check_region(data.get("occurred_region_code"), "occurred_region_code", errors, required=True)
    data["amount_yuan"] = to_amount(data.get("amount_yuan"), "amount_yuan", errors)
    if org is None:
        return
    if data.get("studio_id"):
        studio = db.session.get(Studio, data["studio_id"])
        if studio is None or studio.organization_id != org.id or not studio.active:
            collect(errors, "studio_id", "工作室须属于承办组织 (the studio must belong to the handling organisation)")
    for mediator_id in data.get("mediator_ids") or []:
        mediator = db.session.get(Mediator, mediator_id)
        if mediator is None or mediator.organization_id != org.id or not mediator.active:
            collect(errors, "mediator_ids", f"调解员 {mediator_id} 不属于承办组织 (not a mediator of the organisation)")


def _check_party(index: int, party: dict, errors: dict) -> dict:
    """Normalise one party in place; messages go under ``parties.<index>.<field>``."""
    prefix = f"parties.{index}."
    if not (party.get("name") or "").strip():
        collect(errors, prefix + "name", "请填写当事人名称 (a name is required)")
    role, kind = PartyRole(party["role"]), PartyKind(party["kind"])
    if kind == PartyKind.person:
        if party.get("uscc"):
            collect(errors, prefix + "uscc", "自然人当事人填写身份证号码 (a person has an ID number, not a USCC)")
        if party.get("id_number"):
            try:
                party["id_number"] = normalise_id_number(party["id_number"])
            except ValueError as exc:
                collect(errors, prefix + "id_number", str(exc))
        elif role == PartyRole.applicant:
            collect(errors, prefix + "id_number", "申请人须提供身份证号码 (an applicant's ID number is required)")
    else:
        if party.get("id_number"):
            collect(errors, prefix + "id_number", "组织当事人填写统一社会信用代码 (an organisation has a USCC)")
        if party.get("uscc"):
            try:
                party["uscc"] = normalise_uscc(party["uscc"])
            except ValueError as exc:
                collect(errors, prefix + "uscc", str(exc))
        elif role == PartyRole.applicant:
            collect(errors, prefix + "uscc", "申请人须提供统一社会信用代码 (an applicant's USCC is required)")
    if party.get("phone"):
        try:
            party["phone"] = normalise_phone(party["phone"])
        except ValueError as exc:
            collect(errors, prefix + "phone", str(exc))
    _check_region(party.get("region_code"), prefix + "region_code", errors, required=False)
    return party


def _check_parties(parties: list[dict], errors: dict) -> list[dict]:
    checked = [_check_party(i, dict(p), errors) for i, p in enumerate(parties)]
    roles = {PartyRole(p["role"]) for p in checked}
    if PartyRole.applicant not in roles or PartyRole.respondent not in roles:
        collect(errors, "parties", "至少需要一名申请人和一名被申请人 (at least one applicant and one respondent)")
    return checked


def party_columns(position: int, data: dict) -> dict:
    """The column values of a checked party: its numbers encrypted, masked and hashed exactly as
    ``PersonalNumbersMixin`` stores them (registration builds the row from these; the bulk import inserts them)."""
    kind = PartyKind(data["kind"])
    numbers = SimpleNamespace()
    if kind == PartyKind.person:
        PersonalNumbersMixin.set_id_number(numbers, data.get("id_number") or None)
    else:
        PersonalNumbersMixin.set_id_number(numbers, data.get("uscc") or None, kind="uscc")
    PersonalNumbersMixin.set_phone(numbers, data.get("phone") or None)
    return {"position": position, "role": PartyRole(data["role"]), "kind": kind, "name": data["name"].strip(),
            "region_code": data.get("region_code") or None, **vars(numbers)}


def _build_party(position: int, data: dict) -> Party:
    return Party(**party_columns(position, data))


def _party_hash(party: dict) -> str | None:
    if PartyKind(party["kind"]) == PartyKind.person:
        return lookup_hash("ric", party["id_number"]) if party.get("id_number") else None
    return lookup_hash("uscc", party["uscc"]) if party.get("uscc") else None


def possible_duplicates(actor: Actor, parties: list[dict], *, exclude_case_id: int | None = None) -> list[dict]:
    """Open cases where one of ``parties`` (same keyed hash) meets the same counterpart (the other side
    matching by hash or by name, roles swapped or not): warnings, never a block."""
    sides = {role: [p for p in parties if PartyRole(p["role"]) == role] for role in SIDES}
    same, other = aliased(Party), aliased(Party)
    pairs = []
    for role in SIDES:
        counter_role = SIDES[1 - SIDES.index(role)]
        hashes = [h for h in (_party_hash(p) for p in sides[role]) if h]
        counter_hashes = [h for h in (_party_hash(p) for p in sides[counter_role]) if h]
        counter_names = [p["name"].strip() for p in sides[counter_role] if (p.get("name") or "").strip()]
        counterpart = ([other.id_number_hash.in_(counter_hashes)] if counter_hashes else []) + \
            ([other.name.in_(counter_names)] if counter_names else [])
        if hashes and counterpart:
            pairs.append(sa.and_(same.id_number_hash.in_(hashes), sa.or_(*counterpart)))
    if not pairs:
        return []
    stmt = (sa.select(Case).join(same, same.case_id == Case.id).join(other, other.case_id == Case.id)
            .where(Case.status.in_(OPEN_STATES), same.role.in_(SIDES), other.role.in_(SIDES),
                   same.role != other.role, sa.or_(*pairs))
            .distinct().order_by(Case.id))
    if exclude_case_id is not None:
        stmt = stmt.where(Case.id != exclude_case_id)
    found = db.session.scalars(stmt).all()
    if not found:
        return []
    visible = set(db.session.scalars(sa.select(Case.id).where(case_scope(actor),
                                                               Case.id.in_([c.id for c in found]))))
    return [{"code": "possible_duplicate", "case_id": case.id, "number": case.number,
             "organization_id": case.organization_id, "visible": case.id in visible,
             "message": f"可能重复: {case.organization.name} 有一件未结案件 {case.number}，当事人及对方当事人相同"
                        f" (possible duplicate of open case {case.number})"}
            for case in found]


def check_case_data(data: dict, org: Organization | None, errors: dict) -> dict:
    """The rules a registration's content must meet (case fields and parties, for an already chosen handling
    organisation): every failure is collected into ``errors``; returns the data normalised (amount, numbers).

    The one validator of a dispute's content, shared by the API, the pages and the bulk import."""
    data = dict(data)
    parties = [p for p in data.get("parties") or [] if isinstance(p, dict)]
    _load_regions([data.get("occurred_region_code"), *(p.get("region_code") for p in parties)])
    _check_case_fields(data, org, errors)
    data["parties"] = _check_parties(data.get("parties") or [], errors)
    return data


def _load_regions(codes: list) -> None:
    """Load the regions a registration names that the session does not hold yet, in one query, and keep them for
    the session (reference data): the checks and the cross-region test then find them in the identity map
    instead of a round trip each (the map holds objects weakly, so they are kept in ``session.info``)."""
    missing = {code for code in codes if isinstance(code, str) and code
               and identity_key(Region, code) not in db.session.identity_map}
    if missing:
        found = db.session.scalars(sa.select(Region).where(Region.code.in_(missing))).all()
        db.session.info.setdefault("registration_regions", []).extend(found)


def validate_case_data(actor: Actor, data: dict) -> tuple[Organization, dict]:
    """Check a registration completely (who registers for which organisation, the fields, the parties) and
    raise one ValidationFailed listing every failure; return the handling organisation and the normalised data."""
    errors: dict[str, list[str]] = {}
    org = _handling_organization(actor, data, errors)
    data = check_case_data(data, org, errors)
    if errors:
        raise ValidationFailed(errors)
    return org, data


def case_columns(actor: Actor, org: Organization, data: dict) -> dict:
    """The column values of a newly registered case from checked data (everything but its number)."""
    received_on: date = data.get("received_on") or today_shanghai()
    region_codes = [data["occurred_region_code"], *(p.get("region_code") for p in data["parties"])]
    return {
        "organization_id": org.id, "studio_id": data.get("studio_id") or None, "category_code": data["category"],
        "source_code": data["source"], "summary": data["summary"].strip(), "received_on": received_on,
        "occurred_region_code": data["occurred_region_code"], "amount_yuan": data.get("amount_yuan"),
        "major": bool(data.get("major")), "cross_region": is_cross_region([c for c in region_codes if c], received_on),
        "last_step_on": received_on, "registered_by_id": actor.user_id, "source_system": data.get("source_system"),
        "source_number": data.get("source_number")}


def register_case(actor: Actor, data: dict) -> tuple[Case, list[dict]]:
    """Register a dispute with its parties (validated all at once; one 422 listing every field at fault),
    give it its number, derive ``cross_region``, write the ``registered`` event, and return the case with
    the duplicate/conflict warnings."""
    org, data = validate_case_data(actor, data)
    parties = data["parties"]
    columns = case_columns(actor, org, data)
    received_on = columns["received_on"]
    case = Case(number=next_case_number(org.id, org.region_code, received_on.year), **columns)
    case.parties = [_build_party(i, p) for i, p in enumerate(parties)]
    case.mediators = [CaseMediator(mediator_id=m, lead=i == 0)
                      for i, m in enumerate(dict.fromkeys(data.get("mediator_ids") or []))]
    db.session.add(case)
    db.session.flush()
    warnings = possible_duplicates(actor, parties, exclude_case_id=case.id)
    record_event(case, "registered", actor, received_on, data={
        "number": case.number, "cross_region": case.cross_region,
        "possible_duplicates": [w["case_id"] for w in warnings]})
    return case, warnings
