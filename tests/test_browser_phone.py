"""Phone first (issue 13 point 4): on a 390×844 phone the lists are cards with the days left first, in words and
in colour, nothing runs off the screen, and the party rows of a case fit; on a desktop the tables stay tables.

The clock is frozen at Monday 2026-12-07 10:00 in Asia/Shanghai (server and factories alike: the live server runs
in this process), so every day count below is worked out by hand. The tests also make the screenshots the README
links (docs/screenshots/): a screenshot there is written only when it is missing or UPDATE_SCREENSHOTS=1 is set,
so a test run never dirties the tree; a copy of every screenshot always goes to test-artifacts/ (gitignored)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from playwright.sync_api import expect

from mediation_hub.cases.models import CaseStatus, Outcome
from mediation_hub.core.actor import Role
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.extensions import db
from mediation_hub.legal_aid.models import ApplicationStatus
from tests.browser import CSP_LISTENER
from tests.browser_steps import screenshot
from tests.factories import PASSWORD
from tests.factories_cases import person

pytestmark = pytest.mark.browser

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)  # a Monday
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# the colours of hub.css (--bad, --warn, --ok): the words say the same, the colour only repeats them
RED, AMBER, GREEN = "rgb(180, 35, 24)", "rgb(180, 83, 9)", "rgb(30, 125, 50)"


def keep_screenshot(page, name: str, screens: int | None = None) -> Path:
    """The screenshot for docs/screenshots/ (written when missing or asked for), and always the whole page to
    test-artifacts/. ``screens``: only the first so many screens of a long page (what a person sees first)."""
    screenshot(page, name)
    path = SCREENSHOTS / f"{name}.png"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not path.exists():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        viewport = page.viewport_size
        clip = {"x": 0, "y": 0, "width": viewport["width"], "height": viewport["height"] * screens} if screens else None
        page.screenshot(path=str(path), full_page=True, clip=clip)
    return path


def assert_fits(page) -> None:
    """Nothing runs off the screen: the document is no wider than the window (no sideways scrolling). Compared
    with the width the test set too, because a mobile browser widens its window to a page that overflows."""
    width = page.viewport_size["width"]
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == width, f"{page.url}: the page is {widths[0]}px wide on a {width}px screen"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def browse(chromium, live_server):
    """``browse(viewport, username)``: a signed-in page in a fresh context (a phone: touch, mobile, 2× pixels),
    guarded like tests/browser.py's ``page``: no request leaves 127.0.0.1, no JS error, no CSP violation."""
    contexts, problems = [], []

    def open_page(viewport: dict, username: str):
        phone = viewport["width"] < 700
        context = chromium.new_context(
            base_url=live_server,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport=viewport,
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=2 if phone else 1,
        )
        contexts.append(context)

        def guard(route):
            url = route.request.url
            if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                problems.append(f"outside request {url}")
                route.abort()

        context.route("**/*", guard)
        context.expose_function("__hubCspViolation", lambda text: problems.append(f"CSP {text}"))
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.on("console", lambda msg: problems.append(f"console {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(f"page error {exc}"))
        page.set_default_timeout(10_000)
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems, problems[:5]


@dataclass
class World:
    mediator: str
    coordinator: str
    officer: str
    late: int  # accepted 2026-03-02: due 2026-04-01, 250 days overdue on 2026-12-07
    waiting: int  # registered 2026-12-05, not accepted yet: no deadline
    due_today: int  # accepted Saturday 2026-11-07: due Monday 2026-12-07
    soon: int  # accepted 2026-11-09: due Wednesday 2026-12-09, 2 days left
    fresh: int  # accepted 2026-12-07: due Wednesday 2027-01-06, 30 days left
    transfer: int  # from 保定 to this committee on 2026-12-07, to be answered by 2026-12-10


@pytest.fixture
def world(
    frozen, make_org, make_user, make_case, make_routed_case, request_transfer_as, make_application, make_officer
):
    """A village-scale day in 朝阳区: one committee with five open cases (overdue, not yet accepted, due today, due
    in 2 days, just accepted) and two concluded ones, a transfer coming in from 保定, a 通办 application waiting in
    保定, and the accounts of a mediator, the Beijing coordinator and a 保定 legal-aid officer. Committed."""
    committee = make_org(name="朝阳区六里屯街道人民调解委员会", region_code="110105")
    mediator = make_user(role=Role.mediator, organization=committee, username="wang-guilan", display_name="王桂兰")
    coordinator = make_user(
        role=Role.coordinator, region_code="110000", username="beijing-coordinator", display_name="北京市司法局 刘协调"
    )

    def open_case(status, received, accepted, applicant, respondent, category, summary):
        parties = [person("applicant", applicant), person("respondent", respondent)]
        return make_case(
            committee,
            status,
            received_on=received,
            accepted_on=accepted,
            parties=parties,
            category=category,
            summary=summary,
        ).id

    ids = {
        "late": open_case(
            CaseStatus.in_mediation,
            date(2026, 3, 2),
            date(2026, 3, 2),
            "张桂芳",
            "李建国",
            "neighbour",
            "楼上漏水导致楼下墙面受损，双方协商未果",
        ),
        "waiting": open_case(
            CaseStatus.registered,
            date(2026, 12, 5),
            None,
            "赵淑兰",
            "北京某物业服务有限公司",
            "property_management",
            "物业费争议，业主认为服务不到位拒交物业费",
        ),
        "due_today": open_case(
            CaseStatus.in_mediation,
            date(2026, 11, 6),
            date(2026, 11, 7),
            "陈秀英",
            "周志强",
            "marriage_family",
            "离婚后子女抚养费支付发生争执",
        ),
        "soon": open_case(
            CaseStatus.in_mediation,
            date(2026, 11, 9),
            date(2026, 11, 9),
            "刘玉梅",
            "孙国华",
            "housing_homestead",
            "院墙翻建占用相邻通道，双方各执一词",
        ),
        "fresh": open_case(
            CaseStatus.accepted,
            date(2026, 12, 7),
            date(2026, 12, 7),
            "杨丽娟",
            "吴海涛",
            "consumer",
            "装修公司延期交付并拒绝退还部分款项",
        ),
    }
    for received, outcome in ((date(2026, 10, 12), Outcome.agreement), (date(2026, 10, 19), Outcome.no_agreement)):
        make_case(committee, CaseStatus.concluded, received_on=received, outcome=outcome)

    baoding = make_org(name="保定市竞秀区人民调解委员会", region_code="130602")
    sender = make_user(role=Role.mediator, organization=baoding)
    routed = make_routed_case(
        baoding, applicant="130602", respondent="110105", category="contract", received_on=date(2026, 11, 30)
    )
    transfer = request_transfer_as(sender, routed, committee, note="被申请人常住北京朝阳区，请求协助调解")

    _application, _tianjin, baoding_centre = make_application(ApplicationStatus.transferred)
    officer = make_officer(baoding_centre, username="baoding-legal-aid")
    built = World(
        mediator=mediator.username,
        coordinator=coordinator.username,
        officer=officer.username,
        transfer=transfer.id,
        **ids,
    )
    db.session.commit()  # read nothing afterwards: an open read would hold SQLite's lock against the server
    db.session.remove()
    return built


# --- the worklist ---------------------------------------------------------------------------------------------


def test_phone_worklist_shows_the_days_left_first_in_words_and_colour(world, browse):
    page = browse(PHONE, world.mediator)
    page.goto("/cases/worklist")
    assert_fits(page)
    ids = page.locator("table.worklist tbody tr").evaluate_all("rows => rows.map(r => Number(r.dataset.caseId))")
    assert ids == [world.late, world.waiting, world.due_today, world.soon, world.fresh]  # nearest deadline first
    assert page.locator("table.worklist thead").bounding_box()["height"] <= 1  # column names moved into the cards

    expected = {  # (what the card says first, its colour)
        world.late: ("超期 250 天", RED),  # 2026-04-01 → 2026-12-07
        world.due_today: ("今天到期", AMBER),
        world.soon: ("剩余 2 天 · 即将到期", AMBER),  # 2026-12-09
        world.fresh: ("剩余 30 天", GREEN),  # 2027-01-06: 24 days of December + 6 of January
    }
    for case_id, (words, colour) in expected.items():
        card = page.locator(f"tr[data-case-id='{case_id}']")
        chip = card.locator(".days-left")
        assert chip.inner_text() == words
        assert chip.evaluate("el => getComputedStyle(el).color") == colour
        chip_box, card_box = chip.bounding_box(), card.bounding_box()
        assert card_box["x"] >= 0 and card_box["x"] + card_box["width"] <= PHONE["width"]
        assert card_box["x"] <= chip_box["x"] and chip_box["x"] + chip_box["width"] <= card_box["x"] + card_box["width"]
        number = card.locator(".case-no")
        assert chip_box["y"] < number.bounding_box()["y"]  # the days left come first
        line = float(number.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
        assert number.bounding_box()["height"] < 1.5 * line  # the case number stays on one line
    late = page.locator(f"tr[data-case-id='{world.late}']")
    assert "2026-04-01" in late.inner_text() and "已超期" in late.inner_text()
    assert "待受理" in page.locator(f"tr[data-case-id='{world.waiting}']").inner_text()
    assert "2027-01-06" in page.locator(f"tr[data-case-id='{world.fresh}']").inner_text()
    keep_screenshot(page, "worklist-phone")


def test_desktop_worklist_stays_a_table(world, browse):
    page = browse(DESKTOP, world.mediator)
    page.goto("/cases/worklist")
    assert_fits(page)
    headers = page.locator("table.worklist thead th").all_inner_texts()
    assert headers == ["案件编号", "状态", "类别", "当事人", "受理日期", "办理期限", "剩余天数"]
    row = page.locator(f"tr[data-case-id='{world.soon}']")
    assert row.evaluate("el => getComputedStyle(el).display") == "table-row"
    assert [cell.strip() for cell in row.locator("td").all_inner_texts()][4:] == [
        "2026-11-09",
        "2026-12-09",
        "剩余 2 天 · 即将到期",
    ]


# --- the case page and the coordinator's dashboard --------------------------------------------------------------


def test_phone_case_page_keeps_the_parties_on_the_screen(world, browse):
    page = browse(PHONE, world.mediator)
    page.goto(f"/cases/{world.soon}")
    page.wait_for_selector("table.parties")
    assert_fits(page)
    assert page.inner_text("dd.due-on").startswith("2026-12-09")
    rows = page.locator("table.parties tbody tr")
    assert rows.count() == 2
    for index in range(2):
        box = rows.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert ("刘玉梅" if index == 0 else "孙国华") in rows.nth(index).inner_text()
        phone_cell = rows.nth(index).locator("td.phone")
        assert "****" in phone_cell.inner_text()  # masked
        # each value shown with its name, the column header being hidden on a phone
        assert phone_cell.evaluate("el => getComputedStyle(el, '::before').content") == '"联系电话"'
    keep_screenshot(page, "case-page-phone")


def test_phone_dashboard_fits_the_screen(world, browse):
    page = browse(PHONE, world.coordinator)
    page.goto("/reporting?region_code=110000&from=2026-10-01&to=2026-12-07&as_of=2026-12-07")
    page.locator("#chart-category canvas").first.wait_for(state="attached")
    page.wait_for_timeout(500)  # the charts' entry animation
    assert_fits(page)
    # registered from 2026-10-01: 4 of the open cases (not the one of March) and the 2 concluded ones; of those
    # 2 concluded, 1 with an agreement
    assert page.locator("#kpi-received .value").inner_text() == "6"
    assert page.locator("#kpi-success_rate .value").inner_text() == "50.0%"
    box = page.locator("#kpi-success_rate").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    for field in ("from", "to", "as_of"):  # dates typed and shown as 2026-12-07, not in the browser's locale
        date_input = page.locator(f"input#{field}")
        assert date_input.get_attribute("type") == "text"
        assert date_input.get_attribute("placeholder") == "2026-12-07"
    assert page.input_value("input#to") == "2026-12-07"
    keep_screenshot(page, "dashboard-phone", screens=2)  # the figures and the first chart


# --- every list on a phone ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "url", "table"),
    [
        ("mediator", "/cases/worklist", "table.worklist"),
        ("mediator", "/cases", "table.case-list"),
        ("mediator", "/transfers/", "table.transfers-incoming"),
        ("mediator", "/notifications/", None),
        ("officer", "/legal-aid/applications", "table.la-queue"),
    ],
)
def test_every_list_fits_a_phone(world, browse, who, url, table):
    page = browse(PHONE, getattr(world, who))
    page.goto(url)
    assert_fits(page)
    if table:
        rows = page.locator(f"{table} tbody tr")
        assert rows.count() >= 1
        assert rows.first.evaluate("el => getComputedStyle(el).display") == "flex"  # a card, not a table row
        for index in range(rows.count()):
            box = rows.nth(index).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (url, index)


def test_phone_transfer_queue_says_how_long_is_left_to_answer(world, browse):
    page = browse(PHONE, world.mediator)
    page.goto("/transfers/")
    card = page.locator(f"tr[data-transfer-id='{world.transfer}']")
    # requested Monday 2026-12-07, answered within 3 working days: Thursday 2026-12-10
    assert "2026-12-10" in card.inner_text()
    assert card.locator(".days-left").inner_text() == "剩余 3 天 · 即将到期"
    expect(card.locator(".days-left")).to_be_visible()


def test_case_list_cards_show_the_days_left_only_on_a_phone(world, browse):
    phone = browse(PHONE, world.mediator)
    phone.goto("/cases")
    assert phone.locator(f"tr[data-case-id='{world.soon}'] .days-left").inner_text() == "剩余 2 天 · 即将到期"
    desktop = browse(DESKTOP, world.mediator)
    desktop.goto("/cases")
    assert desktop.locator(f"tr[data-case-id='{world.soon}'] .days-left").is_hidden()
    expect(desktop.locator("table.case-list thead")).to_be_visible()
