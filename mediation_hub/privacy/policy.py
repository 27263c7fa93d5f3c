"""Who may handle personal-data requests (PIPL) and erase expired personal data: the privacy service, its
pages, the navigation and the authorization matrix read this table (CONVENTIONS 16)."""

from __future__ import annotations

from ..core.actor import Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, grant

_ADMINS_ONLY = Refusal("admins_only", N_("只有系统管理员可以处理个人信息请求"))

POLICY = Policy(
    "privacy",
    {
        # find, export or erase one person's data, wherever their records are
        "person_request": Rule(grant(ANYWHERE, Role.admin), _ADMINS_ONLY),
        # the retention run: erase what was kept past the retention period
        "erase_expired": Rule(grant(ANYWHERE, Role.admin), _ADMINS_ONLY),
    },
)
