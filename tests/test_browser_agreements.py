"""A coordinator keeps the agreements through the pages, as a person would."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from mediation_hub.agreements.models import Agreement
from mediation_hub.extensions import db
from tests.factories import PASSWORD


@pytest.fixture
def agreement_code():
    """A unique code; agreements are reference data the wipe keeps, so the test removes its own."""
    code = f"BR-{uuid.uuid4().hex[:8].upper()}"
    yield code
    db.session.rollback()
    db.session.execute(sa.delete(Agreement).where(Agreement.code == code))
    db.session.commit()


@pytest.mark.browser
def test_coordinator_creates_an_agreement_and_sees_it_listed(page, sign_in, make_user, agreement_code):
    username = make_user(role="coordinator", username=f"coord-{agreement_code.lower()}").username
    db.session.commit()  # and touch no loaded object afterwards: a read would hold SQLite's shared lock
    sign_in(username, PASSWORD)

    page.get_by_role("link", name="协议").first.click()
    assert page.get_by_role("heading", name="区域协作协议").is_visible()
    assert page.get_by_role("link", name="京津冀调解工作协同发展合作协议").is_visible()

    page.get_by_role("link", name="新建协议").click()
    page.get_by_label("协议编号").fill(agreement_code)
    page.get_by_label("协议名称").fill("京鲁调解协作协议(浏览器测试)")
    page.get_by_label("类型").select_option(label="联合调解(调解协作)")
    page.get_by_label("适用范围").select_option(label="调解")
    page.get_by_label("成员区域").fill("110000 370000")
    page.get_by_label("答复时限(工作日)").fill("5")
    page.get_by_label("签订日期").fill("2025-01-10")
    page.get_by_role("button", name="保存").click()

    assert page.get_by_role("status").filter(has_text="协议已保存").is_visible()
    assert page.get_by_role("heading", name="京鲁调解协作协议(浏览器测试)").is_visible()
    assert page.get_by_text("山东省").first.is_visible()
    assert page.get_by_text("5 个工作日").is_visible()

    page.get_by_role("link", name="返回协议列表").click()
    row = page.get_by_role("row").filter(has_text="京鲁调解协作协议(浏览器测试)")
    assert row.is_visible()
    assert "北京市" in row.inner_text() and "山东省" in row.inner_text() and agreement_code in row.inner_text()
