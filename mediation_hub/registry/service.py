"""Registry operations: organisations, mediators and studios, each scoped to the actor.

A record outside the actor's scope is reported as not found, never as forbidden."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ..audit import service as audit
from ..core.actor import ORGANIZATION_SCOPED_ROLES, Actor
from ..core.business_dates import check_business_date
from ..core.messages import coded, message_of
from ..core.pii import ERASED_NAME, normalise_id_number, normalise_phone, normalise_uscc
from ..core.shanghai import today_shanghai
from ..errors import NotFound, StateConflict, ValidationFailed, collect
from ..extensions import db
from ..regions.models import Region
from ..regions.service import subtree_condition
from .models import MEDIATING_KINDS, Mediator, Organization, OrgKind, Studio
from .policy import POLICY

# --- scope -----------------------------------------------------------------------------------------


def organization_scope(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL condition on Organization for what the actor may see."""
    if actor.sees_everything:
        return sa.true()
    if actor.role in ORGANIZATION_SCOPED_ROLES:
        return Organization.id == actor.organization_id
    # A region-scoped actor without a region sees everything (above), so this one has a region.
    assert actor.region_code is not None
    return subtree_condition(Organization.region_code, actor.region_code)


def organizations_visible_to(actor: Actor) -> sa.Select[tuple[Organization]]:
    """The organisations the actor may see."""
    return sa.select(Organization).where(organization_scope(actor))


def visible_organization_ids(actor: Actor) -> sa.Select[tuple[int]]:
    """The ids of the organisations the actor may see (for an IN subquery)."""
    return sa.select(Organization.id).where(organization_scope(actor))


def get_organization(actor: Actor, organization_id: int) -> Organization:
    """The organisation if the actor may see it, else NotFound."""
    org = db.session.scalar(organizations_visible_to(actor).where(Organization.id == organization_id))
    if org is None:
        raise NotFound("organization")
    return org


def _in_actor_region(actor: Actor, region_code: str) -> bool:
    if actor.sees_everything:
        return True
    if not actor.region_code:
        return False
    inside = sa.exists().where(Region.code == region_code, subtree_condition(Region.code, actor.region_code))
    return bool(db.session.scalar(sa.select(inside)))


# --- organisations -----------------------------------------------------------------------------------


def list_organizations(
    actor: Actor, *, region_code: str | None = None, kind: OrgKind | None = None, q: str | None = None
) -> sa.Select[tuple[Organization]]:
    """Organisations the actor sees, filtered by region subtree, kind and a name fragment."""
    stmt = organizations_visible_to(actor)
    if region_code:
        stmt = stmt.where(subtree_condition(Organization.region_code, region_code))
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    if q:
        stmt = stmt.where(Organization.name.contains(q))
    return stmt.order_by(Organization.region_code, Organization.name)


DOCUMENT_CODE = re.compile(r"[\u4e00-\u9fff]{1,6}")  # 文书代字: Chinese characters, 保竞


def _check_organization(actor: Actor, data: dict[str, Any], current: Organization | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    region_code = data.get("region_code", current.region_code if current else None)
    if "region_code" in data:
        if db.session.get(Region, region_code) is None:
            collect(errors, "region_code", coded("unknown_region", "未知的行政区划代码"))
        elif not _in_actor_region(actor, data["region_code"]):
            collect(errors, "region_code", coded("outside_region", "超出您的管辖范围"))
    if data.get("uscc"):
        try:
            data["uscc"] = normalise_uscc(data["uscc"])
        except ValueError as exc:
            collect(errors, "uscc", message_of(exc))
        else:
            clash = db.session.scalar(sa.select(Organization.id).where(Organization.uscc == data["uscc"]))
            if clash and (current is None or clash != current.id):
                collect(errors, "uscc", coded("uscc_registered", "该统一社会信用代码已登记"))
    if data.get("parent_id") is not None:
        parent = db.session.scalar(organizations_visible_to(actor).where(Organization.id == data["parent_id"]))
        if parent is None:
            collect(errors, "parent_id", coded("unknown_parent", "未知的上级组织"))
        elif current is not None and _is_descendant(parent, current.id):
            collect(errors, "parent_id", coded("parent_cycle", "上级组织不能是自身或下级"))
    if "document_code" in data:
        data["document_code"] = (data["document_code"] or "").strip() or None
        if data["document_code"] and not DOCUMENT_CODE.fullmatch(data["document_code"]):
            collect(errors, "document_code", coded("document_code_invalid", "文书代字应为一至六个汉字"))
    name = data.get("name", current.name if current else None)
    if name and region_code and ("name" in data or "region_code" in data):
        clash = db.session.scalar(
            sa.select(Organization.id).where(Organization.name == name, Organization.region_code == region_code)
        )
        if clash and (current is None or clash != current.id):
            collect(errors, "name", coded("organization_name_taken", "该地区已有同名组织"))
    if errors:
        raise ValidationFailed(errors)
    return data


def _is_descendant(candidate: Organization, ancestor_id: int) -> bool:
    node: Organization | None = candidate
    while node is not None:
        if node.id == ancestor_id:
            return True
        node = node.parent
    return False


def create_organization(actor: Actor, data: dict[str, Any]) -> Organization:
    """Register an organisation (USCC checked when given, region within the actor's scope)."""
    POLICY.require(actor, "edit")
    data = _check_organization(actor, dict(data))
    org = Organization(**{k: v for k, v in data.items() if k in _ORG_FIELDS})
    db.session.add(org)
    db.session.flush()
    return org


_ORG_FIELDS = {"name", "kind", "region_code", "uscc", "parent_id", "specialties", "address", "document_code", "active"}


def update_organization(actor: Actor, organization_id: int, data: dict[str, Any]) -> Organization:
    """Change an organisation's fields."""
    org = get_organization(actor, organization_id)
    POLICY.require(actor, "edit")
    if org.is_remote:
        raise StateConflict(
            coded("remote_organization", "该组织属于 %(hub)s 平台，由其目录维护，不能在本平台修改", hub=org.hub_id)
        )
    data = _check_organization(actor, dict(data), org)
    for key, value in data.items():
        if key in _ORG_FIELDS:
            setattr(org, key, value)
    db.session.flush()
    return org


# --- organisations of other hubs (federation) ----------------------------------------------------------


def upsert_remote_organization(hub_id: str, ref: dict[str, Any]) -> Organization:
    """This hub's record of another hub's organisation (``ref``: its id there, name, kind, region_code and
    optionally specialties), created or brought up to date and made active. A local organisation of the same name
    and place keeps its name; the remote one gets the hub named after its own. 422 for an unknown kind or region."""
    errors: dict[str, list[str]] = {}
    try:
        kind = OrgKind(ref["kind"])
    except ValueError:
        collect(errors, "kind", coded("unknown_kind", "未知的组织类别"))
    if db.session.get(Region, ref["region_code"]) is None:
        collect(errors, "region_code", coded("unknown_region", "未知的地区"))
    if errors:
        raise ValidationFailed(errors)
    org = db.session.scalar(
        sa.select(Organization).where(Organization.hub_id == hub_id, Organization.remote_id == ref["id"])
    )
    name = ref["name"]
    clash = db.session.scalar(
        sa.select(Organization.id).where(
            Organization.region_code == ref["region_code"],
            Organization.name == name,
            Organization.id != (org.id if org is not None else -1),
        )
    )
    if clash is not None:
        name = f"{name}（{hub_id}）"[:120]
    if org is None:
        org = Organization(hub_id=hub_id, remote_id=ref["id"], name=name, kind=kind, region_code=ref["region_code"])
        org.specialties = list(ref.get("specialties") or [])
        db.session.add(org)
    else:
        org.name, org.kind, org.region_code = name, kind, ref["region_code"]
        if "specialties" in ref:
            org.specialties = list(ref["specialties"])
    org.active = True
    db.session.flush()
    return org


def deactivate_remote_organizations(hub_id: str, keep_remote_ids: Iterable[int]) -> int:
    """Make inactive another hub's organisations its latest directory no longer lists; returns how many."""
    keep = list(keep_remote_ids)
    stmt = sa.update(Organization).where(Organization.hub_id == hub_id, Organization.active.is_(True))
    if keep:
        stmt = stmt.where(Organization.remote_id.not_in(keep))
    result = db.session.execute(stmt.values(active=False).execution_options(synchronize_session="fetch"))
    return int(getattr(result, "rowcount", 0) or 0)


# --- mediators ---------------------------------------------------------------------------------------


def mediators_visible_to(actor: Actor) -> sa.Select[tuple[Mediator]]:
    """The mediators of the organisations the actor may see."""
    return sa.select(Mediator).where(Mediator.organization_id.in_(visible_organization_ids(actor)))


def list_mediators(
    actor: Actor, *, organization_id: int | None = None, region_code: str | None = None, q: str | None = None
) -> sa.Select[tuple[Mediator]]:
    """Mediators the actor sees, filtered by organisation, region subtree and a name fragment."""
    stmt = mediators_visible_to(actor)
    if organization_id:
        stmt = stmt.where(Mediator.organization_id == organization_id)
    if region_code:
        stmt = stmt.join(Organization, Organization.id == Mediator.organization_id).where(
            subtree_condition(Organization.region_code, region_code)
        )
    if q:
        stmt = stmt.where(Mediator.name.contains(q))
    return stmt.order_by(Mediator.organization_id, Mediator.name)


def get_mediator(actor: Actor, mediator_id: int) -> Mediator:
    """The mediator if the actor may see it, else NotFound."""
    mediator = db.session.scalar(mediators_visible_to(actor).where(Mediator.id == mediator_id))
    if mediator is None:
        raise NotFound("mediator")
    return mediator


def validate_personal_numbers(
    data: dict[str, Any],
    errors: dict[str, list[str]],
    *,
    id_field: str = "id_number",
    phone_field: str = "phone",
    prefix: str = "",
) -> dict[str, Any]:
    """Normalise an ID number and phone in ``data`` in place, collecting messages under ``prefix``."""
    if data.get(id_field):
        try:
            data[id_field] = normalise_id_number(data[id_field])
        except ValueError as exc:
            collect(errors, prefix + id_field, message_of(exc))
    if data.get(phone_field):
        try:
            data[phone_field] = normalise_phone(data[phone_field])
        except ValueError as exc:
            collect(errors, prefix + phone_field, message_of(exc))
    return data


def _check_mediator(actor: Actor, data: dict[str, Any], current: Mediator | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if "organization_id" in data:
        org = db.session.scalar(organizations_visible_to(actor).where(Organization.id == data["organization_id"]))
        if org is None:
            collect(errors, "organization_id", coded("unknown_organization", "未知的组织"))
        elif org.kind not in MEDIATING_KINDS:
            collect(errors, "organization_id", coded("not_mediation_org", "调解员须隶属调解组织"))
    if current is not None and data.get("organization_id") not in (None, current.organization_id):
        led = db.session.scalar(sa.select(Studio.name).where(Studio.lead_mediator_id == current.id).limit(1))
        if led:
            collect(
                errors,
                "organization_id",
                coded("leads_studio", "该调解员领衔工作室「%(studio)s」，请先更换领衔调解员", studio=led),
            )
    validate_personal_numbers(data, errors)
    if data.get("id_number") and "id_number" not in errors:
        from ..core.pii import lookup_hash

        clash = db.session.scalar(
            sa.select(Mediator.id).where(Mediator.id_number_hash == lookup_hash("ric", data["id_number"]))
        )
        if clash and (current is None or clash != current.id):
            collect(errors, "id_number", coded("mediator_registered", "该身份证号码已登记为调解员"))
    if errors:
        raise ValidationFailed(errors)
    return data


def _apply_mediator(mediator: Mediator, data: dict[str, Any]) -> None:
    for key in ("name", "organization_id", "specialties", "active"):
        if key in data:
            setattr(mediator, key, data[key])
    if "id_number" in data:
        mediator.set_id_number(data["id_number"])
    if "phone" in data:
        mediator.set_phone(data["phone"])


def create_mediator(actor: Actor, data: dict[str, Any]) -> Mediator:
    """Register a mediator; ID number and phone are validated, encrypted and masked."""
    POLICY.require(actor, "edit")
    data = _check_mediator(actor, dict(data))
    mediator = Mediator(name=data["name"], organization_id=data["organization_id"])
    _apply_mediator(mediator, data)
    db.session.add(mediator)
    db.session.flush()
    return mediator


def update_mediator(actor: Actor, mediator_id: int, data: dict[str, Any]) -> Mediator:
    """Change a mediator's fields (ID number and phone validated as on registration)."""
    mediator = get_mediator(actor, mediator_id)
    POLICY.require(actor, "edit")
    data = _check_mediator(actor, dict(data), mediator)
    _apply_mediator(mediator, data)
    db.session.flush()
    return mediator


def reveal_mediator_numbers(actor: Actor, mediator_id: int, *, remote_addr: str | None = None) -> dict[str, str | None]:
    """The full ID number and phone of a mediator, for a registry administrator; audited."""
    mediator = get_mediator(actor, mediator_id)
    POLICY.require(actor, "edit")
    audit.record(actor, "reveal_id_number", target_type="mediator", target_id=mediator.id, remote_addr=remote_addr)
    return {"id_number": mediator.full_id_number(), "phone": mediator.full_phone()}


# --- studios -----------------------------------------------------------------------------------------


def studios_visible_to(actor: Actor) -> sa.Select[tuple[Studio]]:
    """The studios of the organisations the actor may see."""
    return sa.select(Studio).where(Studio.organization_id.in_(visible_organization_ids(actor)))


def list_studios(
    actor: Actor, *, organization_id: int | None = None, region_code: str | None = None
) -> sa.Select[tuple[Studio]]:
    """Studios the actor sees, filtered by organisation and region subtree."""
    stmt = studios_visible_to(actor)
    if organization_id:
        stmt = stmt.where(Studio.organization_id == organization_id)
    if region_code:
        stmt = stmt.join(Organization, Organization.id == Studio.organization_id).where(
            subtree_condition(Organization.region_code, region_code)
        )
    return stmt.order_by(Studio.name)


def get_studio(actor: Actor, studio_id: int) -> Studio:
    """The studio if the actor may see it, else NotFound."""
    studio = db.session.scalar(studios_visible_to(actor).where(Studio.id == studio_id))
    if studio is None:
        raise NotFound("studio")
    return studio


def _check_studio(actor: Actor, data: dict[str, Any], current: Studio | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    org_id = data.get("organization_id", current.organization_id if current else None)
    if "organization_id" in data:
        org = db.session.scalar(organizations_visible_to(actor).where(Organization.id == org_id))
        if org is None:
            collect(errors, "organization_id", coded("unknown_organization", "未知的组织"))
        elif org.kind not in MEDIATING_KINDS:
            collect(errors, "organization_id", coded("studio_not_mediation_org", "工作室须设在调解组织"))
    lead_id = data.get("lead_mediator_id", current.lead_mediator_id if current else None)
    if "lead_mediator_id" in data or "organization_id" in data:
        lead = db.session.get(Mediator, lead_id) if lead_id else None
        if lead is None or lead.organization_id != org_id:
            collect(errors, "lead_mediator_id", coded("lead_not_member", "领衔调解员须是该组织的调解员"))
    if data.get("named_by_id") is not None:
        bureau = db.session.get(Organization, data["named_by_id"])
        if bureau is None or bureau.kind != OrgKind.justice_bureau:
            collect(errors, "named_by_id", coded("named_by_not_bureau", "命名单位须为县级以上司法局"))
    if data.get("named_on") and data["named_on"] > today_shanghai():
        collect(errors, "named_on", coded("named_on_future", "命名日期不能在未来"))
    check_business_date(data.get("named_on"), "named_on", errors)
    if "name" in data:
        clash = db.session.scalar(sa.select(Studio.id).where(Studio.name == data["name"]))
        if clash and (current is None or clash != current.id):
            collect(errors, "name", coded("studio_name_taken", "已有同名工作室"))
    if errors:
        raise ValidationFailed(errors)
    return data


_STUDIO_FIELDS = {"name", "organization_id", "lead_mediator_id", "named_by_id", "named_on", "specialties", "active"}


def create_studio(actor: Actor, data: dict[str, Any]) -> Studio:
    """Register a named mediator studio (个人调解品牌工作室)."""
    POLICY.require(actor, "edit")
    data = _check_studio(actor, dict(data))
    studio = Studio(**{k: v for k, v in data.items() if k in _STUDIO_FIELDS})
    db.session.add(studio)
    db.session.flush()
    return studio


def update_studio(actor: Actor, studio_id: int, data: dict[str, Any]) -> Studio:
    """Change a studio's fields."""
    studio = get_studio(actor, studio_id)
    POLICY.require(actor, "edit")
    data = _check_studio(actor, dict(data), studio)
    for key, value in data.items():
        if key in _STUDIO_FIELDS:
            setattr(studio, key, value)
    db.session.flush()
    return studio


# --- choices for the pages' selects ---------------------------------------------------------------------


def organization_choices(actor: Actor, *, kinds: frozenset[OrgKind] | None = None) -> list[Organization]:
    """Organisations the actor sees (optionally of some kinds), for a select on a form."""
    stmt = organizations_visible_to(actor).where(Organization.active.is_(True))
    if kinds:
        stmt = stmt.where(Organization.kind.in_(kinds))
    return list(db.session.scalars(stmt.order_by(Organization.region_code, Organization.name)))


def mediator_choices(actor: Actor) -> list[Mediator]:
    """Active mediators the actor sees, for choosing a studio's lead mediator."""
    stmt = mediators_visible_to(actor).where(Mediator.active.is_(True))
    return list(db.session.scalars(stmt.order_by(Mediator.organization_id, Mediator.name)))


def naming_bureau_choices(actor: Actor) -> list[Organization]:
    """Justice bureaus that may name a studio for this actor: those in its region and above it."""
    stmt = sa.select(Organization).where(Organization.kind == OrgKind.justice_bureau)
    if not actor.sees_everything:
        above: list[str] = []
        region = db.session.get(Region, actor.region_code) if actor.region_code else None
        if region is not None:
            above = region.path.strip("/").split("/")
        stmt = stmt.where(sa.or_(organization_scope(actor), Organization.region_code.in_(above)))
    return list(db.session.scalars(stmt.order_by(Organization.region_code, Organization.name)))


# --- erasure (a person's request, through privacy) ------------------------------------------------------------


def erase_mediator_data(mediators: Iterable[Mediator]) -> int:
    """Erase the name, ID number and phone of former mediators (the caller checked none is active); the rows
    stay, as the cases and sessions they worked on name them. Flushes; returns how many."""
    erased = 0
    for mediator in mediators:
        mediator.name = ERASED_NAME
        mediator.set_id_number(None)
        mediator.set_phone(None)
        erased += 1
    db.session.flush()
    return erased
