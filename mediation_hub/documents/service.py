"""Handing out a document: scope, availability, number, version, the kept bytes and the audited reveal.

``issue`` is the one way a document leaves the hub. It reads the record in the caller's scope (404 otherwise),
answers 409 with the reason when the document is not available yet, builds it from the record as it stands,
and looks for the same content among the versions already given out: the same facts give back the very same
bytes; changed facts make a new version, the old ones kept. A document that shows full ID numbers (the
agreement, the 司法确认 application and the 卷宗 that holds them, for a user of the handling organisation) is a
reveal: an audit row and a case event say who took which document when; its bytes are kept encrypted, like
every personal number the hub stores. Everyone else gets the same document with masked numbers.

The digest printed on the paper (校验码) is the SHA-256 of the content as printed; for a document with full
numbers it is keyed (HMAC-SHA-256 with the hub's look-up key), so that nobody can test guesses of a number
against it. ``DocumentFile.sha256`` is the SHA-256 of the bytes themselves."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..audit import service as audit
from ..auth.people import person_for_user
from ..cases.events import record_event as record_case_event
from ..cases.models import Case, FollowUp, MediationSession
from ..cases.policy import POLICY as CASE_POLICY
from ..cases.service.scope import get_case
from ..core.actor import Actor
from ..core.db import affected_rows
from ..core.messages import coded
from ..core.pii import decrypt_bytes, encrypt_bytes
from ..core.shanghai import today_shanghai
from ..errors import NotFound, StateConflict, ValidationFailed
from ..extensions import db
from ..legal_aid.models import LegalAidApplication
from ..legal_aid.policy import POLICY as LEGAL_AID_POLICY
from ..legal_aid.service import get_application
from . import render
from .blocks import Doc, canonical
from .common import Context
from .file import build_file
from .kinds import CASE, CASE_KINDS, KINDS, LEGAL_AID, LEGAL_AID_KINDS, Kind
from .models import Document, DocumentFile, DocumentVersion
from .numbering import number_for

FORMATS = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
RETENTION_PERIODS = ("永久", "长期", "短期")
Record: TypeAlias = Case | LegalAidApplication  # what a document is of (``CASE`` or ``LEGAL_AID``)
Item: TypeAlias = MediationSession | FollowUp  # what a per-item document is of


@dataclass
class Issued:
    content: bytes
    filename: str
    mimetype: str
    full_numbers: bool
    version: int
    number: str | None
    digest: str
    sha256: str


@dataclass
class Listed:
    kind: str
    title: str
    available: bool
    reason: object | None
    items: list[dict[str, Any]] | None = None


def _owner(actor: Actor, owner: str, owner_id: int) -> Record:
    if owner == CASE:
        return get_case(actor, owner_id, detail=True)
    return get_application(actor, owner_id)


def list_documents(actor: Actor, owner: str, owner_id: int) -> list[Listed]:
    """Every document of the case (or application) with whether it can be generated now, and why not."""
    record = _owner(actor, owner, owner_id)
    today = today_shanghai()
    listed = []
    for kind in KINDS[owner].values():
        reason = kind.available(record, today)
        listed.append(Listed(kind.kind, str(kind.title), reason is None, reason, _items(kind, record)))
    return listed


def _items(kind: Kind, record: Record) -> list[dict[str, Any]] | None:
    if not isinstance(record, Case):  # documents per session or follow-up are a case's
        return None
    if kind.per == "session":
        return [{"id": s.id, "on": s.held_on} for s in record.sessions]
    if kind.per == "follow_up":
        return [{"id": f.id, "on": f.visited_on} for f in record.follow_ups]
    return None


def _item(kind: Kind, record: Record, item_id: int | None) -> Item | None:
    """The session or follow-up of a per-item document: the one asked for, else the latest."""
    if kind.per is None or not isinstance(record, Case):  # documents per item are a case's
        return None
    rows: Sequence[Item] = record.sessions if kind.per == "session" else record.follow_ups
    if item_id is None:
        return rows[-1]
    found = next((row for row in rows if row.id == item_id), None)
    if found is None:
        raise NotFound("session" if kind.per == "session" else "follow-up")
    return found


def _handling(actor: Actor, owner: str, record: Record) -> bool:
    if owner == CASE:
        return CASE_POLICY.allows(actor, "reveal_party", record)
    return LEGAL_AID_POLICY.allows(actor, "reveal_applicant", record)


def _lock(owner: str, record: Record) -> None:
    """Queue concurrent first issues of one record's documents on its row (PostgreSQL), so its number is taken
    once and no sequence value is spent for nothing."""
    model = Case if owner == CASE else LegalAidApplication
    db.session.execute(sa.select(model.id).where(model.id == record.id).with_for_update())


def _number_year(series: str, record: Record) -> int:
    if isinstance(record, Case):
        return (record.accepted_on or record.declined_on or record.received_on).year
    day = {"法援决": record.decided_on, "法援指": record.assigned_on, "法援补": record.supplement_requested_on}.get(
        series
    )
    return (day or record.filed_on).year


def _number(owner: str, kind: Kind, record: Record) -> str | None:
    if kind.series is None:
        return None
    _lock(owner, record)
    organization = record.organization if isinstance(record, Case) else record.centre
    return number_for(owner, record.id, kind.series, organization, _number_year(kind.series, record))


def _keyed(content: bytes) -> str:
    import base64

    key = base64.urlsafe_b64decode(current_app.config["LOOKUP_KEY"])
    return hmac.new(key, content, hashlib.sha256).hexdigest()


def build(
    actor: Actor,
    owner: str,
    kind: Kind,
    record: Record,
    *,
    full: bool,
    number: str | None,
    item: Item | None = None,
    options: dict[str, Any] | None = None,
) -> Doc:
    """The document as the record stands, for printing (numbers full or masked as ``full`` says)."""
    ctx = Context(full_numbers=full, today=today_shanghai(), number=number, item=item)
    if kind.kind == "file" and isinstance(record, Case):  # the 卷宗 is a case's
        doc = build_file(actor, record, ctx, options or {})
    else:
        doc = kind.build(record, ctx)
    doc.number = number if kind.series else doc.number
    doc.author = (record.organization if isinstance(record, Case) else record.centre).name
    doc.footer = f"{'案件编号' if owner == CASE else '申请编号'} {record.number}"
    if kind.full_numbers and not full:
        doc.copy_note = "本件证件号码已遮蔽，仅供查阅"
    return doc


def _version(document: Document, source: str, actor: Actor) -> DocumentVersion:
    version = db.session.scalar(
        sa.select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.source_sha256 == source
        )
    )
    if version is not None:
        return version
    last = (
        db.session.scalar(
            sa.select(sa.func.max(DocumentVersion.version)).where(DocumentVersion.document_id == document.id)
        )
        or 0
    )
    version = DocumentVersion(
        document_id=document.id, version=last + 1, source_sha256=source, created_by_id=actor.user_id
    )
    db.session.add(version)
    db.session.flush()
    return version


def _document(owner: str, record: Record, kind: Kind, item: Item | None, number: str | None) -> Document:
    key = {"owner_type": owner, "owner_id": record.id, "kind": kind.kind, "item_id": item.id if item else 0}
    document = db.session.scalar(sa.select(Document).filter_by(**key))
    if document is None:
        try:
            with db.session.begin_nested():
                document = Document(**key, number=number)
                db.session.add(document)
        except IntegrityError:  # issued at the same moment by another request: use that one
            document = db.session.scalars(sa.select(Document).filter_by(**key)).one()
    return document


def issue(
    actor: Actor,
    owner: str,
    owner_id: int,
    kind_name: str,
    *,
    fmt: str = "pdf",
    item_id: int | None = None,
    options: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> Issued:
    """The document ``kind_name`` of the record as it stands now (see the module docstring); flushes, the
    caller commits."""
    record = _owner(actor, owner, owner_id)
    kind = KINDS[owner].get(kind_name)
    if kind is None:
        raise NotFound("document")
    if fmt not in FORMATS:
        raise ValidationFailed({"format": [coded("document_format", "文书格式只能是 pdf 或 docx")]})
    options = _check_options(kind, options or {})
    reason = kind.available(record, today_shanghai())
    if reason is not None:
        raise StateConflict(reason)
    item = _item(kind, record, item_id)
    full = kind.full_numbers and _handling(actor, owner, record)
    number = _number(owner, kind, record)
    doc = build(actor, owner, kind, record, full=full, number=number, item=item, options=options)
    printed = canonical(doc.content())
    digest = _keyed(printed) if full else hashlib.sha256(printed).hexdigest()
    # one version for both renditions: the source is the full content (keyed) where there is one
    source = _keyed(
        canonical(
            doc.content()
            if full or not kind.full_numbers
            else build(actor, owner, kind, record, full=True, number=number, item=item, options=options).content()
        )
    )
    document = _document(owner, record, kind, item, number)
    version = _version(document, source, actor)
    stored = _rendition(version, doc, digest, fmt, full, actor)
    if full:
        _record_reveal(actor, owner, record, kind, version, remote_addr)
    content = decrypt_bytes(stored.content) if full else stored.content
    return Issued(
        content=content,
        filename=_filename(kind, record, version, fmt),
        mimetype=FORMATS[fmt],
        full_numbers=full,
        version=version.version,
        number=number,
        digest=digest,
        sha256=stored.sha256,
    )


def _check_options(kind: Kind, options: dict[str, Any]) -> dict[str, Any]:
    retention = (options.get("retention") or "").strip() or None
    if retention is None:
        return {}
    if kind.kind != "file" or retention not in RETENTION_PERIODS:
        raise ValidationFailed({"retention": [coded("document_retention", "保管期限只能是 永久、长期 或 短期")]})
    return {"retention": retention}


def _rendition(version: DocumentVersion, doc: Doc, digest: str, fmt: str, full: bool, actor: Actor) -> DocumentFile:
    stored = db.session.scalar(
        sa.select(DocumentFile).where(
            DocumentFile.version_id == version.id, DocumentFile.format == fmt, DocumentFile.full_numbers == full
        )
    )
    if stored is not None:
        return stored
    if fmt == "pdf":
        data = render.pdf(doc, digest)
        pages = render.page_count(data)
    else:
        from .docx_writer import docx

        data, pages = docx(doc, digest), None
    stored = DocumentFile(
        version_id=version.id,
        format=fmt,
        full_numbers=full,
        digest=digest,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        pages=pages,
        content=encrypt_bytes(data) if full else data,
        created_by_id=actor.user_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(stored)
    except IntegrityError:  # the same rendition was kept a moment ago by another request: hand out that one
        stored = db.session.scalars(
            sa.select(DocumentFile).where(
                DocumentFile.version_id == version.id, DocumentFile.format == fmt, DocumentFile.full_numbers == full
            )
        ).one()
    return stored


def _record_reveal(
    actor: Actor, owner: str, record: Record, kind: Kind, version: DocumentVersion, remote_addr: str | None
) -> None:
    audit.record(
        actor,
        "document_with_numbers",
        target_type=owner,
        target_id=record.id,
        detail={"number": record.number, "kind": kind.kind, "version": version.version},
        remote_addr=remote_addr,
    )
    if isinstance(record, Case):
        record_case_event(
            record, "document_with_numbers", actor, today_shanghai(), {"kind": kind.kind, "version": version.version}
        )


def _filename(kind: Kind, record: Record, version: DocumentVersion, fmt: str) -> str:
    return f"{kind.title}-{record.number}-v{version.version}.{fmt}"


def versions(actor: Actor, owner: str, owner_id: int) -> list[dict[str, Any]]:
    """What was handed out for the record: each document's versions with their digests (the digest of a full
    rendition only to the handling organisation)."""
    record = _owner(actor, owner, owner_id)
    handling = _handling(actor, owner, record)
    rows = db.session.execute(
        sa.select(Document, DocumentVersion, DocumentFile)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .join(DocumentFile, DocumentFile.version_id == DocumentVersion.id)
        .where(Document.owner_type == owner, Document.owner_id == record.id)
        .order_by(Document.kind, Document.item_id, DocumentVersion.version, DocumentFile.id)
    ).all()
    return [
        {
            "kind": document.kind,
            "item_id": document.item_id or None,
            "number": document.number,
            "version": version.version,
            "format": file.format,
            "full_numbers": file.full_numbers,
            "digest": file.digest if handling or not file.full_numbers else None,
            "sha256": file.sha256 if handling or not file.full_numbers else None,
            "pages": file.pages,
            "size": file.size,
            "created_at": file.created_at,
            "created_by": person_for_user(file.created_by_id).label,
        }
        for document, version, file in rows
    ]


def find_by_digest(actor: Actor, digest: str) -> dict[str, Any]:
    """Which document of which record a printed 校验码 belongs to (in the caller's scope), for matching a
    signed paper to its file."""
    digest = (digest or "").strip().lower()
    row = db.session.execute(
        sa.select(Document, DocumentVersion, DocumentFile)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .join(DocumentFile, DocumentFile.version_id == DocumentVersion.id)
        .where(DocumentFile.digest == digest)
    ).first()
    if row is None:
        raise NotFound("document")
    document, version, file = row
    record = _owner(actor, document.owner_type, document.owner_id)  # 404 outside the caller's scope
    return {
        "owner": document.owner_type,
        "owner_id": record.id,
        "record_number": record.number,
        "kind": document.kind,
        "item_id": document.item_id or None,
        "number": document.number,
        "version": version.version,
        "format": file.format,
        "sha256": file.sha256,
        "created_at": file.created_at,
    }


def forget_files(owner: str, owner_ids: list[int]) -> int:
    """Delete the kept bytes (and their digests) of every document of these records: their people's data was
    erased (PIPL art. 47). The documents and their versions stay (that a paper was handed out, when and by
    whom); printed again, a document is a new version without the erased person. Returns how many files went."""
    if not owner_ids:
        return 0
    versions = (
        sa.select(DocumentVersion.id)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.owner_type == owner, Document.owner_id.in_(owner_ids))
    )
    return affected_rows(db.session.execute(sa.delete(DocumentFile).where(DocumentFile.version_id.in_(versions))))


__all__ = [
    "CASE",
    "CASE_KINDS",
    "FORMATS",
    "LEGAL_AID",
    "LEGAL_AID_KINDS",
    "Issued",
    "Listed",
    "find_by_digest",
    "forget_files",
    "issue",
    "list_documents",
    "versions",
]
