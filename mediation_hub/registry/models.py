"""Mediation organisations, legal-aid and governance centres, mediators and named studios."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import TimestampMixin, enum_column
from ..core.pii import PersonalNumbersMixin
from ..extensions import Model
from ..regions.models import Region


class OrgKind(enum.StrEnum):
    people_mediation_committee = "people_mediation_committee"
    professional_mediation_org = "professional_mediation_org"
    administrative_mediation = "administrative_mediation"
    court_mediation = "court_mediation"
    commercial_mediation = "commercial_mediation"
    legal_aid_centre = "legal_aid_centre"
    governance_centre = "governance_centre"
    justice_bureau = "justice_bureau"


ORG_KIND_LABELS = {
    OrgKind.people_mediation_committee: "人民调解委员会",
    OrgKind.professional_mediation_org: "行业性专业性人民调解组织",
    OrgKind.administrative_mediation: "行政调解",
    OrgKind.court_mediation: "司法(诉调对接)调解",
    OrgKind.commercial_mediation: "商事调解",
    OrgKind.legal_aid_centre: "法律援助中心",
    OrgKind.governance_centre: "综治中心",
    OrgKind.justice_bureau: "司法局",
}

MEDIATING_KINDS = frozenset(
    {
        OrgKind.people_mediation_committee,
        OrgKind.professional_mediation_org,
        OrgKind.administrative_mediation,
        OrgKind.court_mediation,
        OrgKind.commercial_mediation,
    }
)


class Organization(TimestampMixin, Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind, "org_kind"), nullable=False, index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), nullable=False, index=True)
    uscc: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    specialties: Mapped[list[str]] = mapped_column(sa.JSON, default=list, nullable=False)
    address: Mapped[str | None] = mapped_column(sa.String(200))
    # 文书代字: the short name in the organisation's document numbers, "保竞" in （2026）保竞调字第 12 号
    document_code: Mapped[str | None] = mapped_column(sa.String(12))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    # An organisation of another hub (federation): the peer's hub id and its id there, kept by that hub's directory
    # snapshots; None for this hub's own organisations. A remote organisation has no accounts here.
    hub_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    remote_id: Mapped[int | None] = mapped_column(sa.Integer)

    region: Mapped[Region] = relationship()
    parent: Mapped[Organization | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.UniqueConstraint("region_code", "name", name="uq_organizations_region_name"),
        sa.UniqueConstraint("hub_id", "remote_id", name="uq_organizations_hub_remote"),
        sa.CheckConstraint("(hub_id IS NULL) = (remote_id IS NULL)", name="remote_has_both_ids"),
    )

    @property
    def kind_label(self) -> str:
        return ORG_KIND_LABELS[self.kind]

    @property
    def is_remote(self) -> bool:
        """Whether the organisation lives on another hub (its cases reach it by federation messages)."""
        return self.hub_id is not None


class Mediator(PersonalNumbersMixin, TimestampMixin, Model):
    __tablename__ = "mediators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False, index=True)
    specialties: Mapped[list[str]] = mapped_column(sa.JSON, default=list, nullable=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    organization: Mapped[Organization] = relationship()

    __table_args__ = (sa.UniqueConstraint("id_number_hash", name="uq_mediators_id_number_hash"),)


class Studio(TimestampMixin, Model):
    """个人调解品牌工作室: named and managed by a justice bureau at district level or above."""

    __tablename__ = "studios"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False, unique=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False, index=True)
    lead_mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("mediators.id"), nullable=False)
    named_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    named_on = mapped_column(sa.Date)
    specialties: Mapped[list[str]] = mapped_column(sa.JSON, default=list, nullable=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    lead_mediator: Mapped[Mediator] = relationship()
    named_by: Mapped[Organization | None] = relationship(foreign_keys=[named_by_id])
