"""Who may change the registry (organisations, mediators, studios): the registry service, its pages and the
authorization matrix read this table (CONVENTIONS 16). Which records an actor sees at all is the service's scope
(a 404 for the others); where a registry administrator may register is checked on the input (a 422).

``OWN_ORGANIZATION`` (an organisation is the actor's own) is declared here, beside the model it reads, for the
packages whose actions are limited to the actor's own organisation (registering a case, filing an application)."""

from __future__ import annotations

from ..core.actor import Actor, Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, Scope, grant
from .models import Organization


def _is_own(actor: Actor, organization: Organization) -> bool:
    return actor.organization_id is not None and organization.id == actor.organization_id


OWN_ORGANIZATION = Scope("own_organization", _is_own)

POLICY = Policy(
    "registry",
    {
        # create and change organisations, mediators and studios; reveal a mediator's full numbers
        "edit": Rule(
            grant(ANYWHERE, Role.admin, Role.registry_admin),
            Refusal("registry_writers_only", N_("登记信息只能由登记管理员修改")),
        ),
    },
)
