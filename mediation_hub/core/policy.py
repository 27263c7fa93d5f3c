"""One permission policy per service: a table of actions × roles × scope (shared/CONVENTIONS.md point 16).

The service's checks, the pages (which buttons, forms and menu entries show) and the authorization matrix all
read the same table, so a page and its endpoint cannot disagree about who may act. A package declares its
policy in ``<package>/policy.py``, with the scopes that only it knows how to read beside it::

    HANDLING_ORGANIZATION = Scope("handling_organization", lambda actor, case: ...)

    POLICY = Policy(
        "cases",
        {
            "handle": Rule(
                grant(ANYWHERE, Role.admin) | grant(HANDLING_ORGANIZATION, Role.mediator),
                Refusal("not_handling_organization", N_("只有承办组织的调解员可以办理该案件")),
            ),
        },
    )

A service calls ``POLICY.require(actor, "handle", case)`` (it raises the rule's refusal: a 403, or what the rule
names); a page asks ``POLICY.allows(actor, "handle", case)``; ``POLICY.table()`` lists the cells for the tests
and the docs. Which records an actor may know of at all stays in the scoped queries (``cases_visible_to``,
a 404 for the others); the policy decides what it may do to a record it knows of.

Roles a rule does not name are refused. The system actor (scheduled jobs, seeding, commands) acts as an
administrator. Without a target, ``allows`` answers whether the role may do the action anywhere at all (a menu
entry, a "new" button); a service always passes the record it acts on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .actor import Actor, Role
from .errors import DomainError, PermissionDenied, ValidationFailed
from .messages import Coded, coded


@dataclass(frozen=True)
class Scope:
    """Where a role may act: ``name`` for the table, ``applies(actor, target)`` for the check. A scope that reads
    a record is declared beside the policy of the package that owns the record."""

    name: str
    applies: Callable[[Actor, Any], bool] = field(compare=False, repr=False)

    def __call__(self, actor: Actor, target: Any) -> bool:
        return self.applies(actor, target)


ANYWHERE = Scope("any", lambda actor, target: True)


@dataclass(frozen=True)
class Refusal:
    """What a refused actor is told: a coded message (``text`` marked with ``N_`` where it is written, translated
    when raised), as a 403 by default, as a 422 on ``field`` when the refusal is about one input."""

    code: str
    text: str
    error: Callable[[str], DomainError] = PermissionDenied
    field: str | None = None

    def message(self) -> Coded:
        return coded(self.code, self.text)

    def exception(self) -> DomainError:
        if self.field is not None:
            return ValidationFailed({self.field: [self.message()]})
        return self.error(self.message())


def grant(scope: Scope, *roles: Role) -> dict[Role, Scope]:
    """The cells of ``roles`` for one action: each may do it within ``scope`` (combine grants with ``|``)."""
    return dict.fromkeys(roles, scope)


@dataclass(frozen=True)
class Rule:
    """One action: the scope each role may do it in (roles not named may not), and the refusal."""

    grants: Mapping[Role, Scope]
    refusal: Refusal


@dataclass(frozen=True)
class Cell:
    """One cell of a policy's table: in ``package``, ``role`` may do ``action`` within the scope named ``scope``."""

    package: str
    action: str
    role: Role
    scope: str


def role_of(actor: Actor) -> Role:
    """The role the policies read: the system acts as an administrator."""
    return Role.admin if actor.is_system else actor.role


class Policy:
    """A package's table of actions × roles × scope, read by its service, its pages and the tests."""

    def __init__(self, package: str, rules: Mapping[str, Rule]) -> None:
        self.package = package
        self.rules = dict(rules)

    def rule(self, action: str) -> Rule:
        """The rule of ``action``; an action the table does not list is a programming error."""
        try:
            return self.rules[action]
        except KeyError:
            raise LookupError(f"{self.package} policy has no action {action!r}") from None

    def scope_for(self, actor: Actor, action: str) -> Scope | None:
        """The scope within which the actor may do ``action``, None when its role may not do it at all."""
        return self.rule(action).grants.get(role_of(actor))

    def allows(self, actor: Actor, action: str, target: Any = None) -> bool:
        """Whether the actor may do ``action`` to ``target`` (without one: anywhere at all)."""
        scope = self.scope_for(actor, action)
        return scope is not None and (target is None or scope(actor, target))

    def everywhere(self, actor: Actor, action: str) -> bool:
        """Whether the actor may do ``action`` to any record (a form that offers every organisation)."""
        return self.scope_for(actor, action) is ANYWHERE

    def require(self, actor: Actor, action: str, target: Any = None) -> None:
        """Raise the rule's refusal unless the actor may do ``action`` to ``target``."""
        if not self.allows(actor, action, target):
            raise self.rule(action).refusal.exception()

    def message(self, action: str) -> Coded:
        """The refusal's message, for a service that gathers it among other failures instead of raising it."""
        return self.rule(action).refusal.message()

    def roles(self, action: str) -> frozenset[Role]:
        """The roles that may do ``action`` somewhere (a menu entry's audience)."""
        return frozenset(self.rule(action).grants)

    def table(self) -> list[Cell]:
        """Every cell: one row per action and role that may do it, with the scope's name."""
        return [
            Cell(self.package, action, role, scope.name)
            for action, rule in self.rules.items()
            for role, scope in rule.grants.items()
        ]
