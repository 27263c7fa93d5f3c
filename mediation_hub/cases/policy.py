"""Who may do what to a case: the cases service, the case pages and the authorization matrix read this table
(CONVENTIONS 16). Which cases an actor sees at all is ``service.scope`` (a 404 for the others); this table
decides what it may do to a case it sees. ``HANDLING_ORGANIZATION`` is declared here, beside the model it
reads; the transfers policy uses it too."""

from __future__ import annotations

from ..core.actor import Actor, Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, Scope, grant
from ..registry.policy import OWN_ORGANIZATION
from .models import Case

# The staff of an organisation that may handle cases: they register them and move them through their lifecycle.
CASE_HANDLER_ROLES = (Role.mediator, Role.legal_aid_officer)


def _of_handling_organization(actor: Actor, case: Case) -> bool:
    return actor.organization_id is not None and actor.organization_id == case.organization_id


# A user of the organisation that handles the case now (co-mediating partners and former handlers are not).
HANDLING_ORGANIZATION = Scope("handling_organization", _of_handling_organization)

POLICY = Policy(
    "cases",
    {
        # register a case, or ask what registering its parties would warn of
        "register": Rule(
            grant(ANYWHERE, Role.admin, *CASE_HANDLER_ROLES),
            Refusal("not_mediation_staff", N_("只有调解组织的工作人员可以登记案件")),
        ),
        # the organisation a case is registered for (the target: an Organization); refused on that input (422)
        "register_for": Rule(
            grant(ANYWHERE, Role.admin) | grant(OWN_ORGANIZATION, *CASE_HANDLER_ROLES),
            Refusal("not_own_organization", N_("只能为本组织登记案件"), field="organization_id"),
        ),
        # every lifecycle transition: accept, decline, sessions, conclude, extend, confirmation, follow-ups
        "handle": Rule(
            grant(ANYWHERE, Role.admin) | grant(HANDLING_ORGANIZATION, *CASE_HANDLER_ROLES),
            Refusal("not_handling_organization", N_("只有承办组织的调解员可以办理该案件")),
        ),
        # a party's full ID number and phone (audited): the handling organisation's users only, not even an admin
        "reveal_party": Rule(
            grant(HANDLING_ORGANIZATION, *Role),
            Refusal("not_handling_organization", N_("只有承办组织的工作人员可以查看完整证件号码")),
        ),
    },
)
