"""The administrator's page for one person's request (PIPL): look them up by ID number, see where they
appear (masked), download a copy of their data (an audited reveal), and erase it after a confirmation step.

The ID number is posted, never put in a URL; after the look-up the page carries it only sealed with the
hub's key (``seal``), valid for ``SEAL_SECONDS``, so no page but the download shows the number."""

from __future__ import annotations

import json
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken
from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.current import current_actor
from ..cases.rules import PARTY_ROLE_LABELS
from ..cases.rules import STATUS_LABELS as CASE_STATUS_LABELS
from ..core.actor import Actor
from ..core.export import xlsx_response
from ..core.pii import mask_id_number
from ..core.shanghai import today_shanghai
from ..errors import StateConflict, ValidationFailed
from ..legal_aid.reference import STATUS_LABELS as APPLICATION_STATUS_LABELS
from . import service
from .forms import PersonEraseForm, PersonForm, PersonLookupForm
from .policy import POLICY

bp = Blueprint("privacy", __name__, url_prefix="/privacy", template_folder="templates")

SEAL_SECONDS = 30 * 60
REVEALED = "X-Personal-Data"  # marks the audited reveal (see tests/pii_guard.py)
SECTIONS = (("parties", "当事人"), ("mediators", "调解员"), ("legal_aid_applications", "法律援助申请"))


def _require_admin() -> Actor:
    """The current actor, if it may handle a person's request (``POLICY "person_request"``), else a 403."""
    actor = current_actor()
    POLICY.require(actor, "person_request")
    return actor


def _fernet() -> Fernet:
    return Fernet(current_app.config["PII_KEY"].encode())


def seal(id_number: str) -> str:
    return _fernet().encrypt(id_number.encode()).decode()


def unseal(token: str | None) -> str | None:
    """The ID number in a token this hub sealed less than ``SEAL_SECONDS`` ago, else None."""
    try:
        return _fernet().decrypt((token or "").encode(), ttl=SEAL_SECONDS).decode()
    except (InvalidToken, ValueError):
        return None


def _expired():
    flash(_("查询已过期，请重新输入身份证号码查询"), "warning")
    return redirect(url_for("privacy.person_request"))


def _labels() -> dict:
    return {
        "party_roles": {k.value: v for k, v in PARTY_ROLE_LABELS.items()},
        "case_statuses": {k.value: v for k, v in CASE_STATUS_LABELS.items()},
        "application_statuses": APPLICATION_STATUS_LABELS,
    }


@bp.route("/person", methods=["GET", "POST"])
def person_request():
    """Look a person up by ID number; list where they appear, masked, with the export and erase actions."""
    actor = _require_admin()
    form = PersonLookupForm()
    records, status, typed = None, 200, None
    if form.validate_on_submit():
        try:
            records = service.locate_person(actor, form.id_number.data)
        except ValidationFailed as exc:
            form.id_number.errors = list(exc.errors["id_number"])
            typed, status = form.id_number.data.strip(), 422
    elif request.method == "POST":
        status = 422
    form.id_number.data = ""  # a number typed in is never written back into the page
    return render_template(
        "privacy/person_request.html",
        form=form,
        records=records,
        typed_masked=_masked(typed),
        masked=mask_id_number(records.id_number) if records else None,
        action_form=PersonForm(person=seal(records.id_number)) if records and not records.empty else None,
        **_labels(),
    ), status


def _masked(typed: str | None) -> str | None:
    return mask_id_number(typed) if typed and len(typed) >= 10 else None


def _export_rows(document: dict):
    for key, title in SECTIONS:
        for number, entry in enumerate(document[key], start=1):
            for field, value in entry.items():
                yield title, number, field, ", ".join(value) if isinstance(value, list) else value


@bp.post("/person/export")
def person_export():
    """Download everything held about the person (JSON or xlsx): the one page with the full numbers, audited."""
    actor = _require_admin()
    form = PersonForm()
    number = unseal(form.person.data) if form.validate_on_submit() else None
    if number is None:
        return _expired()
    document = service.export_person(actor, number, remote_addr=request.remote_addr)
    stem = f"个人信息-{today_shanghai().isoformat()}"
    if request.form.get("format") == "xlsx":
        response = xlsx_response(
            f"{stem}.xlsx", ["类别", "序号", "字段", "内容"], _export_rows(document), sheet_title="个人信息"
        )
    else:
        response = Response(
            json.dumps(document, ensure_ascii=False, indent=2),
            mimetype="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="personal-data.json"; '
                f"filename*=UTF-8''{quote(stem)}.json"
            },
        )
    response.headers[REVEALED] = "revealed"
    return response


@bp.post("/person/erase")
def person_erase():
    """First post: what will be erased, and a confirmation box. Second post (``stage=confirm``): erase."""
    actor = _require_admin()
    form = PersonEraseForm()
    number = unseal(form.person.data)
    if number is None:
        return _expired()
    records = service.locate_person(actor, number)
    if records.empty:
        flash(_("未找到与该身份证号码相关的个人信息（可能已删除）"), "warning")
        return redirect(url_for("privacy.person_request"))
    status, error = 200, None
    if request.form.get("stage") == "confirm":
        if form.validate_on_submit():
            try:
                counts = service.erase_person(actor, number, remote_addr=request.remote_addr)
            except StateConflict as exc:
                status, error = 409, exc.message
            else:
                flash(
                    _(
                        "已删除 %(masked)s 的个人信息：当事人 %(parties)s 条（%(cases)s 件案件）、"
                        "调解员 %(mediators)s 条、法律援助申请 %(applications)s 条。案件与统计数据保留。",
                        masked=mask_id_number(number),
                        parties=counts["parties"],
                        cases=counts["cases"],
                        mediators=counts["mediators"],
                        applications=counts["legal_aid_applications"],
                    ),
                    "success",
                )
                return redirect(url_for("privacy.person_request"))
        else:
            status = 422
    return render_template(
        "privacy/person_erase.html", form=form, records=records, error=error, masked=mask_id_number(number), **_labels()
    ), status
