"""Declared domain events: who reacts to a lifecycle step is written down, not imported.

A service that completes a step emits one event, a frozen dataclass with a typed payload and a dotted name
(``case.accepted``, ``transfer.answered``, ``legal_aid.decided``), declared in the emitting package's
``events.py``. Packages that react subscribe in one registry of their own, ``<package>/listeners.py``::

    listeners = Listeners("notifications")

    @listeners.on(TransferExpired, after_commit=True)
    def text_the_sender(event: TransferExpired) -> None: ...

The app wires the registries it has (``mediation_hub.LISTENER_REGISTRIES``) at start-up; a missing module
fails the start, it never switches a feature off. ``mediation-hub events`` prints who listens to what.

When an event is emitted:

* a listener subscribed in the transaction (the default) runs at once, in the emitting service's
  transaction: the rate aggregates count the step in the same commit as the step, or not at all;
* an ``after_commit`` listener is queued on the unit of work (``core.uow.after_commit``) and runs once the
  transaction has committed: anything that talks to the world (an SMS, a peer hub, a thread) goes there, so
  a rolled-back step never sends anything.

A registry may also follow a table whoever writes it through the ORM (``@listeners.on_flush()``): the function runs
at the end of every flush, in the flushing transaction, with the session (its new, dirty and deleted objects still
show what the flush wrote). The reporting package keeps its transfer and legal-aid month aggregates this way. Like
every subscription it is wired by ``install`` (not by importing the module) and listed by ``mediation-hub events``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import uow


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """A step that happened. Subclasses set ``name`` and declare their payload as fields."""

    name: ClassVar[str] = ""


E = TypeVar("E", bound=DomainEvent)
Listener = Callable[[Any], None]


@dataclass(frozen=True)
class Subscription:
    """One listener of one event type (or of a base class: it then hears every subclass)."""

    event: type[DomainEvent]
    listener: Listener
    package: str
    after_commit: bool

    @property
    def where(self) -> str:
        return f"{self.listener.__module__}.{self.listener.__qualname__}"


FlushListener = Callable[[Session], None]


@dataclass(frozen=True)
class FlushHook:
    """A function that runs after every ORM flush (``Listeners.on_flush``)."""

    listener: FlushListener
    package: str
    prepare: Callable[[], None] | None

    @property
    def where(self) -> str:
        return f"{self.listener.__module__}.{self.listener.__qualname__}"


@dataclass
class Listeners:
    """One package's subscriptions (its ``listeners.py`` makes one and decorates its functions)."""

    package: str
    subscriptions: list[Subscription] = field(default_factory=list)
    flush_hooks: list[FlushHook] = field(default_factory=list)

    def on(self, *events: type[DomainEvent], after_commit: bool = False) -> Callable[[Listener], Listener]:
        """Subscribe the decorated function to ``events`` (in the transaction, or after it commits)."""
        for event in events:
            if not (isinstance(event, type) and issubclass(event, DomainEvent)):
                raise TypeError(f"{event!r} is not a declared domain event")

        def subscribe(listener: Listener) -> Listener:
            for event in events:
                self.subscriptions.append(Subscription(event, listener, self.package, after_commit))
            return listener

        return subscribe

    def on_flush(self, *, prepare: Callable[[], None] | None = None) -> Callable[[FlushListener], FlushListener]:
        """Run the decorated function after every ORM flush, in the flushing transaction; ``prepare`` runs once
        when the app wires the registry (e.g. asking the ORM to keep the old values the function compares)."""

        def subscribe(listener: FlushListener) -> FlushListener:
            self.flush_hooks.append(FlushHook(listener, self.package, prepare))
            return listener

        return subscribe


class _Registry:
    """The subscriptions of the registries the app wired, looked up by the emitted event's class hierarchy."""

    def __init__(self) -> None:
        self.installed = False
        self.subscriptions: tuple[Subscription, ...] = ()
        self.flush_hooks: tuple[FlushHook, ...] = ()

    def install(self, registries: Iterable[Listeners]) -> None:
        registries = list(registries)
        self.subscriptions = tuple(sub for registry in registries for sub in registry.subscriptions)
        self.flush_hooks = tuple(hook for registry in registries for hook in registry.flush_hooks)
        for hook in self.flush_hooks:
            if hook.prepare is not None:
                hook.prepare()
        if self.flush_hooks and not sa.event.contains(Session, "after_flush", _after_flush):
            sa.event.listen(Session, "after_flush", _after_flush)
        self.installed = True

    def for_event(self, event: DomainEvent) -> list[Subscription]:
        return self.for_type(type(event))

    def for_type(self, event: type[DomainEvent]) -> list[Subscription]:
        kinds = event.__mro__
        return [sub for sub in self.subscriptions if sub.event in kinds]


_registry = _Registry()


def _after_flush(session: Session, _flush_context: object) -> None:
    for hook in _registry.flush_hooks:
        hook.listener(session)


def flush_hooks() -> tuple[FlushHook, ...]:
    """The wired functions that run after every flush (``Listeners.on_flush``), in the order they run."""
    return _registry.flush_hooks


def install(registries: Iterable[Listeners]) -> None:
    """Wire the app's listener registries (``create_app``); replaces an earlier wiring."""
    _registry.install(registries)


def emit(event: DomainEvent) -> None:
    """Tell the listeners that ``event`` happened: in-transaction ones now, the others after the commit."""
    if not _registry.installed:
        raise RuntimeError(f"{event.name}: no listener registry is wired (create_app installs it)")
    for sub in _registry.for_event(event):
        if sub.after_commit:
            uow.after_commit(partial(sub.listener, event))
        else:
            sub.listener(event)


def listeners_of(event: type[DomainEvent]) -> list[Subscription]:
    """The wired subscriptions that hear ``event`` (its own and its base classes'), in the order they run."""
    return _registry.for_type(event)


def subscriptions() -> tuple[Subscription, ...]:
    """Every wired subscription, in registry order (``mediation-hub events``, docs/ARCHITECTURE.md)."""
    return _registry.subscriptions


def declared_events() -> list[type[DomainEvent]]:
    """Every declared event class with a name, sorted by name (imported event modules only)."""
    found: list[type[DomainEvent]] = []
    stack: list[type[DomainEvent]] = [DomainEvent]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.name:
            found.append(cls)
    return sorted(set(found), key=lambda cls: cls.name)
