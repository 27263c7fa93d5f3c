"""The audit-log page for administrators: entries newest first, filtered by user, action and dates."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from ..auth.current import current_actor
from ..core.dates import DateField
from ..core.forms import TranslatedForm
from ..core.pagination import paginate
from ..errors import ValidationFailed
from ..extensions import db
from . import service
from .policy import POLICY

bp = Blueprint("audit", __name__, template_folder="templates")

PER_PAGE = 50


class AuditFilterForm(TranslatedForm):
    """The filters, read from the query string (no CSRF: a GET that changes nothing)."""

    user = StringField(_l("用户名"), validators=[Optional(), Length(max=60)])
    action = SelectField(_l("操作"), validate_choice=False)
    date_from = DateField(_l("日期自"), validators=[Optional()])
    date_to = DateField(_l("至"), validators=[Optional()])

    def filters(self) -> dict:
        """Keyword arguments for ``list_entries`` from the fields that read correctly."""

        def ok(field):
            return field.data if not field.errors else None

        user = (ok(self.user) or "").strip() or None
        action = self.action.data if self.action.data in service.ACTIONS else None
        return {"user": user, "action": action, "date_from": ok(self.date_from), "date_to": ok(self.date_to)}


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.action.choices = [("", _("全部"))] + [(code, _(label)) for code, label in service.action_choices()]
    form.validate()
    return form


def _entries(actor, form: AuditFilterForm) -> sa.Select:
    """The query for the form's filters; a filter the service refuses is shown beside its field and dropped."""
    filters = form.filters()
    try:
        return service.list_entries(actor, **filters)
    except ValidationFailed as exc:
        db.session.rollback()
        for key, messages in (exc.errors or {}).items():
            if key in form:
                form[key].errors = [*form[key].errors, *messages]
            filters[key] = None
        return service.list_entries(actor, **filters)


def _usernames(entries) -> dict[str, str]:
    """The names of the accounts the entries on the page are about (``target_type`` user), by id."""
    from ..auth.models import User

    ids = {int(e.target_id) for e in entries if e.target_type == "user" and (e.target_id or "").isdigit()}
    if not ids:
        return {}
    return {
        str(uid): name for uid, name in db.session.execute(sa.select(User.id, User.username).where(User.id.in_(ids)))
    }


def detail_text(detail: dict | None) -> str:
    """An entry's detail as one line: ``before: active=True；after: active=False；tokens_revoked: 2``."""
    parts = []
    for key, value in (detail or {}).items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "—"
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{key}: {value}")
    return "；".join(parts)


@bp.get("/audit")
def audit_log():
    actor = current_actor()
    POLICY.require(actor, "read_log")
    form = _filter_form()
    page = paginate(_entries(actor, form), max(request.args.get("page", 1, type=int) or 1, 1), PER_PAGE)
    return render_template(
        "audit/audit_log.html",
        form=form,
        page=page,
        labels=service.ACTION_LABELS,
        usernames=_usernames(page["items"]),
        detail_text=detail_text,
    )
