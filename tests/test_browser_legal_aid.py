"""The 通办 hand-over in the browser: a Tianjin legal-aid officer files an application for a matter in
保定 and hands it to the competent 保定 centre; the 保定 officer finds it in the queue with its decide-by
date, accepts it, grants legal aid and assigns a lawyer."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from mediation_hub.core.actor import SYSTEM
from mediation_hub.extensions import db
from mediation_hub.registry import service as registry
from mediation_hub.registry.models import OrgKind
from tests.browser_steps import PASSWORD, committed_officer, pick_region
from tests.factories import valid_id_number

pytestmark = pytest.mark.browser


def test_tianjin_hands_over_and_baoding_grants(page, sign_in):
    tag = uuid.uuid4().hex[:6]
    tianjin = registry.create_organization(
        SYSTEM, {"name": f"天津市和平区法律援助中心{tag}", "kind": OrgKind.legal_aid_centre, "region_code": "120101"}
    )
    baoding = registry.create_organization(
        SYSTEM, {"name": f"保定市竞秀区法律援助中心{tag}", "kind": OrgKind.legal_aid_centre, "region_code": "130602"}
    )
    db.session.commit()
    baoding_name = baoding.name
    tj_user, bd_user = committed_officer(tianjin.id), committed_officer(baoding.id)
    id_number = valid_id_number(region="110105", born=date(1986, 3, 9))

    # Tianjin: the officer lands on the queue, files the application through the form
    sign_in(tj_user, PASSWORD)
    page.click("a:has-text('登记申请')")
    page.fill("#applicant_name", f"浏览器申请人{tag}")
    page.fill("#id_number", id_number)
    page.fill("#phone", "13900001111")
    page.select_option("#matter_category", "labour_remuneration")
    pick_region(page, "#matter_region_code-field", ["130000", "130600", "130602"])
    assert page.input_value("#matter_region_code") == "130602"
    # the exempt group (arts. 32, 42) is asked for only when the applicant is exempt from the means test
    page.check("input[name=hardship][value=exempt]")
    assert page.is_visible("#exempt_group")
    page.check("input[name=hardship][value=declaration]")
    assert not page.is_visible("#exempt_group")
    page.fill("#summary", "在保定竞秀区工地务工，被拖欠工资三个月")
    page.fill("#received_on", "2025-09-24")
    page.click("button:has-text('登记')")
    heading = page.locator("h1:has-text('法律援助申请 LA')")
    heading.wait_for()
    number = re.search(r"LA\d{4}-\d{6}", heading.inner_text()).group(0)
    assert id_number not in page.content()
    assert "经济困难告知承诺" in page.inner_text("dl.facts")

    # hand it over: the competent 保定 centre is already selected
    form = page.locator("#transfer-form")
    assert baoding_name in form.locator("select option:checked").inner_text()
    form.locator("input[name='transfer-transferred_on']").fill("2025-09-24")
    form.locator("button:has-text('转交')").click()
    page.wait_for_selector("text=本页仅供查阅")
    assert baoding_name in page.inner_text(".la-centre")
    assert "2025-10-09" in page.inner_text("dd.la-decide-by")
    page.click("button:has-text('退出')")

    # 保定: the application is in the queue with its decide-by date
    # (received 2025-09-24 + 7 days = 2025-10-01, National Day holiday until 10-08 -> 2025-10-09)
    sign_in(bd_user, PASSWORD)
    row = page.locator(f"tr[data-number='{number}']")
    row.wait_for()
    assert "2025-10-09" in row.locator("td.la-decide-by").inner_text()
    assert "通办转入" in row.inner_text()
    row.locator(f"a:has-text('{number}')").click()

    page.fill("#accept-form input[name='accept-accepted_on']", "2025-09-25")  # recorded after the fact
    page.locator("#accept-form button:has-text('受理')").click()
    page.wait_for_selector("#decide-form")
    page.check("#decide-form input[value=grant]")
    page.fill("#decide-form input[name='decide-decided_on']", "2025-10-09")
    page.click("#decide-form button:has-text('作出决定')")
    page.wait_for_selector("#assign-form")
    # granted 2025-10-09 + 3 = Sun 2025-10-12 -> Mon 2025-10-13
    assert "2025-10-13" in page.inner_text("dd.la-assign-by")
    page.fill("#assign-form input[name='assign-lawyer_name']", "浏览器律师")
    page.click("#assign-form button:has-text('指派')")
    page.wait_for_selector("dd.la-lawyer")
    assert "浏览器律师" in page.inner_text("dd.la-lawyer")
    assert "已指派" in page.inner_text("h1")
    history = page.inner_text("ol.la-history")
    for label in ("收到申请", "通办转交", "受理", "决定给予法律援助", "指派律师"):
        assert label in history
