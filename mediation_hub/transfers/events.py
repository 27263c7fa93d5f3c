"""The declared events of a transfer or joint-mediation request: requested, answered, withdrawn, expired, escalated.

The transfers service emits one when a step is done (after the case event row it writes), with the request's
ids, both organisations and the mode; who reacts (the notices to either side and to the coordinators) is
declared in the listener registries (``notifications.listeners``), not called from the service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar, TypedDict

from ..core.events import DomainEvent
from .models import Transfer, TransferMode


def event_code(mode: TransferMode, outcome: str) -> str:
    """``transfer_accepted``, ``joint_requested`` …: the registered case event (and notice kind) for a step."""
    return f"{'joint' if mode == TransferMode.joint else 'transfer'}_{outcome}"


@dataclass(frozen=True, kw_only=True)
class TransferStep(DomainEvent):
    """What every step of a request carries (the base of the transfer events; not emitted itself)."""

    transfer_id: int
    case_id: int
    mode: TransferMode  # transfer: the case moves on acceptance; joint: the receiver co-mediates
    from_organization_id: int
    to_organization_id: int
    on_date: date  # the day of the step (requested, answered, withdrawn or expired on)

    def code(self, outcome: str) -> str:
        """The case event code (and notice kind) of this request's mode for ``outcome``."""
        return event_code(self.mode, outcome)

    @property
    def link(self) -> str:
        """The request's page in the hub (for notices)."""
        return f"/transfers/{self.transfer_id}"


@dataclass(frozen=True, kw_only=True)
class TransferRequested(TransferStep):
    """A case was sent to a partner organisation, or it was asked to co-mediate; it answers by ``respond_by``."""

    name: ClassVar[str] = "transfer.requested"

    respond_by: date


@dataclass(frozen=True, kw_only=True)
class TransferAnswered(TransferStep):
    """The receiving organisation accepted (``accepted``) or declined (with ``reason_code``) the request."""

    name: ClassVar[str] = "transfer.answered"

    accepted: bool
    reason_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class TransferWithdrawn(TransferStep):
    """The sending organisation withdrew the request before it was answered."""

    name: ClassVar[str] = "transfer.withdrawn"


@dataclass(frozen=True, kw_only=True)
class TransferWithdrawalAsked(TransferStep):
    """The sending organisation asked to withdraw a request whose receiver is on another hub: that hub owns the
    answer, so the request stays pending here until it says withdrawn (or what answer won there)."""

    name: ClassVar[str] = "transfer.withdrawal_asked"


@dataclass(frozen=True, kw_only=True)
class TransferExpired(TransferStep):
    """The request was not answered by ``respond_by``: it expired; the case stays with the sender."""

    name: ClassVar[str] = "transfer.expired"

    respond_by: date


@dataclass(frozen=True, kw_only=True)
class TransferEscalated(TransferStep):
    """An expired request was reported to the coordinators of both sides' provinces (again, when run again)."""

    name: ClassVar[str] = "transfer.escalated"

    respond_by: date


class StepFields(TypedDict):
    """The fields of ``TransferStep``, as ``step_fields`` reads them from a request."""

    transfer_id: int
    case_id: int
    mode: TransferMode
    from_organization_id: int
    to_organization_id: int
    on_date: date


def step_fields(transfer: Transfer, on_date: date) -> StepFields:
    """The fields every transfer event takes from the request: ``TransferWithdrawn(**step_fields(t, day))``."""
    return {
        "transfer_id": transfer.id,
        "case_id": transfer.case_id,
        "mode": transfer.mode,
        "from_organization_id": transfer.from_organization_id,
        "to_organization_id": transfer.to_organization_id,
        "on_date": on_date,
    }
