"""Who may import historical cases: the import service, its page, the navigation and the authorization matrix
read this table (CONVENTIONS 16). Into which organisation each may import (any for an administrator, those of
the region for a registry administrator, its own for a mediator) is checked on the input (a 422), and which
import jobs each sees is the jobs' scope (a 404 for the others)."""

from __future__ import annotations

from ..core.actor import Role
from ..core.i18n import N_
from ..core.policy import ANYWHERE, Policy, Refusal, Rule, grant

POLICY = Policy(
    "imports",
    {
        "import_cases": Rule(
            grant(ANYWHERE, Role.admin, Role.registry_admin, Role.mediator),
            Refusal("may_not_import", N_("只有管理员、登记管理员和调解组织工作人员可以导入案件")),
        ),
    },
)
