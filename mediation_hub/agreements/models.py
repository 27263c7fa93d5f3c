"""Inter-regional agreements: who cooperates, on what, and how fast a request must be answered; and the
proposals that create or change one, which wait for a coordinator of every affected member region."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import TimestampMixin, UTCDateTime, enum_column
from ..extensions import Model


class AgreementKind(enum.StrEnum):
    joint_mediation = "joint_mediation"  # 联防联调 / 调解工作协同
    tongban = "tongban"  # 法律援助通办
    pairing = "pairing"  # 结对 (Guangdong city pairs)


class AgreementScope(enum.StrEnum):
    mediation = "mediation"
    legal_aid = "legal_aid"
    both = "both"


class Agreement(TimestampMixin, Model):
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


class AgreementMember(Model):
    """A member region; the whole subtree below it is covered."""

    __tablename__ = "agreement_members"

    agreement_code: Mapped[str] = mapped_column(sa.ForeignKey("agreements.code", ondelete="CASCADE"), primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), primary_key=True)


# --- proposals ----------------------------------------------------------------------------------------


class ProposalAction(enum.StrEnum):
    create = "create"  # a new agreement
    change = "change"  # new terms, members or active flag of an existing agreement


class ProposalState(enum.StrEnum):
    pending = "pending"  # waiting for the member regions' confirmations
    applied = "applied"  # every member region confirmed (or an administrator applied it): in the agreement
    declined = "declined"  # a member region's coordinator (or an administrator) refused it
    withdrawn = "withdrawn"  # the proposer took it back


# How the pages, the service's messages and the documents name each kind, scope and proposal state.
KIND_LABELS = {
    AgreementKind.joint_mediation: _l("联合调解(调解协作)"),
    AgreementKind.tongban: _l("法律援助通办"),
    AgreementKind.pairing: _l("结对"),
}
SCOPE_LABELS = {
    AgreementScope.mediation: _l("调解"),
    AgreementScope.legal_aid: _l("法律援助"),
    AgreementScope.both: _l("调解及法律援助"),
}
PROPOSAL_STATE_LABELS = {
    ProposalState.pending: _l("待确认"),
    ProposalState.applied: _l("已生效"),
    ProposalState.declined: _l("已拒绝"),
    ProposalState.withdrawn: _l("已撤回"),
}
PROPOSAL_ACTION_LABELS = {ProposalAction.create: _l("新建协议"), ProposalAction.change: _l("修改协议")}


# The agreement's fields a proposal may carry, and how each is written in its JSON columns.
TERM_FIELDS = (
    "code",
    "name",
    "kind",
    "scope",
    "member_codes",
    "response_working_days",
    "signed_on",
    "effective_from",
    "effective_to",
    "active",
    "note",
)
_DATE_TERMS = {"signed_on", "effective_from", "effective_to"}
_ENUM_TERMS = {"kind": AgreementKind, "scope": AgreementScope}


def terms_to_json(terms: dict[str, Any]) -> dict[str, Any]:
    """Agreement terms (dates, enums, lists) as JSON values, in the order of ``TERM_FIELDS``."""
    out = {}
    for key in (k for k in TERM_FIELDS if k in terms):
        value = terms[key]
        if key in _DATE_TERMS and value is not None:
            value = value.isoformat()
        elif key in _ENUM_TERMS and value is not None:
            value = _ENUM_TERMS[key](value).value
        elif key == "member_codes":
            value = list(value)
        out[key] = value
    return out


def terms_from_json(stored: dict[str, Any]) -> dict[str, Any]:
    """The inverse of ``terms_to_json``."""
    out = {}
    for key, value in stored.items():
        if key in _DATE_TERMS and value is not None:
            value = date.fromisoformat(value)
        elif key in _ENUM_TERMS and value is not None:
            value = _ENUM_TERMS[key](value)
        out[key] = value
    return out


class AgreementProposal(TimestampMixin, Model):
    """A coordinator's proposal to create or change an agreement. An agreement binds every member, so the
    proposal stays ``pending`` (and routing never sees it) until a coordinator of every affected member region
    has confirmed it, or an administrator applies it. ``changes`` holds the proposed values, ``before`` the
    values those fields had when it was proposed (a change is applied only to the agreement as it was then)."""

    __tablename__ = "agreement_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: a proposal to create an agreement names a code that does not exist yet.
    agreement_code: Mapped[str] = mapped_column(sa.String(40), nullable=False, index=True)
    action: Mapped[ProposalAction] = mapped_column(
        enum_column(ProposalAction, "agreement_proposal_action"), nullable=False
    )
    state: Mapped[ProposalState] = mapped_column(
        enum_column(ProposalState, "agreement_proposal_state"), nullable=False, default=ProposalState.pending
    )
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False)
    before: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    proposed_by: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by: Mapped[str | None] = mapped_column(sa.String(60))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(sa.Text)  # why it was declined
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    regions: Mapped[list[AgreementProposalRegion]] = relationship(
        cascade="all, delete-orphan", order_by="AgreementProposalRegion.region_code"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "(state = 'pending') = (decided_at IS NULL AND decided_by IS NULL)", name="decided_has_who_and_when"
        ),
        sa.CheckConstraint("(state = 'declined') = (reason IS NOT NULL)", name="declined_has_reason"),
        # At most one open proposal per agreement (or per code to be created), however many arrive at once.
        sa.Index(
            "uq_agreement_proposals_one_pending",
            "agreement_code",
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        ),
    )

    @property
    def proposed_terms(self) -> dict[str, Any]:
        return terms_from_json(self.changes)

    @property
    def terms_before(self) -> dict[str, Any]:
        return terms_from_json(self.before or {})

    @property
    def proposed_at(self) -> datetime:
        return self.created_at

    @property
    def awaiting(self) -> list[str]:
        """The member regions whose confirmation is still missing."""
        return [r.region_code for r in self.regions if r.confirmed_at is None]


class AgreementProposalRegion(Model):
    """A member region a proposal affects, and who confirmed it for that region, when."""

    __tablename__ = "agreement_proposal_regions"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agreement_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), primary_key=True, index=True)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_by: Mapped[str | None] = mapped_column(sa.String(60))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    region = relationship("Region")

    __table_args__ = (sa.CheckConstraint("(confirmed_at IS NULL) = (confirmed_by IS NULL)", name="confirmed_has_who"),)

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def region_name(self) -> str:
        return self.region.full_name if self.region is not None else self.region_code
