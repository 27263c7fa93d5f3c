"""Inter-regional agreements: who cooperates, on what, and how fast a request must be answered."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import TimestampMixin, enum_column
from ..extensions import db


class AgreementKind(enum.StrEnum):
    joint_mediation = "joint_mediation"   # 联防联调 / 调解工作协同
    tongban = "tongban"                   # 法律援助通办
    pairing = "pairing"                   # 结对 (Guangdong city pairs)


class AgreementScope(enum.StrEnum):
    mediation = "mediation"
    legal_aid = "legal_aid"
    both = "both"


class Agreement(TimestampMixin, db.Model):
    __tablename__ = "agreements"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), nullable=False)
    kind: Mapped[AgreementKind] = mapped_column(enum_column(AgreementKind, "agreement_kind"), nullable=False)
    scope: Mapped[AgreementScope] = mapped_column(enum_column(AgreementScope, "agreement_scope"), nullable=False)
    response_working_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=3)
    signed_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    effective_from: Mapped[date] = mapped_column(sa.Date, nullable=False)
    effective_to: Mapped[date | None] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    note: Mapped[str | None] = mapped_column(sa.Text)

    members: Mapped[list[AgreementMember]] = relationship(
        cascade="all, delete-orphan", order_by="AgreementMember.region_code"
    )

    __table_args__ = (
        sa.CheckConstraint("response_working_days BETWEEN 1 AND 60", name="response_days_range"),
        sa.CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="effective_range"),
    )

    @property
    def member_codes(self) -> list[str]:
        return [m.region_code for m in self.members]

    def covers_scope(self, scope: AgreementScope) -> bool:
        return self.scope in (scope, AgreementScope.both)

    def in_force_on(self, day: date) -> bool:
        return self.active and self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class AgreementMember(db.Model):
    """A member region; the whole subtree below it is covered."""

    __tablename__ = "agreement_members"

    agreement_code: Mapped[str] = mapped_column(sa.ForeignKey("agreements.code", ondelete="CASCADE"),
                                                primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), primary_key=True)
