"""Who may keep agreements and answer proposals: the agreements service, the proposals, the agreement pages and
the authorization matrix read this table (CONVENTIONS 16). Every signed-in role reads agreements; an
administrator changes one directly; a coordinator proposes, for agreements touching their region, and confirms
or declines for the member regions within it; the proposer withdraws.

The scopes read a region's place in the tree through ``service`` (imported as a module: the service reads this
policy too)."""

from __future__ import annotations

from collections.abc import Sequence

from ..core.actor import Actor, Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, Scope, grant
from . import service
from .models import AgreementProposal


def speaks_for(actor: Actor, region_code: str) -> bool:
    """Whether the actor's region is the member region or contains it (a coordinator without a region speaks
    for no member region: only an administrator overrides them)."""
    return actor.region_code is not None and service.lies_within(region_code, actor.region_code)


def _touches_members(actor: Actor, member_codes: Sequence[str]) -> bool:
    return actor.region_code is None or service.touches_region(list(member_codes), actor.region_code)


def _speaks_for_a_member(actor: Actor, proposal: AgreementProposal) -> bool:
    return any(speaks_for(actor, region.region_code) for region in proposal.regions)


def _proposed_it(actor: Actor, proposal: AgreementProposal) -> bool:
    return actor.is_system or (actor.user_id is not None and actor.user_id == proposal.proposed_by_id)


# An agreement (the target: its member codes) with a member in the actor's region, or one containing it; a
# coordinator without a region keeps every agreement.
MEMBERS_IN_REGION = Scope("members_in_region", _touches_members)
# A proposal (the target) with a member region the actor speaks for.
MEMBER_REGION = Scope("member_region", _speaks_for_a_member)
# A proposal (the target) the actor made (the system withdraws any).
PROPOSER = Scope("proposer", _proposed_it)

POLICY = Policy(
    "agreements",
    {
        # create, change, deactivate or reactivate an agreement: directly (an administrator) or by proposing
        "keep": Rule(
            grant(ANYWHERE, Role.admin) | grant(MEMBERS_IN_REGION, Role.coordinator),
            Refusal("not_agreement_keeper", N_("只有管理员和协调人员可维护涉及其辖区的协议")),
        ),
        # change it without the members' consent (the others propose)
        "change_directly": Rule(
            grant(ANYWHERE, Role.admin),
            Refusal(
                "proposal_required",
                N_(
                    "协议约束全体成员，协调人员只能提出提议，经各成员区域的协调人员确认后生效"
                    "（POST /api/v1/agreement-proposals 或 /api/v1/agreements/CODE/proposals）"
                ),
            ),
        ),
        "confirm": Rule(
            grant(MEMBER_REGION, Role.coordinator),
            Refusal("not_member_coordinator", N_("只有成员区域的协调人员可以确认提议；管理员可直接使其生效")),
        ),
        "decline": Rule(
            grant(ANYWHERE, Role.admin) | grant(MEMBER_REGION, Role.coordinator),
            Refusal("not_member_coordinator", N_("只有成员区域的协调人员或管理员可以拒绝提议")),
        ),
        "withdraw": Rule(grant(PROPOSER, *Role), Refusal("not_proposer", N_("只有提议人可以撤回提议"))),
        # apply a pending proposal at once, whatever confirmations are missing
        "apply": Rule(grant(ANYWHERE, Role.admin), Refusal("admins_only", N_("只有管理员可以直接使提议生效"))),
    },
)
