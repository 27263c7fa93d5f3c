"""Who may look after the federation between hubs: the administrators' page (the peers' state, the messages set
aside and sending them again), the navigation and the authorization matrix read this table (CONVENTIONS 16).
Peers themselves are added and removed only with the command line (``mediation-hub peers …``)."""

from __future__ import annotations

from ..core.actor import Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, grant

POLICY = Policy(
    "federation",
    {
        # see every peer's delivery state and send an undeliverable or refused message again
        "manage": Rule(
            grant(ANYWHERE, Role.admin),
            Refusal("admins_only", N_("只有系统管理员可以管理平台互联")),
        ),
    },
)
