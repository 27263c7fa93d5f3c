"""Notification pages: the list of a person's notices, marking them read, and the unread count in the layout."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..auth.current import current_actor
from ..core.pagination import paginate
from ..extensions import db
from . import service

bp = Blueprint("notifications", __name__, url_prefix="/notifications", template_folder="templates")


@bp.app_context_processor
def _unread_notifications():
    """``unread_notifications`` for the layout's 通知 (N); absent when signed out or the database is down."""
    if not current_user.is_authenticated:
        return {}
    try:
        return {"unread_notifications": service.unread_count(current_actor())}
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("unread notification count unavailable")
        return {}


def _safe_link(link: str | None) -> str | None:
    """Only links inside the hub are followed (a notice never sends anyone elsewhere)."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return None


@bp.get("/")
def notification_list():
    unread_only = request.args.get("unread") == "1"
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    page = paginate(service.notifications_for(current_actor(), unread_only=unread_only), page_no, 30)
    return render_template(
        "notifications/notification_list.html", page=page, unread_only=unread_only, safe_link=_safe_link
    )


@bp.post("/<int:notification_id>/read")
def notification_read(notification_id: int):
    """Mark one notice read; with ``open`` the person is taken to what it is about."""
    note = service.mark_read(current_actor(), notification_id)
    link = _safe_link(note.link)
    if request.form.get("open") and link:
        return redirect(link)
    return redirect(url_for("notifications.notification_list", unread=request.form.get("unread") or None))


@bp.post("/read-all")
def notification_read_all():
    count = service.mark_all_read(current_actor())
    flash(_("已将 %(count)s 条通知标为已读", count=count), "success")
    return redirect(url_for("notifications.notification_list"))
