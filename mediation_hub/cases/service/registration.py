"""Registering a dispute: validate everything at once, number it, flag cross-region, warn of duplicates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm.util import identity_key

from ...core.actor import Actor
from ...core.business_dates import check_business_date
from ...core.messages import coded
from ...core.pii import PersonalNumbersMixin, lookup_hash, normalise_id_number, normalise_phone, normalise_uscc
from ...core.shanghai import today_shanghai
from ...errors import StateConflict, ValidationFailed, collect
from ...extensions import db
from ...reference.lists import name_of
from ...regions.models import Region
from ...registry.models import MEDIATING_KINDS, Mediator, Organization, Studio
from ..events import record_event
from ..models import Case, CaseCategory, CaseMediator, CaseSource, Gender, Party, PartyKind, PartyRole
from ..numbering import next_case_number
from ..policy import POLICY
from ..rules import DUPLICATE_WINDOW_DAYS, OPEN_STATES, SUMMARY_MAX_LENGTH, is_cross_region, to_amount
from .scope import case_scope

SIDES = (PartyRole.applicant, PartyRole.respondent)


class HandlingOrganization(Protocol):
    """What the content rules read of the handling organisation: its id (the bulk import passes only that, so a
    batch does not reload the organisation after each commit)."""

    @property
    def id(self) -> int: ...


def _check_region(code: str | None, field: str, errors: dict[str, list[str]], *, required: bool) -> None:
    if not code:
        if required:
            collect(errors, field, coded("region_required", "请选择行政区划"))
        return
    region = db.session.get(Region, code)
    if region is None:
        collect(errors, field, coded("unknown_region", "未知的行政区划代码 %(region)s", region=code))
    elif region.province_code is None:
        collect(errors, field, coded("custom_region_not_allowed", "请选择具体的行政区划，而不是自定义区域"))


def _handling_organization(actor: Actor, data: dict[str, Any], errors: dict[str, list[str]]) -> Organization | None:
    POLICY.require(actor, "register")
    org_id = data.get("organization_id") or actor.organization_id
    if org_id is None:
        collect(errors, "organization_id", coded("organization_required", "请选择承办组织"))
        return None
    org = db.session.get(Organization, org_id)
    if org is None or not POLICY.allows(actor, "register_for", org):
        collect(errors, "organization_id", POLICY.message("register_for"))
        return None
    problem = handling_organization_problem(org)
    if problem:
        collect(errors, "organization_id", problem)
        return None
    return org


def handling_organization_problem(org: Organization) -> str | None:
    """Why ``org`` may not handle cases (not a mediation organisation, or inactive), or None."""
    if org.kind not in MEDIATING_KINDS or not org.active:
        return coded("not_mediation_organization", "承办组织须为在册的调解组织")
    return None


def _check_case_fields(data: dict[str, Any], org: HandlingOrganization | None, errors: dict[str, list[str]]) -> None:
    if not (data.get("summary") or "").strip():
        collect(errors, "summary", coded("summary_required", "请填写纠纷简要情况"))
    elif len(data["summary"]) > SUMMARY_MAX_LENGTH:
        collect(
            errors,
            "summary",
            coded(
                "summary_too_long",
                "纠纷简要情况最多 %(max)s 字，现有 %(count)s 字",
                max=SUMMARY_MAX_LENGTH,
                count=len(data["summary"]),
            ),
        )
    if not data.get("category") or db.session.get(CaseCategory, data["category"]) is None:
        collect(errors, "category", coded("unknown_category", "未知的纠纷类别"))
    if not data.get("source") or db.session.get(CaseSource, data["source"]) is None:
        collect(errors, "source", coded("unknown_source", "未知的案件来源"))
    received_on = data.get("received_on")
    if received_on and received_on > today_shanghai():
        collect(errors, "received_on", coded("date_in_future", "受理登记日期不能晚于今天"))
    check_business_date(received_on, "received_on", errors)
    _check_region(data.get("occurred_region_code"), "occurred_region_code", errors, required=True)
    data["amount_yuan"] = to_amount(data.get("amount_yuan"), "amount_yuan", errors)
    if org is None:
        return
    if data.get("studio_id"):
        studio = db.session.get(Studio, data["studio_id"])
        if studio is None or studio.organization_id != org.id or not studio.active:
            collect(errors, "studio_id", coded("studio_not_of_organization", "工作室须属于承办组织"))
    for mediator_id in data.get("mediator_ids") or []:
        mediator = db.session.get(Mediator, mediator_id)
        if mediator is None or mediator.organization_id != org.id or not mediator.active:
            collect(
                errors,
                "mediator_ids",
                coded("mediator_not_of_organization", "调解员 %(id)s 不属于承办组织", id=mediator_id),
            )


def _check_party(index: int, party: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """Normalise one party in place; messages go under ``parties.<index>.<field>``."""
    prefix = f"parties.{index}."
    if not (party.get("name") or "").strip():
        collect(errors, prefix + "name", coded("name_required", "请填写当事人名称"))
    role, kind = PartyRole(party["role"]), PartyKind(party["kind"])
    if kind == PartyKind.person:
        if party.get("uscc"):
            collect(errors, prefix + "uscc", coded("uscc_not_for_person", "自然人当事人填写身份证号码"))
        if party.get("id_number"):
            try:
                party["id_number"] = normalise_id_number(party["id_number"])
            except ValueError as exc:
                collect(errors, prefix + "id_number", exc.args[0])
        elif role == PartyRole.applicant:
            collect(errors, prefix + "id_number", coded("id_number_required", "申请人须提供身份证号码"))
    else:
        if party.get("id_number"):
            collect(
                errors, prefix + "id_number", coded("id_number_not_for_organization", "组织当事人填写统一社会信用代码")
            )
        if party.get("uscc"):
            try:
                party["uscc"] = normalise_uscc(party["uscc"])
            except ValueError as exc:
                collect(errors, prefix + "uscc", exc.args[0])
        elif role == PartyRole.applicant:
            collect(errors, prefix + "uscc", coded("uscc_required", "申请人须提供统一社会信用代码"))
    if party.get("phone"):
        try:
            party["phone"] = normalise_phone(party["phone"])
        except ValueError as exc:
            collect(errors, prefix + "phone", exc.args[0])
    _check_region(party.get("region_code"), prefix + "region_code", errors, required=False)
    _check_particulars(prefix, kind, party, errors)
    return party


PERSON_PARTICULARS = ("gender", "ethnicity", "occupation")
PARTICULARS = (*PERSON_PARTICULARS, "address", "representative")


def _check_particulars(prefix: str, kind: PartyKind, party: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """The optional particulars a document prints, normalised in place (blank is None, 民族 as its Chinese
    name): 性别, 民族 and 职业 only for a natural person, 法定代表人 only for an organisation."""
    for key in PARTICULARS:
        value = party.get(key)
        party[key] = (value.strip() or None) if isinstance(value, str) else value
    if kind == PartyKind.organization:
        for key in PERSON_PARTICULARS:
            if party[key] is not None:
                collect(errors, prefix + key, coded("only_for_person", "只有自然人当事人填写此项"))
    elif party["representative"] is not None:
        collect(
            errors,
            prefix + "representative",
            coded("representative_only_for_organization", "只有组织当事人填写法定代表人或主要负责人"),
        )
    if party["gender"] is not None:
        try:
            party["gender"] = Gender(party["gender"]).value
        except ValueError:
            collect(errors, prefix + "gender", coded("unknown_gender", "性别须为 男 或 女"))
    if party["ethnicity"] is not None:
        name = name_of("ethnicities", str(party["ethnicity"]))
        if name is None:
            collect(errors, prefix + "ethnicity", coded("unknown_ethnicity", "未知的民族，请从民族列表中选择"))
        party["ethnicity"] = name


def _check_parties(parties: list[dict[str, Any]], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    checked = [_check_party(i, dict(p), errors) for i, p in enumerate(parties)]
    roles = {PartyRole(p["role"]) for p in checked}
    if PartyRole.applicant not in roles or PartyRole.respondent not in roles:
        collect(errors, "parties", coded("applicant_and_respondent_required", "至少需要一名申请人和一名被申请人"))
    return checked


class _Numbers(PersonalNumbersMixin):
    """A party's number columns as ``PersonalNumbersMixin`` sets them, without a row to hold them."""


def party_columns(position: int, data: dict[str, Any]) -> dict[str, Any]:
    """The column values of a checked party: its numbers encrypted, masked and hashed exactly as
    ``PersonalNumbersMixin`` stores them (registration builds the row from these; the bulk import inserts them)."""
    kind = PartyKind(data["kind"])
    numbers = _Numbers()
    if kind == PartyKind.person:
        numbers.set_id_number(data.get("id_number") or None)
    else:
        numbers.set_id_number(data.get("uscc") or None, kind="uscc")
    numbers.set_phone(data.get("phone") or None)
    particulars = {key: data.get(key) or None for key in PARTICULARS}
    return {
        "position": position,
        "role": PartyRole(data["role"]),
        "kind": kind,
        "name": data["name"].strip(),
        "region_code": data.get("region_code") or None,
        **particulars,
        **vars(numbers),
    }


def _build_party(position: int, data: dict[str, Any]) -> Party:
    return Party(**party_columns(position, data))


def _party_hash(party: dict[str, Any]) -> str | None:
    if PartyKind(party["kind"]) == PartyKind.person:
        return lookup_hash("ric", party["id_number"]) if party.get("id_number") else None
    return lookup_hash("uscc", party["uscc"]) if party.get("uscc") else None


@dataclass
class DuplicateCheck:
    """Open cases (not concluded nor declined) registered in the last ``DUPLICATE_WINDOW_DAYS`` days with one of
    a registration's parties (same keyed hash of the ID number or USCC): the ones the actor may see, and how many
    others (another organisation's, shown only as a count)."""

    candidates: list[Case] = field(default_factory=list)
    elsewhere: int = 0
    case_ids: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.case_ids)

    def warnings(self) -> list[dict[str, Any]]:
        """The check as registration warnings: one per case the actor may see, one for the count of others."""
        items = [
            {
                "code": "possible_duplicate",
                "case_id": case.id,
                "number": case.number,
                "organization_id": case.organization_id,
                "visible": True,
                "message": coded(
                    "possible_duplicate", "可能重复：未结案件 %(number)s 涉及同一当事人，请核实", number=case.number
                ),
            }
            for case in self.candidates
        ]
        if self.elsewhere:
            items.append(
                {
                    "code": "possible_duplicate_elsewhere",
                    "case_id": None,
                    "number": None,
                    "organization_id": None,
                    "visible": False,
                    "message": coded(
                        "possible_duplicate_elsewhere",
                        "其他组织有 %(count)s 件涉及同一当事人的未结案件",
                        count=self.elsewhere,
                    ),
                }
            )
        return items


class PossibleDuplicate(StateConflict):
    """A registration names a party of an open recent case, and the caller has not confirmed it is another
    dispute (409 ``possible_duplicate``); ``check`` holds what was found."""

    def __init__(self, check: DuplicateCheck) -> None:
        super().__init__(
            coded(
                "possible_duplicate",
                "可能重复登记：同一当事人近 %(days)s 天内有未结案件。请核实；确属另一纠纷的，可以仍然登记",
                days=DUPLICATE_WINDOW_DAYS,
            )
        )
        self.check = check


def possible_duplicates(
    actor: Actor, parties: list[dict[str, Any]], *, exclude_case_id: int | None = None, today: date | None = None
) -> DuplicateCheck:
    """Open cases registered in the last ``DUPLICATE_WINDOW_DAYS`` calendar days (Asia/Shanghai) where one of
    ``parties`` (checked: numbers normalised) is a party too, matched by the keyed hash of its ID number or USCC
    (a name alone never matches). Cases the actor may see are returned; the others are only counted."""
    hashes = sorted({h for h in (_party_hash(p) for p in parties if isinstance(p, dict)) if h})
    if not hashes:
        return DuplicateCheck()
    since = (today or today_shanghai()) - timedelta(days=DUPLICATE_WINDOW_DAYS)
    matching = sa.select(Party.case_id).where(Party.id_number_hash.in_(hashes))
    stmt = sa.select(Case.id).where(Case.id.in_(matching), Case.status.in_(OPEN_STATES), Case.received_on >= since)
    if exclude_case_id is not None:
        stmt = stmt.where(Case.id != exclude_case_id)
    case_ids = list(db.session.scalars(stmt.order_by(Case.received_on.desc(), Case.id.desc())))
    if not case_ids:
        return DuplicateCheck()
    visible = db.session.scalars(
        sa.select(Case)
        .where(Case.id.in_(case_ids), case_scope(actor))
        .order_by(Case.received_on.desc(), Case.id.desc())
    ).all()
    return DuplicateCheck(list(visible), len(case_ids) - len(visible), case_ids)


def check_for_duplicates(actor: Actor, parties: list[dict[str, Any]]) -> DuplicateCheck:
    """What registering ``parties`` would warn of, without registering anything (the API's check-duplicates and
    the page's warning). Numbers that do not read as valid are left out: registration itself reports them."""
    POLICY.require(actor, "register")
    checked = []
    for party in parties:
        errors: dict[str, list[str]] = {}
        normalised = _check_party(0, dict(party, name=party.get("name") or "-"), errors)
        if not any(key.endswith(("id_number", "uscc")) for key in errors):
            checked.append(normalised)
    return possible_duplicates(actor, checked)


def check_case_data(
    data: dict[str, Any], org: HandlingOrganization | None, errors: dict[str, list[str]]
) -> dict[str, Any]:
    """The rules a registration's content must meet (case fields and parties, for an already chosen handling
    organisation): every failure is collected into ``errors``; returns the data normalised (amount, numbers).

    The one validator of a dispute's content, shared by the API, the pages and the bulk import."""
    data = dict(data)
    parties = [p for p in data.get("parties") or [] if isinstance(p, dict)]
    _load_regions([data.get("occurred_region_code"), *(p.get("region_code") for p in parties)])
    _check_case_fields(data, org, errors)
    data["parties"] = _check_parties(data.get("parties") or [], errors)
    return data


def _load_regions(codes: list[object]) -> None:
    """Load the regions a registration names that the session does not hold yet, in one query, and keep them for
    the session (reference data): the checks and the cross-region test then find them in the identity map
    instead of a round trip each (the map holds objects weakly, so they are kept in ``session.info``)."""
    missing = {
        code
        for code in codes
        if isinstance(code, str) and code and identity_key(Region, code) not in db.session.identity_map
    }
    if missing:
        found = db.session.scalars(sa.select(Region).where(Region.code.in_(missing))).all()
        db.session.info.setdefault("registration_regions", []).extend(found)


def validate_case_data(actor: Actor, data: dict[str, Any]) -> tuple[Organization, dict[str, Any]]:
    """Check a registration completely (who registers for which organisation, the fields, the parties) and
    raise one ValidationFailed listing every failure; return the handling organisation and the normalised data."""
    errors: dict[str, list[str]] = {}
    org = _handling_organization(actor, data, errors)
    data = check_case_data(data, org, errors)
    if errors or org is None:  # no handling organisation has its message in errors
        raise ValidationFailed(errors)
    return org, data


def case_columns(actor: Actor, org: HandlingOrganization, data: dict[str, Any]) -> dict[str, Any]:
    """The column values of a newly registered case from checked data (everything but its number)."""
    received_on: date = data.get("received_on") or today_shanghai()
    region_codes = [data["occurred_region_code"], *(p.get("region_code") for p in data["parties"])]
    return {
        "organization_id": org.id,
        "studio_id": data.get("studio_id") or None,
        "category_code": data["category"],
        "source_code": data["source"],
        "summary": data["summary"].strip(),
        "received_on": received_on,
        "occurred_region_code": data["occurred_region_code"],
        "amount_yuan": data.get("amount_yuan"),
        "major": bool(data.get("major")),
        "cross_region": is_cross_region([c for c in region_codes if c], received_on),
        "last_step_on": received_on,
        "registered_by_id": actor.user_id,
        "source_system": data.get("source_system"),
        "source_number": data.get("source_number"),
    }


def register_case(
    actor: Actor, data: dict[str, Any], *, stop_on_duplicate: bool = False
) -> tuple[Case, list[dict[str, Any]]]:
    """Register a dispute with its parties (validated all at once; one 422 listing every field at fault),
    give it its number, derive ``cross_region``, write the ``registered`` event, and return the case with
    the duplicate warnings.

    A possible duplicate (``possible_duplicates``) is a warning; with ``stop_on_duplicate`` (the page and the
    API, until the person confirms it is another dispute) it raises ``PossibleDuplicate`` (409) before anything
    is written. The bulk import and the seeds register with warnings only."""
    org, data = validate_case_data(actor, data)
    parties = data["parties"]
    duplicates = possible_duplicates(actor, parties)
    if duplicates and stop_on_duplicate:
        raise PossibleDuplicate(duplicates)
    columns = case_columns(actor, org, data)
    received_on = columns["received_on"]
    case = Case(number=next_case_number(org.id, org.region_code, received_on.year), **columns)
    case.parties = [_build_party(i, p) for i, p in enumerate(parties)]
    case.mediators = [
        CaseMediator(mediator_id=m, lead=i == 0) for i, m in enumerate(dict.fromkeys(data.get("mediator_ids") or []))
    ]
    db.session.add(case)
    db.session.flush()
    record_event(
        case,
        "registered",
        actor,
        received_on,
        data={"number": case.number, "cross_region": case.cross_region, "possible_duplicates": duplicates.case_ids},
    )
    return case, duplicates.warnings()
