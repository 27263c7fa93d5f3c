"""Documents handed out, their versions and the exact bytes of each rendition, and the document numbers.

A ``Document`` is one paper of one case or application (the agreement of case 12, the record of session 7),
numbered once. A ``DocumentVersion`` is the document as the record stood when it was generated: a new one
when the content changed, the old ones kept. A ``DocumentFile`` is the exact bytes given out for a version
in one format (PDF or DOCX), with or without full ID numbers, and their SHA-256."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..extensions import Model


class DocumentNumberCounter(Model):
    """The last document number issued per organisation, year and series (调, 援决 …); see ``numbering``."""

    __tablename__ = "document_number_counters"

    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    series: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    last_number: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    __table_args__ = (sa.CheckConstraint("last_number >= 0", name="doc_last_number_not_negative"),)


class DocumentNumber(Model):
    """A number given to a case or an application in one series, once: every document of the series for that
    record carries it (the mediation file's 卷号 is the number of its 协议书 and 登记表), and it is never
    given again, even if the record is later transferred."""

    __tablename__ = "document_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # case | legal_aid
    owner_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    series: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), nullable=False)
    year: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sequence: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    text: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("owner_type", "owner_id", "series", name="uq_document_numbers_owner_series"),
        sa.UniqueConstraint("organization_id", "year", "series", "sequence", name="uq_document_numbers_sequence"),
    )


class Document(Model):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    owner_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    item_id: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)  # the session or follow-up; 0: none
    number: Mapped[str | None] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    versions: Mapped[list[DocumentVersion]] = relationship(order_by="DocumentVersion.version", viewonly=True)

    __table_args__ = (
        sa.UniqueConstraint("owner_type", "owner_id", "kind", "item_id", name="uq_documents_owner_kind_item"),
    )


class DocumentVersion(Model):
    """The document as the record stood: ``source_sha256`` is the SHA-256 of its full content (what the
    paper says, with full numbers), so the same facts give the same version."""

    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    source_sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    document: Mapped[Document] = relationship()
    files: Mapped[list[DocumentFile]] = relationship(order_by="DocumentFile.id", viewonly=True)

    __table_args__ = (
        sa.UniqueConstraint("document_id", "version", name="uq_document_versions_version"),
        sa.UniqueConstraint("document_id", "source_sha256", name="uq_document_versions_source"),
    )


class DocumentFile(Model):
    """The exact bytes handed out. ``digest`` is the SHA-256 printed on the paper (of the content as printed);
    ``sha256`` is the SHA-256 of the bytes themselves."""

    __tablename__ = "document_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("document_versions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    format: Mapped[str] = mapped_column(sa.String(8), nullable=False)  # pdf | docx
    full_numbers: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    pages: Mapped[int | None] = mapped_column(sa.Integer)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    version: Mapped[DocumentVersion] = relationship()

    __table_args__ = (sa.UniqueConstraint("version_id", "format", "full_numbers", name="uq_document_files_rendition"),)
