"""What a registry administrator does in the browser: sign in, register an organisation (choosing its
region in the picker), a mediator and a studio for it, find them in the lists and filter by region; on a
phone too. No page may load anything from outside the hub (the ``page`` fixture fails the test if so)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

from mediation_hub.auth.service import create_user
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.extensions import db
from mediation_hub.registry import service
from mediation_hub.registry.models import OrgKind
from tests.browser_steps import wait_for_region_pickers
from tests.factories import valid_id_number

pytestmark = pytest.mark.browser
PASSWORD = "browser-pass-2026"


def committed_registrar(region_code: str | None = None) -> str:
    username = f"reg-{uuid.uuid4().hex[:8]}"
    create_user(SYSTEM, username=username, password=PASSWORD, role=Role.registry_admin, region_code=region_code)
    db.session.commit()
    return username


def pick_region(page, codes: list[str], scope: str = "") -> None:
    """Choose province, prefecture, county in the cascading selects as a person would."""
    for level, code in enumerate(codes):
        select = page.locator(f"{scope} .region-picker select[data-level='{level}']")
        select.wait_for()
        page.wait_for_function(
            "([sel, code]) => !!document.querySelector(sel + ' option[value=\"' + code + '\"]')",
            arg=[f"{scope} .region-picker select[data-level='{level}']", code],
        )
        select.select_option(code)
    wait_for_region_pickers(page)


def test_registrar_registers_an_organisation_mediator_and_studio(page, sign_in):
    tag = uuid.uuid4().hex[:6]
    bureau = service.create_organization(
        SYSTEM, {"name": f"保定市测试司法局{tag}", "kind": OrgKind.justice_bureau, "region_code": "130600"}
    )
    beijing = service.create_organization(
        SYSTEM, {"name": f"北京对照委员会{tag}", "kind": OrgKind.people_mediation_committee, "region_code": "110105"}
    )
    db.session.commit()
    bureau_name, beijing_name = bureau.name, beijing.name
    sign_in(committed_registrar(), PASSWORD)

    # the organisation, region chosen in the picker
    page.goto("/registry/organizations")
    page.click("text=登记组织")
    org_name = f"竞秀区浏览器测试人民调解委员会{tag}"
    page.fill("#name", org_name)
    page.select_option("#kind", "people_mediation_committee")
    pick_region(page, ["130000", "130600", "130602"])
    assert page.input_value("input[name=region_code]") == "130602"
    page.fill("#specialties", "邻里、物业")
    page.click("button:has-text('保存')")
    page.wait_for_selector(f"h1:has-text('{org_name}')")
    assert "河北省 保定市 竞秀区" in page.inner_text("dl.facts")

    # a mediator for it
    page.click("a:has-text('登记调解员')")
    page.fill("#name", f"浏览器调解员{tag}")
    id_number = valid_id_number(region="130602", born=date(1988, 8, 8))
    page.fill("#id_number", id_number)
    page.fill("#phone", "13800001234")
    page.click("button:has-text('保存')")
    page.wait_for_selector(f"h1:has-text('浏览器调解员{tag}')")
    assert page.inner_text("#phone") == "138****1234"
    assert page.inner_text("#id-number") == id_number[:6] + "********" + id_number[-4:]
    page.click("button:has-text('查看完整号码')")  # the audited reveal, on that response only
    page.wait_for_selector("text=完整号码仅在本页显示一次")
    assert page.inner_text("#id-number") == id_number and page.inner_text("#phone") == "13800001234"

    # a studio led by that mediator, named by the bureau
    page.click(f"a:has-text('{org_name}')")
    page.click("a:has-text('登记工作室')")
    page.fill("#name", f"浏览器工作室{tag}")
    page.select_option("#lead_mediator_id", label=f"浏览器调解员{tag}（{org_name}）")
    page.select_option("#named_by_id", label=bureau_name)
    page.fill("#named_on", "2024-06-01")
    page.click("button:has-text('保存')")
    page.wait_for_selector(f"h1:has-text('浏览器工作室{tag}')")

    # all three in the lists
    page.goto("/registry/studios")
    assert f"浏览器工作室{tag}" in page.inner_text("table")
    page.goto("/registry/mediators")
    assert f"浏览器调解员{tag}" in page.inner_text("table")

    # the region filter: 保定 shows ours, not Beijing's
    page.goto(f"/registry/organizations?q={tag}")
    assert beijing_name in page.inner_text("table")
    pick_region(page, ["130000", "130600"], scope="form.registry-filters")
    page.click("button:has-text('筛选')")
    page.wait_for_load_state("networkidle")
    assert "region_code=130600" in page.url
    table = page.inner_text("table")
    assert org_name in table and bureau_name in table and beijing_name not in table
    # the picker came back showing the chosen region
    assert page.locator(".region-picker select[data-level='1']").input_value() == "130600"


def test_phone_width_shows_the_menu_toggle_and_a_readable_list(page, sign_in):
    service.create_organization(
        SYSTEM,
        {
            "name": f"手机测试委员会{uuid.uuid4().hex[:6]}",
            "kind": OrgKind.people_mediation_committee,
            "region_code": "110105",
        },
    )
    db.session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(committed_registrar(), PASSWORD)
    page.goto("/registry/organizations")
    toggle = page.locator("label.nav-toggle-label")
    expect(toggle).to_be_visible()
    expect(page.locator("nav.mainnav")).to_be_hidden()
    toggle.click()
    expect(page.locator("nav.mainnav a:has-text('调解工作室')")).to_be_visible()
    # the page itself does not scroll sideways; a wide table scrolls inside its wrapper
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    expect(page.locator(".table-wrap table")).to_be_visible()
    expect(page.locator(".region-picker select[data-level='0']")).to_be_visible()


def test_every_registry_page_loads_without_outside_requests(page, sign_in):
    tag = uuid.uuid4().hex[:6]
    org = service.create_organization(
        SYSTEM, {"name": f"巡检委员会{tag}", "kind": OrgKind.people_mediation_committee, "region_code": "110105"}
    )
    mediator = service.create_mediator(
        SYSTEM,
        {
            "name": f"巡检调解员{tag}",
            "organization_id": org.id,
            "id_number": valid_id_number(sequence=333),
            "phone": "13912340000",
        },
    )
    studio = service.create_studio(
        SYSTEM, {"name": f"巡检工作室{tag}", "organization_id": org.id, "lead_mediator_id": mediator.id}
    )
    db.session.commit()
    urls = [
        "/registry/organizations",
        f"/registry/organizations/{org.id}",
        "/registry/organizations/new",
        f"/registry/organizations/{org.id}/edit",
        "/registry/mediators",
        f"/registry/mediators/{mediator.id}",
        "/registry/mediators/new",
        f"/registry/mediators/{mediator.id}/edit",
        "/registry/studios",
        f"/registry/studios/{studio.id}",
        "/registry/studios/new",
        f"/registry/studios/{studio.id}/edit",
        "/?lang=en",
        "/registry/organizations?lang=zh_Hans_CN",
    ]
    sign_in(committed_registrar(), PASSWORD)
    for url in urls:
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        assert response.status == 200, url


def test_region_filter_works_without_javascript(chromium, live_server):
    """Progressive enhancement: with scripts off, the region is typed as a code into the plain input."""
    tag = uuid.uuid4().hex[:6]
    service.create_organization(
        SYSTEM, {"name": f"无脚本保定委员会{tag}", "kind": OrgKind.people_mediation_committee, "region_code": "130602"}
    )
    service.create_organization(
        SYSTEM, {"name": f"无脚本北京委员会{tag}", "kind": OrgKind.people_mediation_committee, "region_code": "110105"}
    )
    db.session.commit()
    username = committed_registrar()
    context = chromium.new_context(base_url=live_server, java_script_enabled=False, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)  # signed in before going on: no race with the POST
        page.goto(f"/registry/organizations?q={tag}")
        assert page.locator("select[data-level]").count() == 0  # no script, no cascading selects
        page.fill("input[name=region_code]", "130600")
        page.click("button:has-text('筛选')")
        table = page.inner_text("table")
        assert f"无脚本保定委员会{tag}" in table and f"无脚本北京委员会{tag}" not in table
        assert "河北省 保定市" in page.inner_text(".region-name")
    finally:
        context.close()
