"""The directory a hub shares with its peers: its own organisations that take cross-region work.

An organisation is in it when it is active, mediates or is a legal-aid centre, and its region lies in an agreement
in force (the agreements are listed with it). A snapshot is sent to a peer when it differs from the last one sent
(``Peer.directory_sent_hash``): on ``peers add``, by the scheduler's ``federation.directory`` and by
``mediation-hub federation send-directory``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa

from ..agreements.models import AgreementScope
from ..agreements.service import agreements_covering
from ..core.shanghai import today_shanghai
from ..extensions import db
from ..registry.models import MEDIATING_KINDS, Organization, OrgKind
from .models import Peer
from .service import hub_id, list_peers, queue_message

KINDS = (*MEDIATING_KINDS, OrgKind.legal_aid_centre)


def snapshot() -> dict[str, Any]:
    """This hub's organisations that take cross-region work, with kind, region, specialties and agreements."""
    today = today_shanghai()
    organizations = []
    covering: dict[tuple[str, str], list[str]] = {}
    stmt = (
        sa.select(Organization)
        .where(Organization.hub_id.is_(None), Organization.active.is_(True), Organization.kind.in_(KINDS))
        .order_by(Organization.id)
    )
    for org in db.session.scalars(stmt):
        scope = AgreementScope.legal_aid if org.kind == OrgKind.legal_aid_centre else AgreementScope.mediation
        key = (org.region_code, scope.value)
        if key not in covering:
            covering[key] = [a.code for a in agreements_covering([org.region_code], scope, today)]
        if not covering[key]:
            continue
        organizations.append(
            {
                "id": org.id,
                "name": org.name,
                "kind": org.kind.value,
                "region_code": org.region_code,
                "specialties": list(org.specialties or []),
                "agreements": covering[key],
            }
        )
    return {"organizations": organizations}


def send_directory(peer: Peer | None = None, *, force: bool = False) -> int:
    """Queue this hub's snapshot to ``peer`` (every peer when None) where it changed since the last one sent;
    returns how many were queued."""
    body = snapshot()
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    queued = 0
    for target in [peer] if peer is not None else list_peers():
        if not force and target.directory_sent_hash == digest:
            continue
        queue_message(target.hub_id, "directory.snapshot", f"directory/{hub_id()}", body)
        target.directory_sent_hash = digest
        queued += 1
    db.session.flush()
    return queued
