"""Export API: ask for an export of the case list (202 with the job), follow the job, fetch the file."""

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..cases.export import audit_filters
from ..core.export import XLSX_MIMETYPE, file_response
from ..extensions import db
from . import service
from .schemas import CaseExportIn, ExportJobOut

blp = Blueprint(
    "exports_api", __name__, url_prefix="/api/v1", description="Exports of the case list, written in the background"
)

FILE_CONTENT = {"schema": {"type": "string", "format": "binary"}}
FILE_RESPONSE = {
    "description": "the file, saved under the job's filename",
    "content": {"text/csv": FILE_CONTENT, XLSX_MIMETYPE: FILE_CONTENT},
}


@blp.route("/cases/exports")
class CaseExports(MethodView):
    @blp.arguments(CaseExportIn)
    @blp.response(202, ExportJobOut)
    def post(self, data):
        """Queue an export of the cases the filters select (those of ``GET /api/v1/cases``; in this body ``q``
        may be a full ID number or phone). Follow the job at ``GET /api/v1/exports/ID``; its ``file_url`` is the
        download once the file is complete. Only the caller sees the job and its file; the file is deleted
        ``EXPORT_KEEP_HOURS`` (24) after it is done. The audit log records the export when the file is complete."""
        filters = service.searchable_filters(data["filters"])
        job = service.queue_case_list_export(
            current_actor(),
            fmt=data["format"],
            filters=filters,
            audit_filters=audit_filters(filters),
            remote_addr=request.remote_addr,
        )
        service.start(current_app._get_current_object(), job.id)  # the thread starts once the job is committed
        db.session.refresh(job)  # as it is now: finished already when run inline (tests)
        return job


@blp.route("/exports/<int:export_id>")
class ExportItem(MethodView):
    @blp.response(200, ExportJobOut)
    def get(self, export_id):
        """The job: status (queued, running, done, failed), progress, and the file's address once done."""
        return service.get_export(current_actor(), export_id)


@blp.route("/exports/<int:export_id>/file")
class ExportFile(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="text/csv")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(responses={"200": FILE_RESPONSE})  # both types (flask-smorest documents one; this replaces it)
    def get(self, export_id):
        """The complete file (csv or xlsx, as asked), saved as its ``filename``; 409 while it is being written,
        404 once it has expired."""
        handle, filename, mimetype = service.open_download(current_actor(), export_id)
        return file_response(handle, filename, mimetype)
