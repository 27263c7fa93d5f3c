"""Export pages: a large export's progress, then its download, for the one user who asked for it."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from ..auth.current import current_actor
from ..core.export import file_response
from . import service

bp = Blueprint("exports", __name__, url_prefix="/exports", template_folder="templates")


@bp.get("/<int:export_id>")
def export_job(export_id: int):
    """The progress bar while the file is written; the download link once it is complete."""
    return render_template("exports/job.html", job=service.get_export(current_actor(), export_id))


@bp.get("/<int:export_id>/status")
def export_job_status(export_id: int):
    """The job's progress as JSON for the page's polling script."""
    job = service.get_export(current_actor(), export_id)
    return jsonify(
        {
            "status": job.status.value,
            "status_label": job.status_label,
            "finished": job.finished,
            "progress": job.progress,
            "rows_written": job.rows_written,
            "rows_expected": job.rows_expected,
        }
    )


@bp.get("/<int:export_id>/file")
def export_download(export_id: int):
    """The complete file (409 while it is being written, 404 once it has expired)."""
    handle, filename, mimetype = service.open_download(current_actor(), export_id)
    return file_response(handle, filename, mimetype)
