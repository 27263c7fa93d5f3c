"""A coordinator opens the dashboard: the figures match the API and the ECharts charts are drawn."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from tests.factories import PASSWORD
from tests.factories_reporting import d

CHARTS = ("chart-category", "chart-month", "chart-region", "chart-flows", "chart-studio")
QUERY = "region_code=130000&from=2026-03-01&to=2026-03-31&as_of=2026-03-31"


@pytest.mark.browser
def test_coordinator_sees_the_api_figures_and_rendered_charts(
    page, sign_in, make_org, make_user, make_case_history, api_as
):
    tag = uuid.uuid4().hex[:8]
    committee = make_org(name=f"容城测试调委会{tag}", region_code="130629")
    other = make_org(name=f"竞秀测试调委会{tag}", region_code="130602")
    # 3 registered in Hebei in March; concluded: 2 agreements, 1 no agreement -> success 2/3 = 66.7 %
    make_case_history(committee, registered=d(3, 2), accepted=d(3, 3), concluded=d(3, 10), outcome="agreement")
    make_case_history(
        committee, registered=d(3, 4), accepted=d(3, 5), concluded=d(3, 12), outcome="agreement", category="forest_land"
    )
    make_case_history(other, registered=d(3, 6), accepted=d(3, 7), concluded=d(3, 20), outcome="no_agreement")
    coordinator = make_user(role=Role.coordinator, region_code="130000", username=f"coord-dash-{tag}")
    username = coordinator.username
    db.session.commit()
    api_totals = api_as(coordinator).get(f"/api/v1/reports/rates?{QUERY}").json["totals"]
    db.session.remove()  # hold no SQLite read lock while the live server works
    assert (api_totals["agreement"], api_totals["concluded"]) == (2, 3)

    sign_in(username, PASSWORD)
    page.get_by_role("link", name="统计看板").first.click()
    expect(page.get_by_role("heading", name="统计看板 · 河北省")).to_be_visible()
    page.fill("#from", "2026-03-01")
    page.fill("#to", "2026-03-31")
    page.fill("#as_of", "2026-03-31")
    page.get_by_role("button", name="查看").click()
    page.wait_for_load_state("networkidle")

    success = page.locator("#kpi-success_rate")
    assert success.locator(".value").inner_text() == f"{api_totals['success_rate'] * 100:.1f}%" == "66.7%"
    assert success.locator(".numerator").inner_text() == str(api_totals["agreement"])
    assert success.locator(".denominator").inner_text() == str(api_totals["concluded"])
    assert page.locator("#kpi-received .value").inner_text() == str(api_totals["received"]) == "3"
    assert page.locator("#table-category tbody tr").count() == 2  # 邻里 and 山林土地

    for chart in CHARTS:
        canvas = page.locator(f"#{chart} canvas").first
        canvas.wait_for(state="attached")
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, chart

    with page.expect_download() as download:
        page.get_by_role("link", name="下载 Excel (xlsx)").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the charts follow the width
    page.wait_for_timeout(300)
    box = page.locator("#chart-month canvas").first.bounding_box()
    assert 0 < box["width"] <= 390


@pytest.mark.browser
def test_chart_tooltips_show_under_the_strict_style_policy(page, sign_in, make_org, make_user, make_case_history):
    """Hovering every chart shows its tooltip with no Content-Security-Policy violation: ECharts draws tooltips
    itself (no HTML with inline styles), so style-src stays 'self' (the page fixture fails on any violation)."""
    tag = uuid.uuid4().hex[:8]
    committee = make_org(name=f"容城提示调委会{tag}", region_code="130629")
    make_case_history(committee, registered=d(3, 2), accepted=d(3, 3), concluded=d(3, 10), outcome="agreement")
    make_case_history(committee, registered=d(3, 4), accepted=d(3, 5), concluded=d(3, 12), outcome="no_agreement")
    coordinator = make_user(role=Role.coordinator, region_code="130000", username=f"coord-tip-{tag}")
    db.session.commit()
    username = coordinator.username
    db.session.remove()

    sign_in(username, PASSWORD)
    page.goto(f"/reporting?{QUERY}")
    page.wait_for_load_state("networkidle")
    shown = page.evaluate(
        """(ids) => {
        window.__tips = {};
        for (const id of ids) {
            const chart = window.echarts.getInstanceByDom(document.getElementById(id));
            chart.on("showTip", () => { window.__tips[id] = true; });
        }
        return true;
    }""",
        list(CHARTS),
    )
    assert shown
    for chart in CHARTS:
        page.locator(f"#{chart}").scroll_into_view_if_needed()
        box = page.locator(f"#{chart} canvas").first.bounding_box()
        for step in range(1, 10):  # sweep across the plot, as a person moving the mouse over it
            page.mouse.move(box["x"] + box["width"] * step / 10, box["y"] + box["height"] * 0.6)
            page.wait_for_timeout(30)
    page.wait_for_timeout(200)
    # every chart with figures showed its tooltip (no transfers and no studio here: those two are empty)
    assert set(page.evaluate("() => Object.keys(window.__tips)")) >= {"chart-category", "chart-month", "chart-region"}


@pytest.mark.browser
def test_switching_between_place_and_handler_changes_the_figures(page, sign_in, make_org, make_user, make_case_history):
    """An administrator reads Hebei's 登记数 on 承办, clicks 属地 and sees the place's figure, then clicks back.

    March 2026: bd 竞秀区 (130602) handles A (arose in 北京东城 110101, concluded 03-20 with an agreement), B (arose in
    竞秀区) and H (arose in 北京朝阳 110105); bj 朝阳 (110105) handles D, which arose in 竞秀区.
    承办 河北: registered A B H = 3, concluded A: success 1/1 = 100.0 %.
    属地 河北: registered B D = 2, nothing concluded: success "—"."""
    tag = uuid.uuid4().hex[:8]
    bd = make_org(name=f"竞秀口径调委会{tag}", region_code="130602")
    bj = make_org(name=f"朝阳口径调委会{tag}", region_code="110105")
    make_case_history(
        bd, registered=d(3, 2), accepted=d(3, 3), concluded=d(3, 20), outcome="agreement", occurred="110101"
    )
    make_case_history(bd, registered=d(3, 5), accepted=d(3, 6))
    make_case_history(bj, registered=d(3, 6), accepted=d(3, 7), occurred="130602")
    make_case_history(bd, registered=d(3, 12), accepted=d(3, 13), occurred="110105")
    admin = make_user(role=Role.admin, username=f"admin-basis-{tag}").username
    db.session.commit()
    db.session.remove()

    sign_in(admin, PASSWORD)
    page.goto(f"/reporting?{QUERY}")
    received, success = page.locator("#kpi-received .value"), page.locator("#kpi-success_rate .value")
    expect(page.locator("#basis-title")).to_have_text("承办口径：按承办组织统计")
    expect(received).to_have_text("3")
    expect(success).to_have_text("100.0%")
    expect(page.locator("#table-studio")).to_be_visible()

    switch = page.get_by_role("navigation", name="统计口径")
    switch.get_by_role("link", name="属地", exact=True).click()
    expect(page.locator("#basis-title")).to_have_text("属地口径：按纠纷发生地统计")
    expect(received).to_have_text("2")
    expect(success).to_have_text("—")
    expect(switch.get_by_role("link", name="属地", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator("#studios-hidden")).to_be_visible()
    expect(page.locator("#table-studio")).to_have_count(0)
    # the period and as-of date stayed as they were
    expect(page.locator("#from")).to_have_value("2026-03-01")
    expect(page.locator("#as_of")).to_have_value("2026-03-31")
    # 查看 keeps the basis shown
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#basis-title")).to_have_text("属地口径：按纠纷发生地统计")
    expect(received).to_have_text("2")

    # a definition opens from the keyboard: Tab to the ⓘ of 按原期限办结率, Enter
    summary = page.locator("#kpi-on_time_original_rate details.rate-info > summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#kpi-on_time_original_rate .rate-def-name")).to_contain_text("按原期限办结数 ÷ 办结数")

    switch.get_by_role("link", name="承办", exact=True).click()
    expect(page.locator("#basis-title")).to_have_text("承办口径：按承办组织统计")
    expect(received).to_have_text("3")
    expect(success).to_have_text("100.0%")
