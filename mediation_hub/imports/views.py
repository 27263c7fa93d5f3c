"""Import pages: upload a file, watch its progress, read the summary and download the failed rows.

Administrators import into any mediation organisation, registry administrators into those of their region,
mediators into their own organisation (the same rule as ``service.import_organization``)."""

from __future__ import annotations

import csv
from itertools import islice
from pathlib import Path

from flask import Blueprint, current_app, jsonify, redirect, render_template, send_file, url_for

from ..auth.current import current_actor
from ..core.actor import Actor
from ..core.limits import shown_size, upload_limit
from ..core.pagination import paginate
from ..errors import ValidationFailed
from ..extensions import db
from ..registry.models import MEDIATING_KINDS, Organization
from ..registry.service import organizations_visible_to
from . import jobs, layout
from .forms import UploadForm
from .policy import POLICY

bp = Blueprint("imports", __name__, url_prefix="/imports", template_folder="templates")
SHOWN_FAILURES = 20


def _organization_choices(actor: Actor) -> list[tuple[int, str]]:
    stmt = organizations_visible_to(actor).where(Organization.kind.in_(MEDIATING_KINDS), Organization.active)
    return [(org.id, org.name) for org in db.session.scalars(stmt.order_by(Organization.name))]


@bp.route("/cases", methods=["GET", "POST"])
def import_upload():
    """The upload form, the column layout and the recent imports."""
    actor = current_actor()
    POLICY.require(actor, "import_cases")
    form = UploadForm()
    form.organization_id.choices = _organization_choices(actor)
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = jobs.create_job(
                actor,
                organization_id=form.organization_id.data,
                filename=upload.filename,
                upload=upload.stream,
                source_system=form.source_system.data,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            for name, messages in exc.errors.items():
                field = getattr(form, name, form.file)
                field.errors = [*field.errors, *messages]
        else:
            jobs.start_job(current_app._get_current_object(), job.id)  # the thread starts once the job is committed
            return redirect(url_for("imports.import_job", job_id=job.id))
    recent = paginate(jobs.jobs_visible_to(actor), 1, 20)
    return render_template(
        "imports/upload.html",
        form=form,
        recent=recent["items"],
        columns=layout.COLUMNS,
        upload_size=shown_size(upload_limit(current_app.config)),
    )


def _first_failures(job) -> list[list[str]]:
    """The first failed rows from the job's error report, to show on the page (the counts alone when the
    report is not on this host)."""
    if not job.finished or not job.failed or not job.error_report or not Path(job.error_report).exists():
        return []
    with open(job.error_report, encoding="utf-8-sig", newline="") as handle:
        return list(islice(csv.reader(handle), 1, SHOWN_FAILURES + 1))


@bp.get("/<int:job_id>")
def import_job(job_id: int):
    """The progress bar while the import runs; the summary, the first failures and the report once done."""
    job = jobs.get_job(current_actor(), job_id)
    return render_template(
        "imports/job.html", job=job, failures=_first_failures(job), has_report=bool(job.error_report)
    )


@bp.get("/<int:job_id>/status")
def import_job_status(job_id: int):
    """The job's progress as JSON for the page's polling script."""
    job = jobs.get_job(current_actor(), job_id)
    return jsonify(
        {
            "status": job.status.value,
            "status_label": job.status_label,
            "finished": job.finished,
            "progress": job.progress,
            "processed_rows": job.processed_rows,
            "imported": job.imported,
            "skipped": job.skipped,
            "failed": job.failed,
        }
    )


@bp.get("/<int:job_id>/errors.csv")
def import_errors(job_id: int):
    """The csv of failed rows (行号, 原系统案号, 字段, 原因)."""
    path = jobs.error_report_path(current_actor(), job_id)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=f"import-{job_id}-errors.csv")
