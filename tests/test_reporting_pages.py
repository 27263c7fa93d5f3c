"""The dashboard page and its xlsx show the hand-counted figures; the subscriptions page redelivers."""

from __future__ import annotations

import io
import json
import re

import sqlalchemy as sa
from openpyxl import load_workbook

from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind
from mediation_hub.reporting import subscriptions
from mediation_hub.reporting.models import DeliveryStatus, ReportDelivery

HEBEI = "region_code=130000&from=2026-03-01&to=2026-03-31&as_of=2026-03-31"


def _kpi(html: str, name: str) -> tuple[str, str, str]:
    block = re.search(
        rf'id="kpi-{name}".*?class="value"[^>]*>([^<]*)<.*?class="numerator">(\d+)<.*?'
        r'class="denominator">(\d+)<',
        html,
        re.S,
    )
    return block.group(1), block.group(2), block.group(3)


def test_dashboard_shows_the_same_figures_as_the_api(reporting_cases, make_user, signed_in, api_as):
    coordinator = make_user(role=Role.coordinator, region_code="130000")
    api_totals = api_as(coordinator).get(f"/api/v1/reports/rates?{HEBEI}").json["totals"]
    page = signed_in(coordinator).get(f"/reporting?{HEBEI}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # success 4/6 = 66.7 %, completion 7/9 = 77.8 %, on time 4/6 (see test_reporting_rates)
    assert _kpi(html, "success_rate") == ("66.7%", "4", "6")
    assert _kpi(html, "completion_rate") == ("77.8%", str(api_totals["completed"]), str(api_totals["received"]))
    assert _kpi(html, "on_time_rate") == ("66.7%", "4", "6")
    charts = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', html, re.S).group(1))
    assert charts["category"]["labels"] == ["邻里", "合同", "山林土地", "劳动争议"]
    assert charts["category"]["received"] == [5, 1, 2, 1]
    assert charts["studio"]["labels"] == ["统计测试工作室"] and charts["studio"]["success_rate"] == [50.0]
    # expired transfers leave the overdue table once the expiry job ran: the section leads on to the escalations
    assert re.search(r'id="overdue".*href="/transfers/escalations">超期升级列表</a>', html, re.S)
    assert 'id="chart-month"' in html and "2026年3月" in html
    assert "雄安新区" in html  # offered in the region picker for Hebei
    assert "<script>" not in html  # only the JSON block and external files: no inline script


def test_dashboard_zero_denominators_show_a_dash(reporting_cases, make_user, signed_in):
    tianjin = make_user(role=Role.coordinator, region_code="120000")
    html = signed_in(tianjin).get("/reporting?from=2026-03-01&to=2026-03-31&as_of=2026-03-31").get_data(True)
    assert _kpi(html, "success_rate") == ("—", "0", "0")


def test_admin_dashboard_covers_the_country_by_province(reporting_cases, make_user, signed_in):
    html = signed_in(make_user(role=Role.admin)).get("/reporting?from=2026-03-01&to=2026-03-31&as_of=2026-03-31")
    html = html.get_data(as_text=True)
    assert '<option value="" selected>全国</option>' in html
    # the whole country: 9 received in Hebei + 1 in Beijing = 10
    assert re.search(r'id="kpi-received".*?class="value">10<', html, re.S)
    assert re.search(r'<tr data-key="130000">\s*<td>河北省</td><td class="num">9</td>', html)


def test_dashboard_is_for_officials_only(reporting_cases, make_user, signed_in):
    mediator = make_user(role=Role.mediator, organization=reporting_cases["bd"])
    assert signed_in(mediator).get("/reporting").status_code == 403


def test_dashboard_region_outside_scope_is_404(reporting_cases, make_user, signed_in):
    coordinator = make_user(role=Role.coordinator, region_code="130000")
    assert signed_in(coordinator).get("/reporting?region_code=110000").status_code == 404


def test_dashboard_xlsx_has_the_same_figures(reporting_cases, make_user, signed_in):
    coordinator = make_user(role=Role.coordinator, region_code="130000")
    response = signed_in(coordinator).get(f"/reporting/download.xlsx?{HEBEI}")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "合计",
        "流转核对",
        "按纠纷类别",
        "月度趋势",
        "下级地区",
        "调解工作室",
        "跨区域流转",
        "法律援助",
        "超期案件",
        "说明",
    ]
    header, total = list(workbook["合计"].iter_rows(values_only=True))
    total = dict(zip(header, total, strict=True))
    assert (total["登记数"], total["办结数"], total["调解成功率"]) == (9, 6, 4 / 6)
    overdue = list(workbook["超期案件"].iter_rows(values_only=True))
    assert [row[4] for row in overdue[1:]] == [11]  # case 9 in 雄县, due 03-20, on 03-31


def test_subscriptions_page_lists_and_redelivers(make_org, make_user, signed_in):
    centre = make_org(kind=OrgKind.governance_centre, region_code="130629")
    _sub, _ = subscriptions.create_subscription(
        SYSTEM,
        {
            "organization_id": centre.id,
            "region_code": "130629",
            "frequency": "monthly",
            "endpoint_url": "http://127.0.0.1:9/r",
        },
    )
    from datetime import UTC, datetime

    subscriptions.freeze_due(datetime(2026, 4, 1, 8, tzinfo=UTC))
    delivery = db.session.scalar(sa.select(ReportDelivery))
    delivery.status, delivery.next_attempt_at, delivery.attempts = DeliveryStatus.failed, None, 8
    db.session.flush()
    client = signed_in(make_user(role=Role.coordinator, region_code="130600"))
    html = client.get("/reporting/subscriptions").get_data(as_text=True)
    assert centre.name in html and "重新投递" in html and "投递失败" in html
    response = client.post(f"/reporting/deliveries/{delivery.id}/redeliver")
    assert response.status_code == 302
    db.session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.pending, 0)


def test_a_delivered_report_shows_no_next_attempt(make_org, make_user, signed_in):
    from datetime import UTC, datetime

    centre = make_org(kind=OrgKind.governance_centre, region_code="130629")
    subscriptions.create_subscription(
        SYSTEM,
        {
            "organization_id": centre.id,
            "region_code": "130629",
            "frequency": "monthly",
            "endpoint_url": "http://127.0.0.1:9/r",
        },
    )
    subscriptions.freeze_due(datetime(2026, 4, 1, 8, tzinfo=UTC))
    delivery = db.session.scalar(sa.select(ReportDelivery))
    delivery.status, delivery.delivered_at, delivery.attempts = DeliveryStatus.delivered, delivery.next_attempt_at, 1
    db.session.flush()
    assert delivery.next_attempt_at is not None  # kept from the last attempt; not a time anything will happen
    html = (
        signed_in(make_user(role=Role.coordinator, region_code="130600"))
        .get("/reporting/subscriptions")
        .get_data(as_text=True)
    )
    assert re.search(rf'id="delivery-{delivery.id}".*?<td class="next-attempt">—</td>', html, re.S)


def test_subscription_form_creates_and_shows_the_secret_once(make_org, make_user, signed_in):
    centre = make_org(kind=OrgKind.governance_centre, region_code="130629")
    client = signed_in(make_user(role=Role.coordinator, region_code="130000"))
    response = client.post(
        "/reporting/subscriptions",
        data={
            "organization_id": centre.id,
            "region_code": "XIONGAN",
            "frequency": "monthly",
            "endpoint_url": "https://zz.example.cn/reports",
            "secret": "",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "whsec_" in response.get_data(as_text=True)
    bad = client.post(
        "/reporting/subscriptions",
        data={
            "organization_id": centre.id,
            "region_code": "XIONGAN",
            "frequency": "monthly",
            "endpoint_url": "ftp://x",
            "secret": "",
        },
    )
    assert bad.status_code == 422 and "http" in bad.get_data(as_text=True)
