"""The audit log: sign-ins, failed sign-ins, reveals of personal data, erasures (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..extensions import Model


class AuditEntry(Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    action: Mapped[str] = mapped_column(sa.String(40), nullable=False, index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(40))
    target_id: Mapped[str | None] = mapped_column(sa.String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, nullable=False)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
