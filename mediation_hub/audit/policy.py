"""Who may read the audit log: the audit service, its page, the navigation and the authorization matrix read
this table (CONVENTIONS 16). Every package writes the log; only administrators read it."""

from __future__ import annotations

from ..core.actor import Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, grant

POLICY = Policy(
    "audit",
    {
        "read_log": Rule(
            grant(ANYWHERE, Role.admin),
            Refusal("admins_only", N_("只有系统管理员可以查看审计日志")),
        ),
    },
)
