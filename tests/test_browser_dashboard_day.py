"""Issue 13 point 7 in the browser, on a desktop and on a phone (390×844, touch): the coordinator taps a rate's ⓘ
and reads its definition; the charts' legends and axis labels don't overlap; a bad filter is shown on the form."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from mediation_hub.core.actor import Role
from mediation_hub.extensions import db
from tests.browser import CSP_LISTENER
from tests.browser_steps import screenshot
from tests.factories import PASSWORD
from tests.factories_reporting import d

CHARTS = ("chart-category", "chart-month", "chart-region", "chart-flows", "chart-studio")
QUERY = "region_code=130000&from=2026-01-01&to=2026-03-31&as_of=2026-03-31"
SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
# Nine categories (long names among them) and a studio with a long name: a crowded axis on a phone.
CATEGORIES = (
    "neighbour",
    "marriage_family",
    "contract",
    "labour",
    "forest_land",
    "housing_homestead",
    "traffic",
    "land_expropriation",
    "property_management",
)


@pytest.fixture(params=list(SCREENS))
def screen(request, chromium, live_server):
    """(name, page): a fresh browser context as a desktop or as a phone with touch, guarded as tests/browser.py's
    ``page`` is (nothing from outside the hub, no JavaScript error, no Content-Security-Policy violation)."""
    context = chromium.new_context(base_url=live_server, locale="zh-CN", **SCREENS[request.param])
    outside, errors, violations = [], [], []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.expose_function("__hubCspViolation", lambda text: violations.append(text))
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()

    def console(msg):
        # the dashboard answers a bad filter with its form and a 422, as every refused form of the hub; Chromium
        # reports that status as a console error, which is expected here and only here
        refused_filter = "status of 422" in msg.text and urlsplit(msg.location.get("url", "")).path == "/reporting"
        if msg.type == "error" and not refused_filter:
            errors.append(msg.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(10_000)
    yield request.param, page
    context.close()
    assert not outside, f"the page tried to load from outside the hub: {outside}"
    assert not errors, f"JavaScript errors on the page: {errors[:3]}"
    assert not violations, f"Content-Security-Policy violations: {violations[:5]}"


@pytest.fixture
def coordinator(make_org, make_studio, make_user, make_case_history):
    """A Hebei coordinator's username, with cases in nine categories and a studio; committed."""
    tag = uuid.uuid4().hex[:8]
    committee = make_org(name=f"竞秀看板调委会{tag}", region_code="130602")
    studio = make_studio(organization=committee, name=f"王大姐婚姻家庭纠纷调解工作室（竞秀区）{tag}")
    for index, category in enumerate(CATEGORIES):
        make_case_history(
            committee,
            registered=d(2 + index % 2, 2 + index),
            accepted=d(2 + index % 2, 3 + index),
            concluded=d(3, 15 + index),
            outcome="agreement" if index % 3 else "no_agreement",
            category=category,
            studio=studio if index < 4 else None,
        )
    user = make_user(role=Role.coordinator, region_code="130000", username=f"coord-day-{tag}")
    username = user.username
    db.session.commit()
    db.session.remove()  # hold no SQLite read lock while the live server works
    return username


def _sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _press(name: str, locator) -> None:
    """A tap on the phone (touch events, no hover), a click on the desktop."""
    if name == "phone":
        locator.tap()
    else:
        locator.click()


# Each chart's legend, axes and plot as ECharts lays them out: the bounding boxes of the component views on the
# canvas (the boxes include the axis labels and names; the legend's includes its scroll buttons).
LAYOUT = """(ids) => ids.map((id) => {
    const chart = window.echarts.getInstanceByDom(document.getElementById(id));
    const boxes = (type) => chart.getModel().findComponents({mainType: type}).map((component) => {
        const group = chart.getViewOfComponentModel(component).group;
        const rect = group.getBoundingRect().clone();
        if (group.transform) { rect.applyTransform(group.transform); }
        return {x: rect.x, y: rect.y, width: rect.width, height: rect.height};
    }).filter((box) => box.width > 0 && box.height > 0);
    return {id, width: chart.getWidth(), height: chart.getHeight(), legend: boxes("legend"),
            axes: boxes("xAxis").concat(boxes("yAxis"))};
})"""


def _intersect(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"] - 0.5
        and b["x"] < a["x"] + a["width"] - 0.5
        and a["y"] < b["y"] + b["height"] - 0.5
        and b["y"] < a["y"] + a["height"] - 0.5
    )


def _inside(box: dict, width: float, height: float) -> bool:
    return (
        box["x"] >= -1
        and box["y"] >= -1
        and box["x"] + box["width"] <= width + 1
        and box["y"] + box["height"] <= height + 1
    )


@pytest.mark.browser
def test_coordinator_taps_a_rate_and_reads_its_definition(screen, coordinator):
    name, page = screen
    _sign_in(page, coordinator)
    page.goto(f"/reporting?{QUERY}")
    page.wait_for_load_state("networkidle")
    width = page.viewport_size["width"]

    success = page.locator("#kpi-success_rate")
    definition = success.locator(".rate-def")
    expect(definition).to_be_hidden()  # closed until asked for
    _press(name, success.locator("details.rate-info > summary"))
    definition.wait_for(state="visible")
    text = definition.inner_text()
    assert "调解成功率 = 达成协议数 ÷ 办结数" in text
    assert "分子：本期办结的案件中，双方达成调解协议的件数" in text and "分母：本期办结的全部案件数" in text
    box = definition.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1  # readable without scrolling sideways

    # another rate's ⓘ: its definition opens and the first one closes (one at a time, room on a phone)
    completion = page.locator("#kpi-completion_rate")
    _press(name, completion.locator("details.rate-info > summary"))
    completion.locator(".rate-def").wait_for(state="visible")
    assert "到统计截止日已经办结或决定不予受理" in completion.locator(".rate-def").inner_text()
    expect(definition).to_be_hidden()

    # the same definition beside the month table's completion column, whose header says it is by registration month
    month_head = page.locator("#table-month thead")
    assert "按登记月份" in month_head.inner_text() and "本月发生" in month_head.inner_text()
    cohort = month_head.locator("th", has_text="调处办结率（按登记月份）")
    cohort.locator("summary").scroll_into_view_if_needed()
    _press(name, cohort.locator("summary"))
    cohort_definition = cohort.locator(".rate-def")
    assert "分母：本期登记的案件数" in cohort_definition.inner_text()
    if name == "phone":  # a sheet at the bottom of the screen, whole, whatever column its ⓘ is in
        box = cohort_definition.bounding_box()
        height = page.viewport_size["height"]
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1 and box["y"] + box["height"] <= height + 1
    _press(name, cohort.get_by_role("button", name="关闭"))
    expect(cohort_definition).to_be_hidden()
    screenshot(page, f"dashboard-definitions-{name}")  # test-artifacts/, for a person to look at


@pytest.mark.browser
def test_chart_legends_and_labels_do_not_overlap(screen, coordinator):
    name, page = screen
    _sign_in(page, coordinator)
    page.goto(f"/reporting?{QUERY}")
    page.wait_for_load_state("networkidle")
    for chart in CHARTS:
        page.locator(f"#{chart} canvas").first.wait_for(state="attached")
    layouts = page.evaluate(LAYOUT, list(CHARTS))
    for layout in layouts:
        chart = layout["id"]
        assert 0 < layout["width"] <= page.viewport_size["width"], chart
        assert len(layout["legend"]) == 1 and layout["axes"], chart
        legend = layout["legend"][0]
        assert _inside(legend, layout["width"], layout["height"]), (chart, legend)
        for axis in layout["axes"]:
            assert _inside(axis, layout["width"], layout["height"]), (chart, axis)
            assert not _intersect(legend, axis), (chart, legend, axis)
    option = page.evaluate(
        "() => window.echarts.getInstanceByDom(document.getElementById('chart-category')).getOption()"
    )
    assert option["legend"][0]["type"] == "scroll" and option["legend"][0]["bottom"] == 0
    label = option["xAxis"][0]["axisLabel"]
    assert label["overflow"] == "truncate"
    if name == "phone":  # nine categories on 390 px: turned and cut to a width, the full name in the table
        assert label["rotate"] == 45 and label["width"] == 64


@pytest.mark.browser
@pytest.mark.parametrize("screen", ["phone"], indirect=True)
def test_phone_turned_to_desktop_width_redraws_the_charts(screen, coordinator):
    _name, page = screen
    _sign_in(page, coordinator)
    page.goto(f"/reporting?{QUERY}")
    page.wait_for_load_state("networkidle")
    rotate = (
        "() => window.echarts.getInstanceByDom(document.getElementById('chart-category')).getOption()"
        ".xAxis[0].axisLabel.rotate"
    )
    assert page.evaluate(rotate) == 45
    page.set_viewport_size({"width": 1100, "height": 800})
    page.wait_for_function(f"() => ({rotate})() === 30")


@pytest.mark.browser
def test_a_bad_filter_is_shown_beside_its_field(screen, coordinator):
    name, page = screen
    _sign_in(page, coordinator)
    page.goto(f"/reporting?{QUERY}")
    page.fill("#from", "2026-03-31")
    page.fill("#to", "2026-03-01")
    with page.expect_navigation():
        _press(name, page.get_by_role("button", name="查看"))
    page.wait_for_load_state("networkidle")
    error = page.locator("#to-errors")
    expect(error).to_be_visible()
    assert "结束日期 2026-03-01 早于开始日期 2026-03-31" in error.inner_text()
    assert page.locator("#to").get_attribute("aria-invalid") == "true"
    assert page.input_value("#from") == "2026-03-31"
    # corrected, the figures come back
    page.fill("#to", "2026-03-31")
    with page.expect_navigation():
        _press(name, page.get_by_role("button", name="查看"))
    page.wait_for_load_state("networkidle")
    expect(page.locator("#kpi-success_rate")).to_be_visible()
    assert page.locator("#to-errors").count() == 0
