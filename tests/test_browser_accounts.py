"""Accounts in the browser (issue 12, item 6): a mediator changes their password from the user menu, stays
signed in, and afterwards only the new password signs in; an administrator opens 审计日志 and filters it by
user, action and date."""

from __future__ import annotations

import uuid

import pytest

from mediation_hub.audit import service as audit
from mediation_hub.auth.service import create_user
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from tests.browser_steps import PASSWORD, committed_mediator

pytestmark = pytest.mark.browser
NEW_PASSWORD = "browser-new-pass-2027"


def test_mediator_changes_their_password_and_signs_in_with_the_new_one(app, page, sign_in):
    _org, username, name = committed_mediator(uuid.uuid4().hex[:6])
    sign_in(username, PASSWORD)

    page.locator(".user").get_by_role("link", name="修改密码").click()
    assert "至少 10 个字符" in page.inner_text("main form")  # the rule is stated before it is broken
    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#new_password_again", NEW_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "密码已修改" in page.inner_text("main")
    assert name in page.inner_text(".user")  # still signed in, in a fresh session (the header names the person)

    page.locator(".user").get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")
    # the old password no longer signs in (a refused form is a 422, which the browser fixture counts as an
    # error: tried from outside the browser)
    refused = app.test_client().post("/login", data={"username": username, "password": PASSWORD})
    assert refused.status_code == 422
    sign_in(username, NEW_PASSWORD)
    assert name in page.inner_text(".user") and username not in page.inner_text(".user")


def test_administrator_filters_the_audit_log(page, sign_in):
    tag = uuid.uuid4().hex[:6]
    _org, mediator, _name = committed_mediator(tag)
    admin = f"admin-{tag}"
    create_user(SYSTEM, username=admin, password=PASSWORD, role=Role.admin)
    audit.record(None, "sign_in_failed", username=mediator, remote_addr="10.1.2.3")
    audit.record(None, "sign_in_failed", username=f"someone-else-{tag}")
    db.session.commit()

    sign_in(admin, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="审计日志").click()
    page.fill("#user", mediator)
    page.select_option("#action", label="登录失败")
    page.fill("#date_from", today_shanghai().isoformat())
    page.click("form.audit-filters button[type=submit]")
    page.wait_for_load_state("networkidle")

    rows = page.locator("table.audit-log tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-action") == "sign_in_failed"
    text = rows.first.inner_text()
    assert mediator in text and "登录失败" in text and "10.1.2.3" in text
    assert "共 1 条" in page.inner_text(".pager")
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone the table scrolls, not the page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_administrator_changes_an_accounts_role_and_finds_it_in_the_audit_log(page, sign_in):
    """An administrator opens an account from the list, gives it another role, and the change is in the audit
    log under that account, with what it was before."""
    tag = uuid.uuid4().hex[:6]
    _org, mediator, _name = committed_mediator(tag)
    admin = f"admin-{tag}"
    create_user(SYSTEM, username=admin, password=PASSWORD, role=Role.admin)
    db.session.commit()

    sign_in(admin, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="账户").click()
    page.fill("input[name=q]", mediator)
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    page.get_by_role("row", name=mediator).get_by_role("link", name="编辑").click()
    page.select_option("#role", label="法律援助工作人员")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state("networkidle")
    assert f"账户 {mediator} 已更新" in page.inner_text("main")

    page.get_by_role("row", name=mediator).get_by_role("link", name="编辑").click()
    assert page.locator("#role").input_value() == "legal_aid_officer"
    page.get_by_role("link", name="查看该账户的审计记录").click()
    page.wait_for_load_state("networkidle")
    rows = page.locator("table.audit-log tbody tr[data-action=user_updated]")
    assert rows.count() == 1
    assert "mediator" in rows.first.inner_text() and "legal_aid_officer" in rows.first.inner_text()
