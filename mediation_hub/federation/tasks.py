"""Periodic work for federation (listed in scheduler.JOBS): send what the outbox still owes, share the directory,
and tell the administrators about a peer that has not answered for an hour."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..auth.models import User
from ..core.actor import Role
from ..extensions import db
from ..notifications.service import notify
from .delivery import deliver_due
from .directory import send_directory
from .models import Peer


def deliver_outbox(now: datetime) -> int:
    """The sweep: send every message that is due (after a crash, a restart, a peer back up)."""
    return deliver_due()


def share_directory(now: datetime) -> int:
    """Send the directory to each peer whose last snapshot is out of date."""
    return send_directory()


def report_unreachable_peers(now: datetime) -> int:
    """A peer failing for FEDERATION_UNREACHABLE_MINUTES: one notice to each administrator per outage."""
    limit = timedelta(minutes=int(current_app.config["FEDERATION_UNREACHABLE_MINUTES"]))
    peers = db.session.scalars(
        sa.select(Peer).where(
            Peer.failing_since.is_not(None), Peer.failing_since <= now - limit, Peer.unreachable_reported_at.is_(None)
        )
    ).all()
    if not peers:
        return 0
    admins = db.session.scalars(sa.select(User.id).where(User.role == Role.admin, User.active.is_(True))).all()
    for peer in peers:
        since = peer.failing_since
        assert since is not None
        for user_id in admins:
            notify(
                kind="federation_peer_unreachable",
                message=f"对端平台 {peer.hub_id} 自 {since:%Y-%m-%d %H:%M} (UTC) 起无法连接，待发消息将继续重试",
                user_id=user_id,
                link="/federation",
                dedupe_key=f"federation-unreachable:{peer.hub_id}:{since:%Y%m%d%H%M%S}:{user_id}"[:120],
            )
        peer.unreachable_reported_at = now
    db.session.flush()
    return len(peers)
