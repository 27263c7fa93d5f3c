"""Proposals: an agreement binds every member, so a coordinator does not create or change one, but proposes.

A proposal is ``pending`` until a coordinator of every affected member region has confirmed it: for a new
agreement its members, for a change of members every region of the old and the new member sets, for any
other change (terms, dates, scope, deactivation …) the current members. The proposer's own region counts as
confirmed by proposing. A coordinator confirms for the member regions that lie within their own region; a
member's coordinator (or an administrator) may decline; the proposer may withdraw; an administrator may apply
it at once. The last confirmation applies it in the same transaction. Until then nothing about the agreement
changes, so routing, transfers and legal-aid hand-overs never see a pending proposal.

Every transition is one function, allowed only from the states ``PROPOSAL_TRANSITIONS`` lists, and writes an
audit row; the regions whose confirmation is needed are notified."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..audit.service import record
from ..core.actor import Actor, Role
from ..core.db import utcnow
from ..core.i18n import N_
from ..core.messages import coded
from ..errors import NotFound, StateConflict, ValidationFailed
from ..extensions import db
from ..notifications.service import notify
from ..regions.models import Region, RegionMember
from . import service
from .models import (
    PROPOSAL_STATE_LABELS,
    Agreement,
    AgreementProposal,
    AgreementProposalRegion,
    ProposalAction,
    ProposalState,
    terms_from_json,
    terms_to_json,
)
from .policy import POLICY, speaks_for

# The states each transition may start from.
PROPOSAL_TRANSITIONS = {
    "confirm": {ProposalState.pending},
    "decline": {ProposalState.pending},
    "withdraw": {ProposalState.pending},
    "apply": {ProposalState.pending},
}
REASON_MAX = 500


def proposal_link(proposal_id: int) -> str:
    return f"/agreements/proposals/{proposal_id}"


# --- who may do what ----------------------------------------------------------------------------------


def answers_for(actor: Actor, region_code: str) -> bool:
    """Whether the actor is a coordinator of the member region: assigned to it or to a region containing it.
    A coordinator without a region speaks for no member region (only an administrator overrides them)."""
    return actor.role == Role.coordinator and speaks_for(actor, region_code)


def unconfirmed_for(actor: Actor, proposal: AgreementProposal) -> list[AgreementProposalRegion]:
    """The member regions the actor answers for that have not confirmed yet: what confirming would confirm
    (who may confirm at all is ``POLICY "confirm"``)."""
    return [r for r in proposal.regions if not r.confirmed and answers_for(actor, r.region_code)]


TRANSITION_LABELS = {"confirm": N_("确认"), "decline": N_("拒绝"), "withdraw": N_("撤回"), "apply": N_("直接生效")}


def _require_state(proposal: AgreementProposal, transition: str) -> None:
    allowed = PROPOSAL_TRANSITIONS[transition]
    if proposal.state not in allowed:
        names = "、".join(str(PROPOSAL_STATE_LABELS[s]) for s in allowed)
        raise StateConflict(
            coded(
                "proposal_state_conflict",
                "提议当前为「%(state)s」，不能%(action)s（仅限%(allowed)s）",
                state=PROPOSAL_STATE_LABELS[proposal.state],
                action=gettext(TRANSITION_LABELS[transition]),
                allowed=names,
            )
        )


# --- reading ------------------------------------------------------------------------------------------


def _touching(region_code: str) -> sa.Select[tuple[str]] | sa.CompoundSelect[tuple[str]]:
    """Region codes touching ``region_code``: its ancestors and its subtree, and custom regions with a
    member among them (a custom region by its members)."""
    paths = service._region_paths(region_code, {}) or []
    if not paths:
        return sa.select(Region.code).where(sa.false())
    touch = sa.or_(*(sa.or_(Region.path.startswith(p), sa.literal(p).startswith(Region.path)) for p in paths))
    plain = sa.select(Region.code).where(touch)
    grouped = sa.select(RegionMember.group_code).join(Region, Region.code == RegionMember.member_code).where(touch)
    return sa.union(plain, grouped)


def _visible(actor: Actor) -> sa.ColumnElement[bool]:
    """Administrators see every proposal; a coordinator those touching their region and their own; other
    roles none (a proposal is not a rule yet)."""
    if actor.is_admin or actor.is_system or (actor.role == Role.coordinator and actor.region_code is None):
        return sa.true()
    if actor.role != Role.coordinator:
        return sa.false()
    assert actor.region_code is not None  # a coordinator without a region sees every proposal (above)
    concerned = sa.select(AgreementProposalRegion.proposal_id).where(
        AgreementProposalRegion.region_code.in_(_touching(actor.region_code))
    )
    return sa.or_(AgreementProposal.id.in_(concerned), AgreementProposal.proposed_by_id == actor.user_id)


def list_proposals(
    actor: Actor, *, state: ProposalState | None = None, agreement_code: str | None = None
) -> sa.Select[tuple[AgreementProposal]]:
    """The proposals the actor may see, newest first, by state and agreement code."""
    stmt = sa.select(AgreementProposal).options(selectinload(AgreementProposal.regions)).where(_visible(actor))
    if state is not None:
        stmt = stmt.where(AgreementProposal.state == state)
    if agreement_code:
        stmt = stmt.where(AgreementProposal.agreement_code == agreement_code.upper())
    return stmt.order_by(AgreementProposal.id.desc())


def get_proposal(actor: Actor, proposal_id: int) -> AgreementProposal:
    """The proposal, or NotFound when it does not exist or does not concern the actor's region."""
    proposal = db.session.scalar(
        sa.select(AgreementProposal).where(AgreementProposal.id == proposal_id, _visible(actor))
    )
    if proposal is None:
        raise NotFound("agreement proposal")
    return proposal


def pending_for(actor: Actor, agreement_code: str) -> AgreementProposal | None:
    """The agreement's pending proposal, when the actor may see it."""
    return db.session.scalar(list_proposals(actor, state=ProposalState.pending, agreement_code=agreement_code))


# --- proposing ----------------------------------------------------------------------------------------


def propose_agreement(actor: Actor, data: dict[str, Any]) -> AgreementProposal:
    """Propose a new agreement (the fields of a direct create). It exists only once a coordinator of every
    member region has confirmed; 422 naming each broken rule, 409 when the code is taken or already proposed."""
    POLICY.require(actor, "keep", list(data.get("member_codes") or []))
    terms = service.new_agreement_terms(data)
    service.refuse_taken_code(terms["code"])
    return _open(actor, terms["code"], ProposalAction.create, terms, {}, terms["member_codes"])


def propose_change(actor: Actor, code: str, data: dict[str, Any]) -> AgreementProposal:
    """Propose new terms, members or ``active`` flag for an agreement touching the proposer's region. Only the
    fields that differ are kept; the regions of the old and the new member sets must all confirm."""
    agreement = service.get_agreement(actor, code)
    POLICY.require(actor, "keep", agreement.member_codes)
    service.check_terms(data, agreement)
    changes = _differences(agreement, data)
    if not changes:
        raise ValidationFailed({"_schema": [coded("proposal_changes_nothing", "提议没有修改任何内容")]})
    before = {key: _current(agreement, key) for key in changes}
    regions = list(dict.fromkeys([*agreement.member_codes, *changes.get("member_codes", [])]))
    return _open(actor, agreement.code, ProposalAction.change, changes, before, regions)


def _current(agreement: Agreement, key: str) -> Any:
    return sorted(agreement.member_codes) if key == "member_codes" else getattr(agreement, key)


def _differences(agreement: Agreement, data: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "member_codes":
            value = list(dict.fromkeys(value))
            if sorted(value) != sorted(agreement.member_codes):
                changes[key] = sorted(value)
        elif value != getattr(agreement, key):
            changes[key] = value
    return changes


def _open(
    actor: Actor,
    code: str,
    action: ProposalAction,
    changes: dict[str, Any],
    before: dict[str, Any],
    regions: list[str],
) -> AgreementProposal:
    _refuse_second_pending(code)
    proposal = AgreementProposal(
        agreement_code=code,
        action=action,
        state=ProposalState.pending,
        changes=terms_to_json(changes),
        before=terms_to_json(before),
        proposed_by_id=actor.user_id,
        proposed_by=actor.username,
    )
    proposal.regions = [AgreementProposalRegion(region_code=c) for c in sorted(regions)]
    db.session.add(proposal)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # a concurrent proposal for the same agreement got in first
        raise StateConflict(coded("proposal_pending", "协议 %(agreement)s 已有待确认的提议", agreement=code)) from exc
    own = _confirm_regions(actor, proposal)
    record(
        actor,
        "agreement_proposed",
        target_type="agreement_proposal",
        target_id=proposal.id,
        detail={
            "agreement_code": code,
            "action": action.value,
            "fields": sorted(changes),
            "regions": sorted(regions),
            "confirmed_by_proposing": own,
        },
    )
    if not proposal.awaiting:  # the proposer coordinates every affected region
        _apply(actor, proposal)
    else:
        _ask_for_confirmation(proposal)
    return proposal


def _refuse_second_pending(code: str) -> None:
    pending = db.session.scalar(
        sa.select(AgreementProposal.id).where(
            AgreementProposal.agreement_code == code, AgreementProposal.state == ProposalState.pending
        )
    )
    if pending is not None:
        raise StateConflict(
            coded(
                "proposal_pending",
                "协议 %(agreement)s 已有待确认的提议 #%(id)s，请待其确认、拒绝或撤回后再提",
                agreement=code,
                id=pending,
            )
        )


def _ask_for_confirmation(proposal: AgreementProposal) -> None:
    """One notice per region whose confirmation is missing, for the coordinators of that region."""
    what = "新建协议" if proposal.action == ProposalAction.create else "修改协议"
    for region_code in proposal.awaiting:
        notify(
            kind="agreement_proposal",
            region_code=region_code,
            link=proposal_link(proposal.id),
            message=f"{proposal.proposed_by} 提议{what} {proposal.agreement_code}，"
            f"须经各成员区域的协调人员确认后生效，请确认或拒绝",
        )


# --- answering ----------------------------------------------------------------------------------------


def _confirm_regions(actor: Actor, proposal: AgreementProposal) -> list[str]:
    mine = unconfirmed_for(actor, proposal)
    now = utcnow()
    for row in mine:
        row.confirmed_by_id, row.confirmed_by, row.confirmed_at = actor.user_id, actor.username, now
    _flush_answer()
    return [r.region_code for r in mine]


def _flush_answer() -> None:
    """Flush an answer. The proposal's version column turns a concurrent answer (another confirmation, a
    decline, a withdrawal) into a 409 instead of a second answer or a lost confirmation."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise StateConflict(coded("concurrent_change", "提议已被他人同时处理，请刷新后重试")) from exc


def _close(actor: Actor, proposal: AgreementProposal, state: ProposalState, reason: str | None = None) -> None:
    """Leave ``pending``."""
    proposal.state, proposal.reason = state, reason
    proposal.decided_by_id, proposal.decided_by, proposal.decided_at = actor.user_id, actor.username, utcnow()
    _flush_answer()


def confirm_proposal(actor: Actor, proposal_id: int) -> AgreementProposal:
    """A coordinator confirms for the member regions within their region; the last confirmation applies it."""
    proposal = get_proposal(actor, proposal_id)
    POLICY.require(actor, "confirm", proposal)
    _require_state(proposal, "confirm")
    confirmed = _confirm_regions(actor, proposal)
    if not confirmed:
        raise StateConflict(coded("already_confirmed", "本辖区的成员区域已确认该提议"))
    proposal.updated_at = utcnow()  # the proposal's version moves: two last confirmations cannot both miss
    _flush_answer()  # each other and leave it pending with every region confirmed
    record(
        actor,
        "agreement_proposal_confirmed",
        target_type="agreement_proposal",
        target_id=proposal.id,
        detail={"agreement_code": proposal.agreement_code, "regions": confirmed},
    )
    if not proposal.awaiting:
        _apply(actor, proposal)
    return proposal


def decline_proposal(actor: Actor, proposal_id: int, *, reason: str | None) -> AgreementProposal:
    """A coordinator of an affected member region (or an administrator) declines, with a reason."""
    proposal = get_proposal(actor, proposal_id)
    POLICY.require(actor, "decline", proposal)
    _require_state(proposal, "decline")
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise ValidationFailed(
            {"reason": [coded("reason_required", "请说明拒绝的理由（不超过 %(max)s 字）", max=REASON_MAX)]}
        )
    _close(actor, proposal, ProposalState.declined, reason)
    record(
        actor,
        "agreement_proposal_declined",
        target_type="agreement_proposal",
        target_id=proposal.id,
        detail={"agreement_code": proposal.agreement_code},
    )
    _tell_proposer(actor, proposal, f"您对协议 {proposal.agreement_code} 的提议已被 {actor.username} 拒绝：{reason}")
    return proposal


def withdraw_proposal(actor: Actor, proposal_id: int) -> AgreementProposal:
    """The proposer takes a pending proposal back."""
    proposal = get_proposal(actor, proposal_id)
    POLICY.require(actor, "withdraw", proposal)
    _require_state(proposal, "withdraw")
    _close(actor, proposal, ProposalState.withdrawn)
    record(
        actor,
        "agreement_proposal_withdrawn",
        target_type="agreement_proposal",
        target_id=proposal.id,
        detail={"agreement_code": proposal.agreement_code},
    )
    return proposal


def apply_proposal(actor: Actor, proposal_id: int) -> AgreementProposal:
    """An administrator applies a pending proposal at once, whatever confirmations are missing."""
    proposal = get_proposal(actor, proposal_id)
    POLICY.require(actor, "apply")
    _require_state(proposal, "apply")
    _apply(actor, proposal)
    return proposal


def _apply(actor: Actor, proposal: AgreementProposal) -> None:
    """Write the proposal into the agreement (409 when the agreement changed since it was proposed, or the
    code was taken meanwhile) and close it as applied."""
    terms = proposal.proposed_terms
    if proposal.action == ProposalAction.create:
        service.check_terms(terms, None)
        service.insert_agreement(terms)
    else:
        agreement = db.session.get(Agreement, proposal.agreement_code)
        if agreement is None or any(
            _current(agreement, key) != value for key, value in terms_from_json(proposal.before).items()
        ):
            raise StateConflict(
                f"协议 {proposal.agreement_code} 在提议后已被修改，本提议已过时，请撤回或拒绝 "
                "(the agreement changed since the proposal)"
            )
        service.check_terms(terms, agreement)
        service.write_changes(agreement, terms)
    _close(actor, proposal, ProposalState.applied)
    record(
        actor,
        "agreement_proposal_applied",
        target_type="agreement_proposal",
        target_id=proposal.id,
        detail={
            "agreement_code": proposal.agreement_code,
            "action": proposal.action.value,
            "fields": sorted(terms),
            "confirmed": [r.region_code for r in proposal.regions if r.confirmed],
        },
    )
    _tell_proposer(actor, proposal, f"您对协议 {proposal.agreement_code} 的提议已生效")


def _tell_proposer(actor: Actor, proposal: AgreementProposal, message: str) -> None:
    if proposal.proposed_by_id is not None and proposal.proposed_by_id != actor.user_id:
        notify(
            kind=f"agreement_proposal_{proposal.state.value}",
            user_id=proposal.proposed_by_id,
            link=proposal_link(proposal.id),
            message=message,
        )
