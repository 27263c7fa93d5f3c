"""Dispute cases, their parties, sessions, follow-ups and the append-only event log."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import TimestampMixin, UTCDateTime, enum_column, provisional_flag, utcnow
from ..core.pii import PersonalNumbersMixin
from ..extensions import Model


class CaseCategory(Model):
    """The national people's-mediation statistics categories (婚姻家庭, 邻里 …)."""

    __tablename__ = "case_categories"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class CaseSource(Model):
    """How a case reached the mediator (当事人申请, 法院委派/委托, 12348 热线 …)."""

    __tablename__ = "case_sources"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class CaseStatus(enum.StrEnum):
    registered = "registered"
    accepted = "accepted"
    in_mediation = "in_mediation"
    concluded = "concluded"
    declined = "declined"


class Outcome(enum.StrEnum):
    agreement = "agreement"
    no_agreement = "no_agreement"
    withdrawn = "withdrawn"
    referred = "referred"


class PartyRole(enum.StrEnum):
    applicant = "applicant"
    respondent = "respondent"
    third_party = "third_party"


class PartyKind(enum.StrEnum):
    person = "person"
    organization = "organization"


class Gender(enum.StrEnum):
    """性别 of a natural-person party (labels 男/女)."""

    male = "male"
    female = "female"


class AgreementForm(enum.StrEnum):
    """How an agreement was made: a signed 人民调解协议书, or orally, recorded by the mediator (人民调解法 art. 28)."""

    written = "written"
    oral = "oral"


class FollowUpMethod(enum.StrEnum):
    """回访方式: 上门回访, 电话回访 or 其他."""

    visit = "visit"
    phone = "phone"
    other = "other"


def _one_of(column: str, values: type[enum.StrEnum]) -> str:
    """The CHECK text that ``column`` is NULL or one of ``values`` (spelled out: migrations carry the same text)."""
    return f"{column} IS NULL OR {column} IN ({', '.join(repr(v.value) for v in values)})"


class ConfirmationStatus(enum.StrEnum):
    """司法确认: none yet, applied for, confirmed by the court, or rejected."""

    none = "none"
    applied = "applied"
    confirmed = "confirmed"
    rejected = "rejected"


class Case(TimestampMixin, Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False, index=True)
    studio_id: Mapped[int | None] = mapped_column(sa.ForeignKey("studios.id"), index=True)
    category_code: Mapped[str] = mapped_column(sa.ForeignKey("case_categories.code"), nullable=False)
    source_code: Mapped[str] = mapped_column(sa.ForeignKey("case_sources.code"), nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False)
    received_on: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    occurred_region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), nullable=False)
    amount_yuan: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    major: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    cross_region: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)

    status: Mapped[CaseStatus] = mapped_column(
        enum_column(CaseStatus, "case_status"), nullable=False, default=CaseStatus.registered, index=True
    )
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, "case_outcome"))
    accepted_on: Mapped[date | None] = mapped_column(sa.Date)
    due_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    # Each deadline records whether it was counted over a day of a provisional calendar year (core.calendar).
    due_on_provisional: Mapped[bool] = provisional_flag()
    # The due date before the first extension the parties consented to (NULL: never extended, due_on is the
    # original): reports count on time against both (DESIGN.md "Rates").
    original_due_on: Mapped[date | None] = mapped_column(sa.Date)
    declined_on: Mapped[date | None] = mapped_column(sa.Date)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    last_step_on: Mapped[date] = mapped_column(sa.Date, nullable=False)  # no later step may be dated before it
    concluded_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    agreement_amount_yuan: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    agreement_terms: Mapped[str | None] = mapped_column(sa.Text)
    agreement_performed: Mapped[bool | None] = mapped_column(sa.Boolean)
    confirmation_status: Mapped[ConfirmationStatus] = mapped_column(
        enum_column(ConfirmationStatus, "confirmation_status"), nullable=False, default=ConfirmationStatus.none
    )
    confirmation_deadline: Mapped[date | None] = mapped_column(sa.Date)
    confirmation_deadline_provisional: Mapped[bool] = provisional_flag()
    confirmation_applied_on: Mapped[date | None] = mapped_column(sa.Date)
    confirmation_decided_on: Mapped[date | None] = mapped_column(sa.Date)
    follow_up_due_on: Mapped[date | None] = mapped_column(sa.Date)
    follow_up_due_on_provisional: Mapped[bool] = provisional_flag()
    agreement_form: Mapped[str | None] = mapped_column(sa.String(10))  # AgreementForm, only with an agreement

    source_system: Mapped[str | None] = mapped_column(sa.String(40))
    source_number: Mapped[str | None] = mapped_column(sa.String(60))
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    organization = relationship("Organization")
    studio = relationship("Studio")
    category: Mapped[CaseCategory] = relationship()
    source: Mapped[CaseSource] = relationship()
    parties: Mapped[list[Party]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Party.position"
    )
    # the lead mediator (the first named at registration) first, then by id: as the API's case detail lists them
    mediators: Mapped[list[CaseMediator]] = relationship(
        cascade="all, delete-orphan", order_by=lambda: (CaseMediator.lead.desc(), CaseMediator.mediator_id)
    )
    events: Mapped[list[CaseEvent]] = relationship(order_by="CaseEvent.id", viewonly=True)
    sessions: Mapped[list[MediationSession]] = relationship(
        order_by="MediationSession.held_on, MediationSession.id", viewonly=True
    )
    follow_ups: Mapped[list[FollowUp]] = relationship(order_by="FollowUp.visited_on, FollowUp.id", viewonly=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'concluded') = (outcome IS NOT NULL AND concluded_on IS NOT NULL)", name="concluded_has_outcome"
        ),
        sa.CheckConstraint(
            "status NOT IN ('accepted', 'in_mediation', 'concluded')"
            " OR (accepted_on IS NOT NULL AND due_on IS NOT NULL)",
            name="accepted_has_dates",
        ),
        sa.CheckConstraint("(status = 'declined') = (declined_on IS NOT NULL)", name="declined_has_date"),
        sa.CheckConstraint("outcome = 'agreement' OR agreement_amount_yuan IS NULL", name="amount_needs_agreement"),
        sa.CheckConstraint("amount_yuan IS NULL OR amount_yuan >= 0", name="amount_not_negative"),
        sa.CheckConstraint("agreement_form IS NULL OR outcome = 'agreement'", name="agreement_form_needs_agreement"),
        sa.CheckConstraint(_one_of("agreement_form", AgreementForm), name="agreement_form_known"),
        sa.UniqueConstraint("organization_id", "source_system", "source_number", name="uq_cases_source_number"),
        sa.Index("ix_cases_org_status", "organization_id", "status"),
    )


class Party(PersonalNumbersMixin, Model):
    """当事人. ``id_number_*`` holds a resident ID number for a person, a USCC for an organisation.

    The particulars a document prints (性别, 民族, 职业, 住址; an organisation's 法定代表人) are optional: a paper
    leaves a blank for one not recorded. The address is no personal number: documents show it in full."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    role: Mapped[PartyRole] = mapped_column(enum_column(PartyRole, "party_role"), nullable=False)
    kind: Mapped[PartyKind] = mapped_column(enum_column(PartyKind, "party_kind"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"))
    gender: Mapped[str | None] = mapped_column(sa.String(8))  # Gender; a person's only
    ethnicity: Mapped[str | None] = mapped_column(sa.String(20))  # 民族 as its Chinese name (reference "ethnicities")
    occupation: Mapped[str | None] = mapped_column(sa.String(60))  # 职业或工作单位
    address: Mapped[str | None] = mapped_column(sa.String(200))  # 住址 / 住所地
    representative: Mapped[str | None] = mapped_column(sa.String(60))  # 法定代表人或主要负责人; an organisation's only
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(back_populates="parties")

    __table_args__ = (
        sa.CheckConstraint(_one_of("gender", Gender), name="gender_known"),
        sa.CheckConstraint("gender IS NULL OR kind = 'person'", name="gender_only_for_person"),
        sa.CheckConstraint(
            "representative IS NULL OR kind = 'organization'", name="representative_only_for_organization"
        ),
    )


class CaseMediator(Model):
    __tablename__ = "case_mediators"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("mediators.id"), primary_key=True)
    lead: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    mediator = relationship("Mediator")


class MediationSession(Model):
    __tablename__ = "mediation_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    held_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False)
    mediator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mediators.id"))
    place: Mapped[str | None] = mapped_column(sa.String(200))  # 调解地点
    attendees: Mapped[str | None] = mapped_column(sa.Text)  # 参加人员, one per line
    recorder: Mapped[str | None] = mapped_column(sa.String(60))  # 记录人, as named on the record
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class FollowUp(Model):
    """回访 after a conclusion: whether the agreement is being performed, what the parties said."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    visited_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False)
    performed: Mapped[bool | None] = mapped_column(sa.Boolean)
    method: Mapped[str | None] = mapped_column(sa.String(20))  # FollowUpMethod
    visitor: Mapped[str | None] = mapped_column(sa.String(60))  # 回访人, as named on the record
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (sa.CheckConstraint(_one_of("method", FollowUpMethod), name="method_known"),)


class CaseEvent(Model):
    """Append-only: one row per lifecycle event, with the handling organisation at that moment.

    ``code`` comes from ``cases.events.EVENT_CODES``; reports count from these rows."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    on_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), nullable=False)
    studio_id: Mapped[int | None] = mapped_column(sa.ForeignKey("studios.id"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)

    __table_args__ = (
        sa.Index("ix_case_events_code_date", "code", "on_date"),
        sa.Index("ix_case_events_org_code_date", "organization_id", "code", "on_date"),
    )


class CaseNumberCounter(Model):
    """The last case number issued per organisation and year (see ``cases.numbering``).

    Incremented with one ``UPDATE … RETURNING`` that locks the row, so concurrent registrations in one
    organisation queue on it and never share a number."""

    __tablename__ = "case_number_counters"

    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    __table_args__ = (sa.CheckConstraint("last_number >= 0", name="last_number_not_negative"),)
