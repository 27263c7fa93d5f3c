"""Who may keep the working-day calendar: the calendar service, its page (and the administrators' banner
asking for next year's notice) and the authorization matrix read this table (CONVENTIONS 16). Every user reads
which years are official or provisional."""

from __future__ import annotations

from ..core.actor import Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, grant

POLICY = Policy(
    "calendars",
    {
        # load or correct a year's official notice (page, API or command line), and be told which year is due
        "maintain": Rule(
            grant(ANYWHERE, Role.admin),
            Refusal("admins_only", N_("只有系统管理员可以维护工作日历")),
        ),
    },
)
