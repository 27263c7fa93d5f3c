"""Agreements between regions: reading them, keeping them, and finding the ones that cover a set of regions.

Every signed-in role may read agreements (routing depends on them). An agreement binds every member, so only
an administrator creates or changes one directly (each change is an audit row). A coordinator proposes
(``agreements.proposals``): a proposal touching the coordinator's region (a member lies in it, or it lies in a
member's subtree) waits until a coordinator of every affected member region has confirmed it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..audit.service import record
from ..core.actor import Actor
from ..core.business_dates import check_business_date
from ..core.messages import coded
from ..errors import NotFound, StateConflict, ValidationFailed, collect
from ..extensions import db
from ..regions.models import Region, RegionLevel
from . import policy
from .models import KIND_LABELS, SCOPE_LABELS, Agreement, AgreementKind, AgreementMember, AgreementScope

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
# Which scopes each kind of agreement may carry: joint mediation is about mediation, 通办 about legal aid,
# a city pairing may cover either or both.
KIND_SCOPES = {
    AgreementKind.joint_mediation: {AgreementScope.mediation},
    AgreementKind.tongban: {AgreementScope.legal_aid},
    AgreementKind.pairing: {AgreementScope.mediation, AgreementScope.legal_aid, AgreementScope.both},
}
# `active` is a two-state lifecycle: the states each transition may start from.
ACTIVE_TRANSITIONS = {"deactivate": {True}, "reactivate": {False}}
_EDITABLE = {"name", "kind", "scope", "response_working_days", "signed_on", "effective_from", "effective_to", "note"}


# --- coverage (used by routing and transfers) ---------------------------------------------------------


def _region_paths(code: str, regions: dict[str, Region]) -> list[str] | None:
    """The materialised paths a region stands for: its own, or its members' for a custom grouping."""
    region = regions.get(code) or db.session.get(Region, code)
    if region is None:
        return None
    regions[code] = region
    if region.level == RegionLevel.custom:
        paths = []
        for member in region.member_codes:
            paths.extend(_region_paths(member, regions) or [])
        return paths or None
    return [region.path]


def _covers(agreement: Agreement, region_paths: list[list[str]], regions: dict[str, Region]) -> bool:
    member_paths = [p for code in agreement.member_codes for p in (_region_paths(code, regions) or [])]
    return all(any(path.startswith(m) for m in member_paths) for paths in region_paths for path in paths)


def agreements_covering(region_codes: list[str], scope: AgreementScope | str, on: date) -> list[Agreement]:
    """Active agreements in force on ``on`` whose scope includes ``scope`` and whose members' subtrees
    together contain every region in ``region_codes`` (a custom region such as 雄安新区 counts by its
    member counties). An unknown region, or an empty list, is covered by nothing."""
    scope = AgreementScope(scope)
    regions: dict[str, Region] = {}
    region_paths: list[list[str]] = []
    for code in dict.fromkeys(region_codes):
        paths = _region_paths(code, regions)
        if paths is None:
            return []
        region_paths.append(paths)
    if not region_paths:
        return []
    stmt = (
        sa.select(Agreement)
        .options(selectinload(Agreement.members))
        .where(
            Agreement.active.is_(True),
            Agreement.scope.in_([scope, AgreementScope.both]),
            Agreement.effective_from <= on,
            sa.or_(Agreement.effective_to.is_(None), Agreement.effective_to >= on),
        )
        .order_by(Agreement.code)
    )
    return [a for a in db.session.scalars(stmt) if _covers(a, region_paths, regions)]


# --- reading ------------------------------------------------------------------------------------------


def list_agreements(
    actor: Actor,
    *,
    scope: AgreementScope | None = None,
    kind: AgreementKind | None = None,
    region_code: str | None = None,
    active: bool | None = None,
) -> sa.Select[tuple[Agreement]]:
    """Agreements (visible to every signed-in role), filtered by scope, kind, active flag and a member region
    (an agreement one of whose members contains ``region_code`` or lies within it)."""
    stmt = sa.select(Agreement).options(selectinload(Agreement.members))
    if scope is not None:
        stmt = stmt.where(Agreement.scope.in_([scope, AgreementScope.both]))
    if kind is not None:
        stmt = stmt.where(Agreement.kind == kind)
    if active is not None:
        stmt = stmt.where(Agreement.active.is_(active))
    if region_code:
        paths = _region_paths(region_code, {})  # a custom region counts by its members
        if not paths:
            return stmt.where(sa.false())
        touching = (
            sa.select(AgreementMember.agreement_code)
            .join(Region, Region.code == AgreementMember.region_code)
            .where(sa.or_(*(sa.or_(Region.path.startswith(p), sa.literal(p).startswith(Region.path)) for p in paths)))
        )
        stmt = stmt.where(Agreement.code.in_(touching))
    return stmt.order_by(Agreement.code)


def get_agreement(actor: Actor, code: str) -> Agreement:
    """The agreement with this code, or NotFound."""
    agreement = db.session.get(Agreement, code)
    if agreement is None:
        raise NotFound("agreement")
    return agreement


def region_names(codes: list[str]) -> dict[str, str]:
    """Full names of the given regions, for showing an agreement's members."""
    rows = db.session.scalars(sa.select(Region).where(Region.code.in_(codes)))
    return {r.code: r.full_name for r in rows}


# --- regions (the policy's scopes read them) ----------------------------------------------------------


def touches_region(member_codes: list[str], region_code: str) -> bool:
    """Whether a member region lies in ``region_code``'s subtree, or contains it (by their paths; a custom
    region by its members)."""
    regions: dict[str, Region] = {}
    own = _region_paths(region_code, regions) or []
    for code in member_codes:
        for path in _region_paths(code, regions) or []:
            if any(p.startswith(path) or path.startswith(p) for p in own):
                return True
    return False


def lies_within(region_code: str, scope_code: str) -> bool:
    """Whether the whole of region ``region_code`` (a custom region by its members) lies in ``scope_code``'s
    subtree: a coordinator of ``scope_code`` is then a coordinator of that region."""
    regions: dict[str, Region] = {}
    scope, paths = _region_paths(scope_code, regions) or [], _region_paths(region_code, regions) or []
    return bool(paths) and all(any(path.startswith(s) for s in scope) for path in paths)


def _require_direct(actor: Actor, member_codes: list[str]) -> None:
    """Keeping these members' agreement, and changing it directly (an administrator; the others propose)."""
    policy.POLICY.require(actor, "keep", member_codes)
    policy.POLICY.require(actor, "change_directly")


# --- validation ---------------------------------------------------------------------------------------


def _check_members(codes: list[str], errors: dict[str, list[str]]) -> None:
    if len(codes) != len(set(codes)):
        collect(errors, "member_codes", coded("duplicate_member", "成员区域重复"))
    codes = list(dict.fromkeys(codes))
    if len(codes) < 2:
        collect(errors, "member_codes", coded("too_few_members", "协议至少需要两个成员区域"))
    regions: dict[str, Region] = {}
    known = {}
    for code in codes:
        paths = _region_paths(code, regions)
        if paths is None:
            collect(errors, "member_codes", coded("unknown_region", "未知的行政区划代码 %(region)s", region=code))
        else:
            known[code] = paths
    for code, paths in known.items():
        for other, other_paths in known.items():
            if other != code and any(p.startswith(o) for p in paths for o in other_paths):
                collect(
                    errors,
                    "member_codes",
                    coded("member_within_member", "%(region)s 已包含在成员 %(other)s 之内", region=code, other=other),
                )


def check_terms(data: dict[str, Any], current: Agreement | None) -> None:
    """Every business rule on the merged values; one ValidationFailed listing all failures."""
    errors: dict[str, list[str]] = {}

    def value(key: str) -> Any:
        return data[key] if key in data else getattr(current, key, None)

    if current is None and not CODE_PATTERN.match(data.get("code") or ""):
        collect(
            errors, "code", coded("invalid_agreement_code", "编号只能由大写字母、数字和连字符组成，长 2 至 40 个字符")
        )
    if "member_codes" in data:
        _check_members(list(data["member_codes"]), errors)
    days = value("response_working_days")
    if days is None or not 1 <= days <= 60:
        collect(
            errors, "response_working_days", coded("response_days_out_of_range", "答复时限须在 1 至 60 个工作日之间")
        )
    signed, start, end = value("signed_on"), value("effective_from"), value("effective_to")
    for field in ("signed_on", "effective_from", "effective_to"):
        if field in data:
            check_business_date(data[field], field, errors)
    if start and signed and start < signed:
        collect(errors, "effective_from", coded("effective_before_signed", "生效日期不能早于签订日期"))
    if start and end and end < start:
        collect(errors, "effective_to", coded("ends_before_effective", "失效日期不能早于生效日期"))
    kind, scope = value("kind"), value("scope")
    if kind is not None and scope is not None and scope not in KIND_SCOPES[kind]:
        allowed = "、".join(str(SCOPE_LABELS[s]) for s in sorted(KIND_SCOPES[kind], key=lambda s: s.value))
        collect(
            errors,
            "scope",
            coded(
                "scope_does_not_fit_kind",
                "%(kind)s协议的适用范围只能是%(allowed)s",
                kind=KIND_LABELS[kind],
                allowed=allowed,
            ),
        )
    if errors:
        raise ValidationFailed(errors)


def new_agreement_terms(data: dict[str, Any]) -> dict[str, Any]:
    """A new agreement's terms with their defaults (effective from the signing date, 3 working days),
    members without repeats once checked. ValidationFailed listing every broken rule."""
    data = dict(data)
    if data.get("effective_from") is None:
        data["effective_from"] = data.get("signed_on")
    if data.get("response_working_days") is None:
        data["response_working_days"] = 3
    check_terms(data, None)
    data["member_codes"] = list(dict.fromkeys(data["member_codes"]))
    return data


def refuse_taken_code(code: str) -> None:
    if db.session.get(Agreement, code) is not None:
        raise StateConflict(coded("agreement_code_taken", "协议编号 %(agreement)s 已存在", agreement=code))


# --- keeping ------------------------------------------------------------------------------------------


def insert_agreement(data: dict[str, Any]) -> Agreement:
    """Write a new agreement from checked terms (``new_agreement_terms``); 409 when the code is taken."""
    refuse_taken_code(data["code"])
    agreement = Agreement(code=data["code"], active=True, **{k: data.get(k) for k in _EDITABLE})
    agreement.members = [AgreementMember(region_code=c) for c in data["member_codes"]]
    db.session.add(agreement)
    db.session.flush()
    return agreement


def write_changes(agreement: Agreement, data: dict[str, Any]) -> Agreement:
    """Write checked changes (terms, members, ``active``) to an agreement."""
    for key in _EDITABLE & data.keys():
        setattr(agreement, key, data[key])
    if "member_codes" in data:
        _replace_members(agreement, list(dict.fromkeys(data["member_codes"])))
    if "active" in data:
        agreement.active = data["active"]
    db.session.flush()
    return agreement


def create_agreement(actor: Actor, data: dict[str, Any]) -> Agreement:
    """An administrator records a new agreement with its member regions; effective from the signing date
    unless given. Coordinators propose instead (``proposals.propose_agreement``)."""
    _require_direct(actor, list(data.get("member_codes") or []))
    agreement = insert_agreement(new_agreement_terms(data))
    record(
        actor,
        "agreement_created",
        target_type="agreement",
        target_id=agreement.code,
        detail={"member_codes": agreement.member_codes},
    )
    return agreement


def update_agreement(actor: Actor, code: str, data: dict[str, Any]) -> Agreement:
    """An administrator changes an agreement's terms or members; ``active`` goes through deactivate/reactivate.
    Coordinators propose instead (``proposals.propose_change``)."""
    agreement = get_agreement(actor, code)
    data = dict(data)
    _require_direct(actor, agreement.member_codes)
    check_terms(data, agreement)
    active = data.pop("active", None)
    old_members = agreement.member_codes
    write_changes(agreement, data)
    if data:
        detail = {"fields": sorted(data)}
        if "member_codes" in data:
            detail.update(member_codes_before=old_members, member_codes=agreement.member_codes)
        record(actor, "agreement_changed", target_type="agreement", target_id=code, detail=detail)
    if active is not None and active != agreement.active:
        (reactivate_agreement if active else deactivate_agreement)(actor, code)
    return agreement


def _replace_members(agreement: Agreement, codes: list[str]) -> None:
    keep = [m for m in agreement.members if m.region_code in codes]
    have = {m.region_code for m in keep}
    agreement.members = keep + [AgreementMember(region_code=c) for c in codes if c not in have]


def check_active_transition(agreement: Agreement, name: str) -> None:
    """409 unless ``name`` (deactivate, reactivate) may start from the agreement's state (ACTIVE_TRANSITIONS)."""
    if agreement.active not in ACTIVE_TRANSITIONS[name]:
        if agreement.active:
            raise StateConflict(coded("agreement_already_active", "协议当前为启用状态，不能再启用"))
        raise StateConflict(coded("agreement_already_inactive", "协议当前为停用状态，不能再停用"))


def _transition(actor: Actor, code: str, name: str, active: bool) -> Agreement:
    agreement = get_agreement(actor, code)
    _require_direct(actor, agreement.member_codes)
    check_active_transition(agreement, name)
    agreement.active = active
    db.session.flush()
    record(actor, f"agreement_{name}d", target_type="agreement", target_id=code)
    return agreement


def deactivate_agreement(actor: Actor, code: str) -> Agreement:
    """Stop an agreement: no new routes or transfers under it (existing ones keep their history)."""
    return _transition(actor, code, "deactivate", False)


def reactivate_agreement(actor: Actor, code: str) -> Agreement:
    """Put a deactivated agreement back in force."""
    return _transition(actor, code, "reactivate", True)
