"""Administrative divisions (GB/T 2260) plus towns/villages added under a county, and custom groupings."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, enum_column, utcnow
from ..extensions import Model


class RegionLevel(enum.StrEnum):
    province = "province"
    prefecture = "prefecture"
    county = "county"
    town = "town"
    village = "village"
    custom = "custom"


class Region(Model):
    """A division. ``path`` is the materialised ancestry ('130000/130600/130629/') so a whole
    subtree is one indexed prefix match."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    level: Mapped[RegionLevel] = mapped_column(enum_column(RegionLevel, "region_level"), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    path: Mapped[str] = mapped_column(sa.String(120), nullable=False, index=True)
    province_code: Mapped[str | None] = mapped_column(sa.String(12), index=True)
    prefecture_code: Mapped[str | None] = mapped_column(sa.String(12))

    parent: Mapped[Region | None] = relationship(remote_side=[code])
    members: Mapped[list[RegionMember]] = relationship(
        foreign_keys="RegionMember.group_code", cascade="all, delete-orphan", order_by="RegionMember.member_code"
    )

    __table_args__ = (
        sa.CheckConstraint(
            "level = 'custom' OR (level = 'province' AND parent_code IS NULL)"
            " OR (level != 'province' AND parent_code IS NOT NULL)",
            name="parent_matches_level",
        ),
    )

    @property
    def member_codes(self) -> list[str]:
        return [m.member_code for m in self.members]

    @property
    def full_name(self) -> str:
        """Name with its ancestors, e.g. 河北省 保定市 容城县."""
        names: list[str] = []
        node: Region | None = self
        while node is not None:
            if node.name != "市辖区":
                names.append(node.name)
            node = node.parent
        return " ".join(reversed(names))


class RegionMember(Model):
    """A member of a custom grouping such as 雄安新区 (容城县, 安新县, 雄县)."""

    __tablename__ = "region_members"

    group_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), primary_key=True)
    member_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), primary_key=True)


class ReferenceSource(Model):
    """Where a reference data set came from and when it was loaded."""

    __tablename__ = "reference_sources"

    dataset: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    source: Mapped[str] = mapped_column(sa.Text, nullable=False)
    version: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    loaded_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
