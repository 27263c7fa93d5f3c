"""Who may manage accounts: the auth service, the account pages, the navigation and the authorization matrix
read this table (CONVENTIONS 16). Everyone changes their own password and signs themselves out."""

from __future__ import annotations

from ..core.actor import Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, grant

POLICY = Policy(
    "auth",
    {
        # list, create, change and switch off accounts
        "manage_accounts": Rule(
            grant(ANYWHERE, Role.admin),
            Refusal("admins_only", N_("只有系统管理员可以管理账户")),
        ),
    },
)
