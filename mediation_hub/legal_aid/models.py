"""Legal-aid applications, their hand-overs between centres under 通办, and the append-only event log."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import TimestampMixin, UTCDateTime, enum_column, provisional_flag, utcnow
from ..core.pii import PersonalNumbersMixin
from ..extensions import Model
from .reference import EXEMPT_GROUPS, GENDER_LABELS, HARDSHIP_LABELS, MATTER_CATEGORIES, STATUS_LABELS


class ApplicationStatus(enum.StrEnum):
    filed = "filed"
    transferred = "transferred"
    accepted = "accepted"
    granted = "granted"
    refused = "refused"
    assigned = "assigned"
    closed = "closed"


class Hardship(enum.StrEnum):
    declaration = "declaration"  # 告知承诺 (art. 41)
    proof = "proof"  # proof / information sharing (art. 41)
    exempt = "exempt"  # no means test (arts. 32, 42)


# The states before the decision: the 7-day review clock runs (Legal Aid Law art. 43).
OPEN_FOR_DECISION = (ApplicationStatus.filed, ApplicationStatus.transferred, ApplicationStatus.accepted)

RECEIVED = ("transferred", "accepted", "granted", "refused", "assigned", "closed")
ACCEPTED = ("accepted", "granted", "refused", "assigned", "closed")
GRANTED = ("granted", "assigned", "closed")
ASSIGNED = ("assigned", "closed")


def _in(states: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in states) + ")"


class LegalAidApplication(PersonalNumbersMixin, TimestampMixin, Model):
    """One application. ``centre_id`` is the centre holding it now, ``filed_centre_id`` where it was filed.

    ``received_on`` is the day the competent centre received it (for a transferred application, the day it
    arrived there); the art. 43 clocks run from it."""

    __tablename__ = "legal_aid_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column(ApplicationStatus, "legal_aid_status"), nullable=False, default=ApplicationStatus.filed, index=True
    )
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False, index=True)
    filed_centre_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False, index=True)

    applicant_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    applicant_region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"))
    matter_category: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    matter_region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), nullable=False)
    hardship: Mapped[Hardship] = mapped_column(enum_column(Hardship, "legal_aid_hardship"), nullable=False)
    exempt_group: Mapped[str | None] = mapped_column(sa.String(40))
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False)

    filed_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    received_on: Mapped[date | None] = mapped_column(sa.Date)
    decide_by: Mapped[date | None] = mapped_column(sa.Date, index=True)
    decide_by_provisional: Mapped[bool] = provisional_flag()  # counted over a provisional calendar year
    accepted_on: Mapped[date | None] = mapped_column(sa.Date)
    decided_on: Mapped[date | None] = mapped_column(sa.Date)
    granted: Mapped[bool | None] = mapped_column(sa.Boolean)
    refusal_reason: Mapped[str | None] = mapped_column(sa.Text)
    assign_by: Mapped[date | None] = mapped_column(sa.Date, index=True)
    assign_by_provisional: Mapped[bool] = provisional_flag()
    assigned_on: Mapped[date | None] = mapped_column(sa.Date)
    lawyer_name: Mapped[str | None] = mapped_column(sa.String(60))
    closed_on: Mapped[date | None] = mapped_column(sa.Date)
    # The applicant's particulars the 申请表 and the notices print (optional: never invented on paper).
    applicant_gender: Mapped[str | None] = mapped_column(sa.String(8))  # "male" | "female"
    applicant_ethnicity: Mapped[str | None] = mapped_column(sa.String(20))  # 民族, e.g. 汉族
    applicant_address: Mapped[str | None] = mapped_column(sa.String(200))  # 住址
    applicant_occupation: Mapped[str | None] = mapped_column(sa.String(60))  # 工作单位或职业
    # The one request for further materials (一次性告知, 程序规定): what to supplement or explain, one per line;
    # the days from the request to the reply do not count toward the decision period.
    supplement_items: Mapped[str | None] = mapped_column(sa.Text)
    supplement_requested_on: Mapped[date | None] = mapped_column(sa.Date)
    supplement_due_on: Mapped[date | None] = mapped_column(sa.Date)  # reply asked for by (optional)
    supplement_received_on: Mapped[date | None] = mapped_column(sa.Date)
    last_step_on: Mapped[date] = mapped_column(sa.Date, nullable=False)  # no later step may be dated before it

    filed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    centre = relationship("Organization", foreign_keys=[centre_id])
    filed_centre = relationship("Organization", foreign_keys=[filed_centre_id])
    matter_region = relationship("Region", foreign_keys=[matter_region_code])
    handovers: Mapped[list[LegalAidHandover]] = relationship(order_by="LegalAidHandover.id", viewonly=True)
    events: Mapped[list[LegalAidEvent]] = relationship(order_by="LegalAidEvent.id", viewonly=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("(hardship = 'exempt') = (exempt_group IS NOT NULL)", name="exempt_has_group"),
        sa.CheckConstraint(
            f"NOT {_in(RECEIVED)} OR (received_on IS NOT NULL AND decide_by IS NOT NULL)", name="received_has_clock"
        ),
        sa.CheckConstraint(f"({_in(ACCEPTED)}) = (accepted_on IS NOT NULL)", name="accepted_has_date"),
        sa.CheckConstraint(
            f"({_in((*GRANTED, 'refused'))}) = (decided_on IS NOT NULL AND granted IS NOT NULL)",
            name="decided_has_date",
        ),
        sa.CheckConstraint(f"NOT {_in(GRANTED)} OR (granted AND assign_by IS NOT NULL)", name="granted_has_clock"),
        sa.CheckConstraint("(status = 'refused') = (granted IS NOT NULL AND NOT granted)", name="refused_not_granted"),
        sa.CheckConstraint("status != 'refused' OR refusal_reason IS NOT NULL", name="refusal_has_reason"),
        sa.CheckConstraint(
            f"({_in(ASSIGNED)}) = (assigned_on IS NOT NULL AND lawyer_name IS NOT NULL)", name="assigned_has_lawyer"
        ),
        sa.CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name="closed_has_date"),
        sa.CheckConstraint("received_on IS NULL OR received_on >= filed_on", name="received_after_filing"),
        sa.CheckConstraint("decide_by IS NULL OR decide_by > received_on", name="decide_by_after_receipt"),
        sa.CheckConstraint(
            "applicant_gender IS NULL OR applicant_gender IN ('male', 'female')", name="applicant_gender_known"
        ),
        sa.CheckConstraint(
            "(supplement_requested_on IS NULL) = (supplement_items IS NULL)", name="supplement_request_has_items"
        ),
        sa.CheckConstraint(
            "supplement_due_on IS NULL OR (supplement_requested_on IS NOT NULL "
            "AND supplement_due_on >= supplement_requested_on)",
            name="supplement_due_after_request",
        ),
        sa.CheckConstraint(
            "supplement_received_on IS NULL OR (supplement_requested_on IS NOT NULL "
            "AND supplement_received_on >= supplement_requested_on)",
            name="supplement_received_after_request",
        ),
        sa.Index("ix_legal_aid_applications_centre_status", "centre_id", "status"),
    )

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status.value]

    @property
    def hardship_label(self) -> str:
        return HARDSHIP_LABELS[self.hardship.value]

    @property
    def exempt_group_label(self) -> str | None:
        return EXEMPT_GROUPS.get(self.exempt_group) if self.exempt_group else None

    @property
    def matter_category_label(self) -> str:
        return MATTER_CATEGORIES.get(self.matter_category, self.matter_category)

    @property
    def applicant_gender_label(self) -> str | None:
        return GENDER_LABELS.get(self.applicant_gender) if self.applicant_gender else None

    @property
    def supplement_item_list(self) -> list[str]:
        """The materials to supplement or points to explain, one per line as recorded."""
        return [line for line in (self.supplement_items or "").splitlines() if line.strip()]

    @property
    def awaiting_supplement(self) -> bool:
        """Asked for further materials and not yet received: the review clock stands still meanwhile."""
        return self.supplement_requested_on is not None and self.supplement_received_on is None

    def decide_overdue(self, today: date) -> bool:
        """Past the art. 43 decision deadline without a decision (the deadline day itself is on time); never while
        the applicant is supplementing materials, whose time does not count toward the review period."""
        return (
            self.status in OPEN_FOR_DECISION
            and not self.awaiting_supplement
            and self.decide_by is not None
            and today > self.decide_by
        )

    def assign_overdue(self, today: date) -> bool:
        """Granted, and past the art. 43 three-day limit without an assigned lawyer."""
        return self.status == ApplicationStatus.granted and self.assign_by is not None and today > self.assign_by


class LegalAidHandover(Model):
    """One 通办 hand-over from the centre that held an application to the competent centre.

    Append-only: the rule "never back to a centre that already passed it on" is read from these rows."""

    __tablename__ = "legal_aid_handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("legal_aid_applications.id", ondelete="CASCADE"), nullable=False, index=True
    )
    from_centre_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False, index=True)
    to_centre_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False, index=True)
    agreement_code: Mapped[str] = mapped_column(sa.ForeignKey("agreements.code"), nullable=False)
    on_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    by_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)

    from_centre = relationship("Organization", foreign_keys=[from_centre_id])
    to_centre = relationship("Organization", foreign_keys=[to_centre_id])

    __table_args__ = (sa.CheckConstraint("from_centre_id != to_centre_id", name="not_to_itself"),)


class LegalAidEvent(Model):
    """Append-only: one row per lifecycle event, with the centre holding the application at that moment.

    ``code`` comes from ``legal_aid.events.EVENT_CODES``; reports count from these rows."""

    __tablename__ = "legal_aid_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("legal_aid_applications.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    on_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), nullable=False)
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)

    __table_args__ = (
        sa.Index("ix_legal_aid_events_code_date", "code", "on_date"),
        sa.Index("ix_legal_aid_events_centre_code_date", "centre_id", "code", "on_date"),
    )
