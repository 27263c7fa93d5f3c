"""Who may do what to a legal-aid application: the legal-aid service, its pages, its documents and the
authorization matrix read this table (CONVENTIONS 16). Which applications an actor sees at all is the service's
scope (a 404 for the others: a centre that passed one on, or a region's coordinator, reads it only).
``HOLDING_CENTRE`` is declared here, beside the model it reads."""

from __future__ import annotations

from ..core.actor import Actor, Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, Scope, grant
from ..registry.policy import OWN_ORGANIZATION
from .models import LegalAidApplication


def _of_holding_centre(actor: Actor, application: LegalAidApplication) -> bool:
    return actor.organization_id is not None and actor.organization_id == application.centre_id


# A user of the centre that holds the application now (not the centre that filed it and passed it on).
HOLDING_CENTRE = Scope("holding_centre", _of_holding_centre)

POLICY = Policy(
    "legal_aid",
    {
        "file": Rule(
            grant(ANYWHERE, Role.admin, Role.legal_aid_officer),
            Refusal("not_legal_aid_officer", N_("只有法律援助中心工作人员可以登记申请")),
        ),
        # the centre an application is filed at (the target: an Organization); refused on that input (422)
        "file_at": Rule(
            grant(ANYWHERE, Role.admin) | grant(OWN_ORGANIZATION, Role.legal_aid_officer),
            Refusal("not_own_centre", N_("只能以本中心名义登记申请"), field="centre_id"),
        ),
        # every transition: transfer, accept, decide, assign, close, the supplement steps
        "handle": Rule(
            grant(ANYWHERE, Role.admin) | grant(HOLDING_CENTRE, Role.legal_aid_officer),
            Refusal("not_holding_centre", N_("只有当前持有该申请的法律援助中心可以办理")),
        ),
        # the applicant's full numbers in the application's documents: the holding centre's users, not even an admin
        "reveal_applicant": Rule(
            grant(HOLDING_CENTRE, *Role),
            Refusal("not_holding_centre", N_("只有当前持有该申请的法律援助中心可以办理")),
        ),
    },
)
