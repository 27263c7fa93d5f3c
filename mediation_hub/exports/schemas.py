"""Shapes of the export API: what to export, and an export job as it reads."""

from marshmallow import Schema, fields, validate

from ..cases.schemas import CaseSearchIn
from .models import ExportFormat, ExportKind, ExportStatus


class CaseExportFilters(CaseSearchIn):
    """The case list's filters, as ``GET /api/v1/cases`` takes them (in a body: ``q`` may be a full ID number
    or phone, which is kept as its keyed hash)."""

    class Meta:
        exclude = ("page", "per_page")


class CaseExportIn(Schema):
    format = fields.String(
        required=True,
        validate=validate.OneOf([f.value for f in ExportFormat]),
        metadata={"description": "csv (UTF-8 with a byte-order mark) or xlsx"},
    )
    filters = fields.Nested(
        CaseExportFilters,
        load_default=dict,
        metadata={"description": "the case list's filters; none: every case in scope"},
    )


class ExportJobOut(Schema):
    id = fields.Integer()
    kind = fields.Enum(ExportKind, by_value=True)
    format = fields.Enum(ExportFormat, by_value=True)
    status = fields.Enum(ExportStatus, by_value=True)
    status_label = fields.String()
    rows_expected = fields.Integer(metadata={"description": "the cases the list held when the export was asked for"})
    rows_written = fields.Integer(metadata={"description": "rows in the file so far (all of them once done)"})
    progress = fields.Float(metadata={"description": "share of the rows written, 0..1"})
    filename = fields.String(metadata={"description": "the name the download is saved under"})
    file_size = fields.Integer(allow_none=True, metadata={"description": "bytes, once done"})
    message = fields.String(allow_none=True, metadata={"description": "why the export failed"})
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "when the file is deleted"})
    file_url = fields.Function(
        lambda job: f"/api/v1/exports/{job.id}/file" if job.status == ExportStatus.done else None,
        metadata={"description": "the download, once the file is complete"},
    )
