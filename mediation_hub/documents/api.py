"""Documents API: the list of a case's (an application's) documents and each one as PDF or DOCX.

A download is a GET that writes (the number given once, the version kept, the audit row of a reveal): it says
so with ``writing()`` and commits once. Every document answer is ``Cache-Control: no-store``."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..core.export import content_disposition
from ..core.uow import writing
from . import service
from .schemas import DigestQuery, DocumentListOut, DocumentQuery, FoundOut

blp = Blueprint(
    "documents_api",
    __name__,
    url_prefix="/api/v1",
    description="The paperwork: the mediation file and the legal-aid papers",
)

BINARY = {
    "200": {
        "description": "the document",
        "content": {
            mimetype: {"schema": {"type": "string", "format": "binary"}} for mimetype in service.FORMATS.values()
        },
    }
}


def document_response(issued: service.Issued) -> Response:
    """The bytes with what a client needs to keep them apart; never cached by a browser or a proxy."""
    headers = {
        "Content-Disposition": content_disposition(issued.filename),
        "Cache-Control": "no-store",
        "X-Document-Version": str(issued.version),
        "X-Document-Digest": issued.digest,
        "X-Document-SHA256": issued.sha256,
    }
    if issued.full_numbers:
        headers["X-Personal-Data"] = "revealed"  # an audited reveal (tests/pii_guard.py)
    return Response(issued.content, mimetype=issued.mimetype, headers=headers)


def issue_now(owner: str, owner_id: int, kind: str, args: dict) -> Response:
    actor = current_actor()
    with writing():
        issued = service.issue(
            actor,
            owner,
            owner_id,
            kind,
            fmt=args["format"],
            item_id=args.get("session_id") or args.get("follow_up_id"),
            options={"retention": args.get("retention")},
            remote_addr=request.remote_addr,
        )
    return document_response(issued)


def _listing(owner: str, owner_id: int) -> dict:
    actor = current_actor()
    return {"items": service.list_documents(actor, owner, owner_id), "issued": service.versions(actor, owner, owner_id)}


@blp.route("/cases/<int:case_id>/documents")
class CaseDocuments(MethodView):
    @blp.response(200, DocumentListOut)
    def get(self, case_id):
        """The case's documents (DESIGN "Documents"), each with whether it can be generated now and why not;
        and every version handed out so far."""
        return _listing(service.CASE, case_id)


@blp.route("/cases/<int:case_id>/documents/<kind>")
class CaseDocument(MethodView):
    @blp.arguments(DocumentQuery, location="query")
    @blp.doc(responses=BINARY)
    def get(self, args, case_id, kind):
        """The document as the case stands: 404 outside the caller's scope or for an unknown kind, 409 (with the
        reason) when it is not available yet. The agreement, the 司法确认 application and the file show full ID
        numbers to the handling organisation only, and that download is audited; others get masked numbers."""
        return issue_now(service.CASE, case_id, kind, args)


@blp.route("/legal-aid/applications/<int:application_id>/documents")
class ApplicationDocuments(MethodView):
    @blp.response(200, DocumentListOut)
    def get(self, application_id):
        """The application's documents, each with whether it can be generated now and why not."""
        return _listing(service.LEGAL_AID, application_id)


@blp.route("/legal-aid/applications/<int:application_id>/documents/<kind>")
class ApplicationDocument(MethodView):
    @blp.arguments(DocumentQuery, location="query")
    @blp.doc(responses=BINARY)
    def get(self, args, application_id, kind):
        """The legal-aid document as the application stands (404 / 409 as for a case's documents)."""
        return issue_now(service.LEGAL_AID, application_id, kind, args)


@blp.route("/documents/by-digest")
class ByDigest(MethodView):
    @blp.arguments(DigestQuery, location="query")
    @blp.response(200, FoundOut)
    def get(self, args):
        """Which document a printed 校验码 belongs to (in the caller's scope): matches a signed paper to its file."""
        return service.find_by_digest(current_actor(), args["digest"])
