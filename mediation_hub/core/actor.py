"""The explicit actor every service function takes: who acts, in which role and scope."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    admin = "admin"
    registry_admin = "registry_admin"
    mediator = "mediator"
    legal_aid_officer = "legal_aid_officer"
    coordinator = "coordinator"


ORGANIZATION_SCOPED_ROLES = frozenset({Role.mediator, Role.legal_aid_officer})


@dataclass(frozen=True)
class Actor:
    """Who is acting. ``user_id`` is None for the system (scheduled jobs, seeding)."""

    user_id: int | None
    username: str
    role: Role
    organization_id: int | None = None
    region_code: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def sees_everything(self) -> bool:
        """Admins, the system, and region-scoped roles without a region see the whole country."""
        if self.is_admin or self.is_system:
            return True
        return self.role not in ORGANIZATION_SCOPED_ROLES and self.region_code is None

    def has_role(self, *roles: Role) -> bool:
        return self.is_admin or self.is_system or self.role in roles


SYSTEM = Actor(user_id=None, username="system", role=Role.admin)
