"""A 保定 mediator sends a cross-region case to Beijing; a Beijing mediator accepts it from the queue."""

from __future__ import annotations

import itertools
import time

import pytest
from playwright.sync_api import expect

from mediation_hub.core.calendar import add_working_days
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from tests.factories import PASSWORD

_run = itertools.count(1)


@pytest.mark.browser
def test_send_a_transfer_and_accept_it(page, sign_in, make_org, make_user, make_routed_case):
    tag = f"{int(time.time())}-{next(_run)}"  # not 11 digits in a row: that reads as a mobile number
    hebei = make_org(name=f"竞秀区浏览器测试调解委员会{tag}", region_code="130602")
    beijing = make_org(name=f"朝阳区浏览器测试调解委员会{tag}", region_code="110105")
    sender = make_user(organization=hebei, username=f"bd-mediator-{tag}")
    receiver = make_user(organization=beijing, username=f"bj-mediator-{tag}")
    case = make_routed_case(hebei, applicant="130602", respondent="110105")
    case_id, number = case.id, case.number
    hebei_name, beijing_name = hebei.name, beijing.name
    sender_name, receiver_name = sender.username, receiver.username
    respond_by = add_working_days(today_shanghai(), 3).isoformat()  # the seeded agreement's 3 working days
    db.session.commit()
    db.session.close()  # and read nothing more here: an open read would hold SQLite's shared lock

    # The 保定 mediator opens the case, sees the Beijing route with its reasons and sends the case.
    sign_in(sender_name, PASSWORD)
    page.goto(f"/cases/{case_id}")
    route = page.locator(".route", has_text=beijing_name)
    expect(route).to_be_visible()
    reasons = route.inner_text()  # in words, not a score (issue 13 point 6)
    assert "同在朝阳区" in reasons and "同在京津冀调解工作协同发展合作协议内" in reasons and "得分" not in reasons
    route.get_by_role("button", name="转办").click()
    page.wait_for_load_state("networkidle")
    assert f"已向 {beijing_name} 发出转办请求" in page.inner_text("main")
    assert respond_by in page.inner_text(".transfer-history")
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")

    # The Beijing mediator finds it in the incoming queue with the answer-by date, and accepts it.
    sign_in(receiver_name, PASSWORD)
    page.goto("/transfers/")
    row = page.locator("table.transfers-incoming tr.transfer-row", has_text=number)
    assert respond_by in row.inner_text() and hebei_name in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_load_state("networkidle")
    assert "打开案件" not in page.inner_text("main")
    page.get_by_role("button", name="接收转办").click()
    page.wait_for_load_state("networkidle")
    assert f"已接收转办案件 {number}" in page.inner_text("main")

    # The case is now Beijing's: in its case list and on its page, with its history.
    page.get_by_role("navigation").get_by_role("link", name="案件", exact=True).click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name=number).first.click()
    page.wait_for_load_state("networkidle")
    main = page.inner_text("main")
    assert number in main and beijing_name in main
    assert "转办接收" in main and "承办组织变更" in main
