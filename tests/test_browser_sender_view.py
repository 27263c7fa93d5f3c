"""Issue 13 point 1 in the browser: after 北京 accepted the transfer, the 保定 mediator finds the case under
已转出, opens it and reads its status and history, with no action to take (desktop and a 390×844 phone)."""

from __future__ import annotations

import itertools
import time

import pytest
from playwright.sync_api import expect

from mediation_hub.core.actor import SYSTEM
from mediation_hub.extensions import db
from mediation_hub.transfers import service as transfers
from tests.browser_steps import screenshot
from tests.factories import PASSWORD

_run = itertools.count(1)
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.browser
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_sender_reads_a_case_handed_over(page, sign_in, viewport, make_org, make_user, make_routed_case):
    tag = f"{int(time.time())}-{next(_run)}"  # not 11 digits in a row: that reads as a mobile number
    baoding = make_org(name=f"竞秀区转出浏览器测试调解委员会{tag}", region_code="130602")
    beijing = make_org(name=f"朝阳区转出浏览器测试调解委员会{tag}", region_code="110105")
    sender = make_user(organization=baoding, username=f"bd-sender-{tag}")
    case = make_routed_case(baoding, applicant="130602", respondent="110105")
    transfer = transfers.request_transfer(
        SYSTEM, case.id, to_organization_id=beijing.id, agreement_code="JJJ-MEDIATION"
    )
    transfers.accept_transfer(SYSTEM, transfer.id)
    case_id, number, beijing_name, username = case.id, case.number, beijing.name, sender.username
    accepted_on = transfer.answered_on.isoformat()
    db.session.commit()
    db.session.close()  # and read nothing more here: an open read would hold SQLite's shared lock

    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(username, PASSWORD)
    page.goto("/cases")
    assert page.locator(f"tr[data-case-id='{case_id}']").count() == 0  # not among the organisation's own cases
    page.get_by_role("link", name="已转出").click()
    page.wait_for_load_state("networkidle")
    row = page.locator(f"tr[data-case-id='{case_id}']")
    expect(row).to_be_visible()
    assert beijing_name in row.inner_text() and "已受理" in row.inner_text()
    row.get_by_role("link", name=number).click()
    page.wait_for_load_state("networkidle")

    assert page.url.endswith(f"/cases/{case_id}")
    banner = page.locator(".read-only-banner")
    assert banner.inner_text().strip() == f"已转至 {beijing_name}，于 {accepted_on} 接收；本机构仅可查看"
    main = page.inner_text("main")
    assert "已受理" in page.inner_text(".case-status")
    assert "转办接收" in main and "承办组织变更" in main  # the history
    assert page.locator(".case-actions").count() == 0
    assert page.locator("main form").count() == 0  # no action, no reveal, no transfer form
    assert page.locator("main button").count() == 0
    if viewport == "phone":  # the page fits the phone's width (tables scroll inside their own box)
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"]["width"]
    screenshot(page, f"sender-view-{viewport}")
