"""Agreements kept through the pages, as a person would: an administrator records one; a coordinator proposes a
change of members and the coordinators of the other member regions confirm it."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from mediation_hub.agreements.models import Agreement, AgreementKind, AgreementScope
from mediation_hub.agreements.service import create_agreement
from mediation_hub.core.actor import SYSTEM
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
def test_admin_creates_an_agreement_and_sees_it_listed(page, sign_in, make_user, agreement_code):
    username = make_user(role="admin", username=f"admin-{agreement_code.lower()}").username
    db.session.commit()  # and touch no loaded object afterwards: a read would hold SQLite's shared lock
    sign_in(username, PASSWORD)

    page.get_by_role("link", name="协议").first.click()
    expect(page.get_by_role("heading", name="区域协作协议")).to_be_visible()
    expect(page.get_by_role("link", name="京津冀调解工作协同发展合作协议")).to_be_visible()

    page.get_by_role("link", name="新建协议").click()
    page.get_by_label("协议编号").fill(agreement_code)
    page.get_by_label("协议名称").fill("京鲁调解协作协议(浏览器测试)")
    page.get_by_label("类型").select_option(label="联合调解(调解协作)")
    page.get_by_label("适用范围").select_option(label="调解")
    page.get_by_label("成员区域").fill("110000 370000")
    page.get_by_label("答复时限(工作日)").fill("5")
    page.get_by_label("签订日期").fill("2025-01-10")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_role("status").filter(has_text="协议已保存")).to_be_visible()
    expect(page.get_by_role("heading", name="京鲁调解协作协议(浏览器测试)")).to_be_visible()
    expect(page.get_by_text("山东省").first).to_be_visible()
    expect(page.get_by_text("5 个工作日")).to_be_visible()

    page.get_by_role("link", name="返回协议列表").click()
    row = page.get_by_role("row").filter(has_text="京鲁调解协作协议(浏览器测试)")
    expect(row).to_be_visible()
    assert "北京市" in row.inner_text() and "山东省" in row.inner_text() and agreement_code in row.inner_text()


def _switch_user(page, sign_in, username: str) -> None:
    page.get_by_role("button", name="退出").click()
    sign_in(username, PASSWORD)


def _open_pending_proposal(page, code: str) -> None:
    page.get_by_role("link", name="协议").first.click()
    page.get_by_role("link", name=re.compile("待确认的提议")).click()
    page.get_by_role("row").filter(has_text=code).get_by_role("link").click()


@pytest.mark.browser
def test_hebei_proposes_a_member_and_beijing_and_tianjin_confirm(page, sign_in, make_user, agreement_code):
    """河北 adds 石家庄 to a 北京–天津–保定 agreement: it is a proposal until 北京 and 天津 have confirmed
    (河北 coordinates both 保定 and 石家庄, so its own confirmation is given by proposing)."""
    create_agreement(
        SYSTEM,
        {
            "code": agreement_code,
            "name": "京津保调解协作(浏览器测试)",
            "kind": AgreementKind.pairing,
            "scope": AgreementScope.mediation,
            "member_codes": ["110000", "120000", "130600"],
            "signed_on": date(2025, 1, 10),
        },
    )
    tag = agreement_code.lower()
    hebei, beijing, tianjin = (
        make_user(role="coordinator", region_code=region, username=f"{name}-{tag}").username
        for name, region in (("hb", "130000"), ("bj", "110000"), ("tj", "120000"))
    )
    db.session.commit()  # and touch no loaded object afterwards: a read would hold SQLite's shared lock

    sign_in(hebei, PASSWORD)
    page.get_by_role("link", name="协议").first.click()
    page.get_by_role("link", name="京津保调解协作(浏览器测试)").click()
    page.get_by_role("link", name="提议修改").click()
    expect(page.get_by_role("note").filter(has_text="将成为提议")).to_be_visible()
    page.get_by_label("成员区域").fill("110000 120000 130600 130100")
    page.get_by_role("button", name="提交提议").click()
    expect(page.get_by_role("status").filter(has_text="已提交提议")).to_be_visible()
    regions = page.locator("table.proposal-regions")
    expect(regions.get_by_role("row").filter(has_text="河北省 石家庄市").filter(has_text="已确认")).to_be_visible()
    expect(regions.get_by_role("row").filter(has_text="北京市").filter(has_text="待确认")).to_be_visible()

    _switch_user(page, sign_in, beijing)
    _open_pending_proposal(page, agreement_code)
    expect(page.get_by_role("button", name="拒绝")).to_be_visible()
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("status").filter(has_text="尚待其他成员区域确认")).to_be_visible()
    expect(regions.get_by_role("row").filter(has_text="北京市").filter(has_text=beijing)).to_be_visible()

    _switch_user(page, sign_in, tianjin)
    _open_pending_proposal(page, agreement_code)
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("status").filter(has_text="协议已生效")).to_be_visible()
    expect(page.locator(".facts .badge").filter(has_text="已生效")).to_be_visible()
    expect(regions.get_by_role("row").filter(has_text="天津市").filter(has_text=tianjin)).to_be_visible()

    page.get_by_role("link", name="京津保调解协作(浏览器测试)").click()
    members = page.locator("ul.agreement-members")
    expect(members.get_by_text("河北省 石家庄市")).to_be_visible()
    expect(members.get_by_text("北京市")).to_be_visible()
    expect(page.get_by_text("执行中")).to_be_visible()
