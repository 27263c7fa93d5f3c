"""Pages: the officials' dashboard (rates on the handled or the occurred basis, the flows that reconcile them,
categories, monthly trend, regions, cross-region flows, studios, overdue work) with an xlsx of the same figures;
report subscriptions and their deliveries (重新投递)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..auth.current import current_actor
from ..core.actor import Actor
from ..core.dates import parse_date
from ..core.messages import coded
from ..core.shanghai import today_shanghai
from ..errors import NotFound, ValidationFailed, collect
from ..extensions import db
from ..regions.models import Region
from ..registry.models import Organization, OrgKind
from ..registry.service import organizations_visible_to
from . import service, subscriptions
from .definitions import (
    BASIS_TITLES,
    FLOW_FIGURES,
    SECTION_FIGURES,
    basis_name,
    basis_note,
    basis_title,
    definitions,
    flow_identity,
    flow_note,
    flows_balance,
    null_rate_note,
)
from .delivery_errors import shown_delivery_error
from .export import column_titles, dashboard_download, flow_titles, section_titles
from .models import FREQUENCY_LABELS, ReportDelivery, ReportSubscription
from .policy import POLICY

bp = Blueprint("reporting", __name__, url_prefix="/reporting", template_folder="templates")


def _require(action: str) -> Actor:
    """The current actor, if the reporting policy lets it do ``action`` (else a 403, before anything is read)."""
    actor = current_actor()
    POLICY.require(actor, action)
    return actor


FILTER_FIELDS = ("region_code", "from", "to", "as_of", "basis")
# the switch's order: the place first, as a governance centre reads it
BASES = ("occurred", "handled")


def _date_arg(name: str, errors: dict) -> date | None:
    raw = (request.args.get(name) or "").strip() or None
    if raw is None:
        return None
    try:
        return parse_date(raw)  # 2026-12-07, also 20261207 or 2026/12/7 from a phone's numeric keyboard
    except ValueError as exc:
        collect(errors, name, exc.args[0])  # coded Chinese, "请按 年-月-日 填写日期"
        return None


def _basis_arg(actor: Actor, errors: dict) -> str:
    """属地 (occurred) or 承办 (handled) from the query string; none asked for: the actor's default (a governance
    centre's people see their territory)."""
    raw = (request.args.get("basis") or "").strip()
    if not raw:
        return service.default_basis(actor)
    if raw not in BASES:
        collect(errors, "basis", coded("unknown_basis", "统计口径须为属地或承办"))
        return service.default_basis(actor)
    return raw


def _filters(actor: Actor) -> tuple[dict, dict[str, list[str]]]:
    """The dashboard's filters from the query string (a missing end is today, a missing start the first of January
    of the end's year, a missing as-of date today, a missing basis the actor's default), and every problem with
    them by form field, found at once."""
    errors: dict[str, list[str]] = {}
    basis = _basis_arg(actor, errors)
    dates = {name: _date_arg(name, errors) for name in ("from", "to", "as_of")}
    region_code = (request.args.get("region_code") or "").strip() or None
    if region_code is not None and db.session.get(Region, region_code) is None:
        collect(errors, "region_code", coded("unknown_region", "没有这个地区，请从列表中选择"))
    date_from, date_to = service.default_period(dates["from"], dates["to"])
    if not errors.keys() & {"from", "to"} and date_to < date_from:
        collect(
            errors,
            "to",
            coded(
                "period_reversed",
                "结束日期 %(end)s 早于开始日期 %(start)s",
                end=date_to.isoformat(),
                start=date_from.isoformat(),
            ),
        )
    as_of = dates["as_of"] or today_shanghai()
    if not errors.keys() & {"from", "as_of"} and as_of < date_from:
        collect(
            errors,
            "as_of",
            coded(
                "as_of_before_from",
                "统计截止日 %(as_of)s 早于开始日期 %(start)s",
                as_of=as_of.isoformat(),
                start=date_from.isoformat(),
            ),
        )
    return {
        "region_code": region_code,
        "date_from": date_from,
        "date_to": date_to,
        "as_of": dates["as_of"],
        "basis": basis,
    }, errors


def _dashboard_data(actor: Actor) -> tuple[dict | None, dict[str, list[str]], int]:
    """The dashboard's figures, or the filter errors by field and the status to answer them with: 422 for a
    filter that cannot be right, 404 for a region outside the actor's scope (convention 9: the same status as the
    API), both shown beside the field on the dashboard's form rather than on an error page."""
    args, errors = _filters(actor)
    if errors:
        return None, errors, 422
    try:
        return service.dashboard(actor, **args), {}, 200
    except NotFound:
        if args["region_code"] is None:
            raise
        return None, {"region_code": [coded("region_outside_scope", "该地区不在您的统计范围内，请从列表中选择")]}, 404
    except ValidationFailed as exc:  # the service's own checks of the period, should a case slip past ours
        return None, {name if name in FILTER_FIELDS else "form": list(msgs) for name, msgs in exc.errors.items()}, 422


def _filter_values(actor: Actor, data: dict | None, errors: dict[str, list[str]]) -> dict:
    """What the form shows: the figures' own scope, period and basis, or after an error what the person typed (a
    basis that is neither is replaced by the default, so the form does not send it again)."""
    if data is None:
        values = {name: request.args.get(name, "") for name in FILTER_FIELDS}
        if errors.get("basis") or not values["basis"]:
            values["basis"] = service.default_basis(actor)
        return values
    return {
        "region_code": data["scope"]["region_code"] or "",
        "from": data["from"].isoformat(),
        "to": data["to"].isoformat(),
        "as_of": data["as_of"].isoformat(),
        "basis": data["basis"],
    }


def _basis_links(values: dict) -> list[dict]:
    """The 属地 / 承办 switch: the same region, period and as-of date on the other basis (plain links, no script)."""
    kept = {name: values[name] for name in ("region_code", "from", "to", "as_of") if values.get(name)}
    return [
        {
            "basis": basis,
            "name": basis_name(basis),
            "title": basis_title(basis),
            "url": url_for("reporting.dashboard", **kept, basis=basis),
            "current": basis == values["basis"],
        }
        for basis in BASES
    ]


def _series(groups: list[dict]) -> dict:
    """Chart series from report groups: labels, counts, and rates as percentages (None stays None)."""

    def percent(value):
        return round(value * 100, 1) if value is not None else None

    return {
        "labels": [g["label"] for g in groups],
        "received": [g["received"] for g in groups],
        "concluded": [g["concluded"] for g in groups],
        "agreement": [g["agreement"] for g in groups],
        "success_rate": [percent(g["success_rate"]) for g in groups],
        "completion_rate": [percent(g["completion_rate"]) for g in groups],
    }


def chart_data(data: dict) -> dict:
    """What dashboard.js draws: plain labels and numbers (the tables under the charts show the same)."""
    pairs = (data["flows"] or {}).get("pairs", [])
    return {
        "category": _series(data["by_category"]),
        "month": _series(data["by_month"]),
        "region": _series(data["by_region"]),
        "studio": _series(data["by_studio"]),
        "flows": {
            "labels": [f"{p['from_region_name']}→{p['to_region_name']}" for p in pairs],
            **{k: [p[k] for p in pairs] for k in ("total", "accepted", "declined", "expired", "pending")},
        },
        "names": chart_names(),
    }


def chart_names() -> dict:
    """Series and axis names for the charts, in the page's language (the same words as the tables)."""
    titles, month = column_titles(None), column_titles("month")
    names = {
        "received": titles["received"],
        "concluded": titles["concluded"],
        "agreement": titles["agreement"],
        "success_rate": _("调解成功率 %"),
        "month_received": month["received"],
        "month_concluded": month["concluded"],
        "month_agreement": month["agreement"],
        "month_success_rate": _("调解成功率 %（本月办结的案件）"),
        "cases": _("件"),
        "percent": "%",
        "accepted": _("接收数"),
        "declined": _("退回数"),
        "expired": _("超期数"),
        "pending": _("待答复数"),
    }
    short = {
        "received": _("登记"),
        "concluded": _("办结"),
        "agreement": _("协议"),
        "success_rate": _("成功率 %"),
        "accepted": _("接收"),
        "declined": _("退回"),
        "expired": _("超期"),
        "pending": _("待答复"),
    }
    # a phone's legend: the same series in short words (full names stay in the tooltip and the tables)
    legend = {names[key]: short[key.removeprefix("month_")] for key in names if key.removeprefix("month_") in short}
    return {**names, "short": legend}


def _flows_view(data: dict | None) -> dict | None:
    """The flows block (流转核对): the identity written out with the numbers, and whether its sides agree."""
    if data is None:
        return None
    flows = data["case_flows"]
    return {"identity": flow_identity(flows), "balanced": flows_balance(flows), "note": flow_note()}


def _render_dashboard(actor: Actor, data: dict | None, errors: dict[str, list[str]], status: int):
    values = _filter_values(actor, data, errors)
    return render_template(
        "reporting/dashboard.html",
        data=data,
        charts=chart_data(data) if data else None,
        errors=errors,
        values=values,
        basis_links=_basis_links(values),
        regions=service.region_choices(actor),
        national=actor.sees_everything,
        definitions=definitions(),
        basis_title=basis_title(values["basis"]),
        basis_note=basis_note(values["basis"]),
        null_rate_note=null_rate_note(),
        titles=column_titles(None),
        month_titles=column_titles("month"),
        flow_titles=flow_titles(),
        flow_figures=FLOW_FIGURES,
        flows_check=_flows_view(data),
        section_titles=section_titles(),
        section_figures=SECTION_FIGURES,
        case_link="cases.case_detail" in current_app.view_functions,
        escalations_link="transfers.escalations" in current_app.view_functions,
    ), status


@bp.get("")
def dashboard():
    """统计看板 for the user's region (or a region inside it), over a period; a bad filter re-shows the form with
    its message beside the field."""
    actor = _require("see_dashboard")
    data, errors, status = _dashboard_data(actor)
    return _render_dashboard(actor, data, errors, status)


@bp.get("/download.xlsx")
def dashboard_download_xlsx():
    """The dashboard's figures as a workbook (one sheet per table, and the definitions); a bad filter shows the
    dashboard's form with its message, as the dashboard does."""
    actor = _require("see_dashboard")
    data, errors, status = _dashboard_data(actor)
    if data is None:
        return _render_dashboard(actor, data, errors, status)
    return dashboard_download(data)


# --- subscriptions -------------------------------------------------------------------------------------


class SubscriptionForm(FlaskForm):
    organization_id = SelectField(_l("综治中心"), coerce=int, validators=[DataRequired()])
    region_code = SelectField(_l("统计地区"), validators=[DataRequired()])
    frequency = SelectField(
        _l("频率"), choices=[(f, _l(label)) for f, label in FREQUENCY_LABELS.items()], validators=[DataRequired()]
    )
    # a governance centre answers for its territory: 属地 unless it asks for 承办 (subscriptions.subscription_basis)
    basis = SelectField(
        _l("统计口径"), choices=[(b, _l(title)) for b, title in BASIS_TITLES.items()], default="occurred"
    )
    endpoint_url = StringField(_l("接收地址（https://…）"), validators=[DataRequired(), Length(max=500)])
    secret = StringField(_l("签名密钥（留空自动生成）"), validators=[Optional(), Length(max=200)])


def _subscription_form(actor: Actor, formdata=None) -> SubscriptionForm:
    form = SubscriptionForm(formdata=formdata)
    centres = db.session.scalars(
        organizations_visible_to(actor)
        .where(Organization.kind == OrgKind.governance_centre)
        .order_by(Organization.region_code, Organization.name)
    ).all()
    form.organization_id.choices = [(o.id, o.name) for o in centres]
    form.region_code.choices = [(r.code, r.full_name) for r in service.region_choices(actor)]
    return form


def _render_subscriptions(actor: Actor, form: SubscriptionForm, status: int = 200):
    subs = db.session.scalars(subscriptions.subscriptions_visible_to(actor).order_by(ReportSubscription.id)).all()
    deliveries = db.session.scalars(
        subscriptions.deliveries_visible_to(actor).order_by(ReportDelivery.id.desc()).limit(100)
    ).all()
    return render_template(
        "reporting/subscriptions.html",
        subscriptions=subs,
        deliveries=deliveries,
        form=form,
        frequency_labels={f: _(label) for f, label in FREQUENCY_LABELS.items()},
        basis_name=basis_name,
        shown_error=shown_delivery_error,
    ), status


@bp.get("/subscriptions")
def subscription_list():
    """Governance centres' report subscriptions, and every delivery with its attempts."""
    actor = _require("manage_subscriptions")
    return _render_subscriptions(actor, _subscription_form(actor))


@bp.post("/subscriptions")
def create_subscription():
    actor = _require("manage_subscriptions")
    form = _subscription_form(actor, request.form)
    if not form.validate_on_submit():
        return _render_subscriptions(actor, form, 422)
    fields = ("organization_id", "region_code", "frequency", "basis", "endpoint_url", "secret")
    data = {k: form.data[k] for k in fields}
    try:
        _sub, secret = subscriptions.create_subscription(actor, data)
    except ValidationFailed as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            getattr(form, field, form.endpoint_url).errors = list(messages)
        return _render_subscriptions(actor, form, 422)
    flash(_("订阅已创建。签名密钥只显示这一次，请交给综治中心保存：%(secret)s", secret=secret), "warning")
    return redirect(url_for("reporting.subscription_list"))


@bp.post("/deliveries/<int:delivery_id>/redeliver")
def redeliver(delivery_id: int):
    """重新投递 a failed delivery."""
    actor = _require("redeliver")  # the CSRF token is checked app-wide (CSRFProtect) before this runs
    subscriptions.redeliver(actor, delivery_id)
    flash(_("已重新加入投递队列"))
    return redirect(url_for("reporting.subscription_list"))
