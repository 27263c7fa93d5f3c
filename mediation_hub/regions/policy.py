"""Who may add towns and villages to the divisions: the places service, its page, its API and the authorization
matrix read this table (CONVENTIONS 16). Every user reads the divisions."""

from __future__ import annotations

from ..core.actor import Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, grant

POLICY = Policy(
    "regions",
    {
        # add or rename towns (乡镇、街道) and villages (村、社区) from a csv (page, API or command line)
        "maintain_places": Rule(
            grant(ANYWHERE, Role.admin),
            Refusal("admins_only", N_("只有系统管理员可以导入乡镇和村")),
        ),
    },
)
