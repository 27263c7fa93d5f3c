"""The documents on the pages: each download, for the person signed in (the same service as the API)."""

from __future__ import annotations

from flask import Blueprint, request
from marshmallow import ValidationError

from ..errors import ValidationFailed
from .api import issue_now
from .schemas import DocumentQuery
from .service import CASE, LEGAL_AID

bp = Blueprint("documents", __name__, template_folder="templates")


def _args() -> dict:
    try:
        return DocumentQuery().load(request.args.to_dict())
    except ValidationError as exc:
        raise ValidationFailed(exc.messages_dict) from exc  # a schema's load errors are keyed by field


@bp.get("/cases/<int:case_id>/documents/<kind>")
def case_document(case_id: int, kind: str):
    """A document of the case (打印 / 下载), as the case stands."""
    return issue_now(CASE, case_id, kind, _args())


@bp.get("/legal-aid/applications/<int:application_id>/documents/<kind>")
def application_document(application_id: int, kind: str):
    """A document of the legal-aid application."""
    return issue_now(LEGAL_AID, application_id, kind, _args())
