"""Import API: upload a file to import (202 with the job), follow the job, fetch its error report."""

from flask import current_app, send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..extensions import db
from . import jobs
from .schemas import ImportFile, ImportForm, ImportJobOut

blp = Blueprint("imports_api", __name__, url_prefix="/api/v1", description="Bulk import of historical cases")


@blp.route("/imports/cases")
class ImportCases(MethodView):
    @blp.arguments(ImportForm, location="form")
    @blp.arguments(ImportFile, location="files")
    @blp.response(202, ImportJobOut)
    def post(self, form, files):
        """Queue the import of a csv/xlsx of cases into an organisation; the header is checked at once (422
        naming the missing columns). Follow the job at ``GET /api/v1/imports/ID``."""
        upload = files["file"]
        job = jobs.create_job(
            current_actor(),
            organization_id=form["organization_id"],
            filename=upload.filename,
            upload=upload.stream,
            source_system=form["source_system"],
        )
        jobs.start_job(current_app._get_current_object(), job.id)  # the thread starts once the job is committed
        db.session.refresh(job)  # as it is now: finished already when run inline (tests)
        return job


@blp.route("/imports/<int:job_id>")
class ImportJobItem(MethodView):
    @blp.response(200, ImportJobOut)
    def get(self, job_id):
        """The job: status (queued, running, done, failed), progress and the counts."""
        return jobs.get_job(current_actor(), job_id)


@blp.route("/imports/<int:job_id>/errors")
class ImportErrors(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="text/csv")  # listed in the spec
    def get(self, job_id):
        """The failed rows of a finished job as csv (行号, 原系统案号, 字段, 原因); only the header when none failed."""
        path = jobs.error_report_path(current_actor(), job_id)
        return send_file(path, mimetype="text/csv", as_attachment=True, download_name=f"import-{job_id}-errors.csv")
