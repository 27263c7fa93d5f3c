"""Shapes of the import API: the multipart upload and an import job as it reads."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from .models import ImportStatus
from .service import DEFAULT_SOURCE_SYSTEM, SOURCE_SYSTEM_MAX


class ImportForm(Schema):
    organization_id = fields.Integer(required=True, metadata={"description": "the handling organisation"})
    source_system = fields.String(
        load_default=DEFAULT_SOURCE_SYSTEM,
        validate=validate.Length(min=1, max=SOURCE_SYSTEM_MAX),
        metadata={
            "description": "the system the file comes from (with 原系统案号 the "
            "key that makes a re-run skip imported rows)"
        },
    )


class ImportFile(Schema):
    file = Upload(
        required=True, metadata={"description": "a .csv (UTF-8 or GB18030) or .xlsx file, layout in docs/IMPORT.md"}
    )


class ImportJobOut(Schema):
    id = fields.Integer()
    organization_id = fields.Integer()
    organization_name = fields.Function(lambda job: job.organization.name)
    filename = fields.String()
    source_system = fields.String()
    status = fields.Enum(ImportStatus, by_value=True)
    status_label = fields.String()
    progress = fields.Float(metadata={"description": "share of the file read, 0..1"})
    total_rows = fields.Integer(allow_none=True, metadata={"description": "known once the import is done"})
    processed_rows = fields.Integer()
    imported = fields.Integer()
    skipped = fields.Integer(metadata={"description": "rows whose case an earlier import already brought in"})
    failed = fields.Integer()
    message = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    errors_url = fields.Function(
        lambda job: f"/api/v1/imports/{job.id}/errors" if job.error_report else None,
        metadata={"description": "the csv of failed rows, once the import is done"},
    )
