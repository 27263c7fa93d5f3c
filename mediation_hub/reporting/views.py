"""Pages: the officials' dashboard (rates, categories, monthly trend, regions, cross-region flows, studios,
overdue work) with an xlsx of the same figures; report subscriptions and their deliveries (重新投递)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..auth.current import current_actor
from ..core.actor import Actor, Role
from ..errors import PermissionDenied, ValidationFailed
from ..extensions import db
from ..registry.models import Organization, OrgKind
from ..registry.service import organizations_visible_to
from . import service, subscriptions
from .export import dashboard_download
from .models import FREQUENCY_LABELS, ReportDelivery, ReportSubscription

bp = Blueprint("reporting", __name__, url_prefix="/reporting", template_folder="templates")
DASHBOARD_ROLES = (Role.coordinator, Role.admin)


def _require_official() -> Actor:
    actor = current_actor()
    if not actor.has_role(*DASHBOARD_ROLES):
        raise PermissionDenied("统计看板供协调人员和管理员使用 (coordinators and administrators only)")
    return actor


def _date_arg(name: str, errors: dict) -> date | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.setdefault(name, []).append("日期格式应为 YYYY-MM-DD")
        return None


def _period_args() -> dict:
    errors: dict[str, list[str]] = {}
    values = {name: _date_arg(name, errors) for name in ("from", "to", "as_of")}
    if errors:
        raise ValidationFailed(errors)
    date_from, date_to = service.default_period(values["from"], values["to"])
    return {"region_code": request.args.get("region_code") or None, "date_from": date_from, "date_to": date_to,
            "as_of": values["as_of"]}


def _series(groups: list[dict]) -> dict:
    """Chart series from report groups: labels, counts, and rates as percentages (None stays None)."""
    def percent(value):
        return round(value * 100, 1) if value is not None else None

    return {"labels": [g["label"] for g in groups], "received": [g["received"] for g in groups],
            "concluded": [g["concluded"] for g in groups], "agreement": [g["agreement"] for g in groups],
            "success_rate": [percent(g["success_rate"]) for g in groups],
            "completion_rate": [percent(g["completion_rate"]) for g in groups]}


def chart_data(data: dict) -> dict:
    """What dashboard.js draws: plain labels and numbers (the tables under the charts show the same)."""
    pairs = (data["flows"] or {}).get("pairs", [])
    return {
        "category": _series(data["by_category"]), "month": _series(data["by_month"]),
        "region": _series(data["by_region"]), "studio": _series(data["by_studio"]),
        "flows": {"labels": [f"{p['from_region_name']}→{p['to_region_name']}" for p in pairs],
                  **{k: [p[k] for p in pairs] for k in ("total", "accepted", "declined", "expired", "pending")}},
    }


@bp.get("")
def dashboard():
    """统计看板 for the user's region (or a region inside it), over a period."""
    actor = _require_official()
    args = _period_args()
    data = service.dashboard(actor, **args)
    return render_template("reporting/dashboard.html", data=data, charts=chart_data(data),
                           regions=service.region_choices(actor), args=args, national=actor.sees_everything,
                           case_link="cases.case_detail" in current_app.view_functions,
                           escalations_link="transfers.escalations" in current_app.view_functions)


@bp.get("/download.xlsx")
def dashboard_download_xlsx():
    """The dashboard's figures as a workbook (one sheet per table)."""
    actor = _require_official()
    return dashboard_download(service.dashboard(actor, **_period_args()))


# --- subscriptions -------------------------------------------------------------------------------------

class SubscriptionForm(FlaskForm):
    organization_id = SelectField("综治中心", coerce=int, validators=[DataRequired()])
    region_code = SelectField("统计地区", validators=[DataRequired()])
    frequency = SelectField("频率", choices=list(FREQUENCY_LABELS.items()), validators=[DataRequired()])
    endpoint_url = StringField("接收地址 (https://…)", validators=[DataRequired(), Length(max=500)])
    secret = StringField("签名密钥 (留空自动生成)", validators=[Optional(), Length(max=200)])


def _subscription_form(actor: Actor, formdata=None) -> SubscriptionForm:
    form = SubscriptionForm(formdata=formdata)
    centres = db.session.scalars(organizations_visible_to(actor).where(Organization.kind == OrgKind.governance_centre)
                                 .order_by(Organization.region_code, Organization.name)).all()
    form.organization_id.choices = [(o.id, o.name) for o in centres]
    form.region_code.choices = [(r.code, r.full_name) for r in service.region_choices(actor)]
    return form


def _render_subscriptions(actor: Actor, form: SubscriptionForm, status: int = 200):
    subs = db.session.scalars(subscriptions.subscriptions_visible_to(actor)
                              .order_by(ReportSubscription.id)).all()
    deliveries = db.session.scalars(subscriptions.deliveries_visible_to(actor)
                                    .order_by(ReportDelivery.id.desc()).limit(100)).all()
    return render_template("reporting/subscriptions.html", subscriptions=subs, deliveries=deliveries, form=form,
                           frequency_labels=FREQUENCY_LABELS), status


@bp.get("/subscriptions")
def subscription_list():
    """Governance centres' report subscriptions, and every delivery with its attempts."""
    actor = _require_official()
    return _render_subscriptions(actor, _subscription_form(actor))


@bp.post("/subscriptions")
def create_subscription():
    actor = _require_official()
    form = _subscription_form(actor, request.form)
    if not form.validate_on_submit():
        return _render_subscriptions(actor, form, 422)
    data = {k: form.data[k] for k in ("organization_id", "region_code", "frequency", "endpoint_url", "secret")}
    try:
        _sub, secret = subscriptions.create_subscription(actor, data)
    except ValidationFailed as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            getattr(form, field, form.endpoint_url).errors = list(messages)
        return _render_subscriptions(actor, form, 422)
    db.session.commit()
    flash(f"订阅已创建。签名密钥只显示这一次，请交给综治中心保存：{secret}", "warning")
    return redirect(url_for("reporting.subscription_list"))


@bp.post("/deliveries/<int:delivery_id>/redeliver")
def redeliver(delivery_id: int):
    """重新投递 a failed delivery."""
    actor = _require_official()  # the CSRF token is checked app-wide (CSRFProtect) before this runs
    subscriptions.redeliver(actor, delivery_id)
    db.session.commit()
    flash("已重新加入投递队列 (queued for delivery again)")
    return redirect(url_for("reporting.subscription_list"))
