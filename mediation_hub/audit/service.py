"""Writing the audit log. Entries never carry the personal values themselves."""

from __future__ import annotations

from ..core.actor import Actor
from ..extensions import db
from .models import AuditEntry

ACTIONS = frozenset({
    "sign_in", "sign_in_failed", "sign_out", "token_issued", "token_revoked",
    "reveal_id_number", "reveal_phone", "user_created", "calendar_loaded", "personal_data_erased",
    "personal_data_exported",
})


def record(actor: Actor | None, action: str, *, target_type: str | None = None, target_id=None,
           detail: dict | None = None, remote_addr: str | None = None, username: str | None = None) -> AuditEntry:
    """Append one audit entry (flushed, committed with the caller's unit of work)."""
    if action not in ACTIONS:
        raise ValueError(f"unregistered audit action {action!r}")
    entry = AuditEntry(
        user_id=actor.user_id if actor else None,
        username=username or (actor.username if actor else "anonymous"),
        action=action, target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        detail=detail or {}, remote_addr=remote_addr,
    )
    db.session.add(entry)
    db.session.flush()
    return entry
