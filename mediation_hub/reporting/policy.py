"""Who may read the dashboard and keep report subscriptions: the reporting service, its pages, the navigation
and the authorization matrix read this table (CONVENTIONS 16). Which regions, organisations, subscriptions
and deliveries an official reaches is the service's scope (a 404, or a 422 on the input, for the others)."""

from __future__ import annotations

from ..core.actor import Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, grant

OFFICIALS = (Role.admin, Role.coordinator)

POLICY = Policy(
    "reporting",
    {
        # the dashboard page and its download (the report API answers everyone, within their scope)
        "see_dashboard": Rule(
            grant(ANYWHERE, *OFFICIALS),
            Refusal("officials_only", N_("统计看板供协调人员和管理员使用")),
        ),
        # create, pause and resume a governance centre's subscription
        "manage_subscriptions": Rule(
            grant(ANYWHERE, *OFFICIALS),
            Refusal("officials_only", N_("只有协调人员或管理员可以管理报表订阅")),
        ),
        # put a failed delivery back in the outbox
        "redeliver": Rule(
            grant(ANYWHERE, *OFFICIALS),
            Refusal("officials_only", N_("只有协调人员或管理员可以重新投递")),
        ),
    },
)
