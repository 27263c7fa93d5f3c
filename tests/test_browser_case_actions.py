"""The case page in the browser, on a desktop and on a phone (390×844): each action is a button and one form is
open at a time; 办结 and 不予受理 ask first, in a dialog showing what will be recorded, where 返回修改 leaves the
case as it was and 确认 records it; an agreement without its terms is refused beside the field; a step that is
not possible yet is a greyed-out button with its reason; nothing runs off a phone's screen; and 退回 of a transfer
asks first as well."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

from mediation_hub.cases.models import Case, CaseStatus, Outcome
from mediation_hub.core.actor import SYSTEM
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from mediation_hub.registry import service as registry
from mediation_hub.transfers.models import Transfer, TransferStatus
from tests.browser_steps import PASSWORD, committed_mediator, open_action, screenshot
from tests.factories import PASSWORD as FACTORY_PASSWORD

pytestmark = pytest.mark.browser

SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
screens = pytest.mark.parametrize("screen", list(SCREENS))


def committed_case(status: CaseStatus, make_case, **fields) -> tuple[int, str]:
    """A case of a fresh organisation with a mediator account; committed. Returns (case id, username)."""
    org_id, username, _ = committed_mediator(uuid.uuid4().hex[:6])
    case = make_case(registry.get_organization(SYSTEM, org_id), status, **fields)
    case_id = case.id
    db.session.commit()
    return case_id, username


def status_of(case_id: int) -> tuple[CaseStatus, Outcome | None]:
    """The case's state as stored now; the read is ended at once (an open read would hold SQLite's lock
    against the live server)."""
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    state = case.status, case.outcome
    db.session.rollback()
    return state


def open_case(page, sign_in, screen: str, case_id: int, username: str) -> None:
    page.set_viewport_size(SCREENS[screen])
    sign_in(username, PASSWORD)
    page.goto(f"/cases/{case_id}")
    page.wait_for_selector("h1 .case-number")


def nothing_runs_off(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def dialog_rows(page) -> dict[str, str]:
    rows = page.locator("dialog.confirm-dialog[open] .confirm-row")
    return {rows.nth(i).locator("dt").inner_text(): rows.nth(i).locator("dd").inner_text() for i in range(rows.count())}


@screens
def test_the_mediator_concludes_after_seeing_what_will_be_recorded(page, sign_in, make_case, screen):
    case_id, username = committed_case(CaseStatus.in_mediation, make_case)
    open_case(page, sign_in, screen, case_id, username)
    today = today_shanghai().isoformat()

    panel = open_action(page, "conclude")
    panel.locator("select[name='conclude-outcome']").select_option("agreement")
    terms = panel.locator(".field[data-field='terms']")
    assert "is-required" in terms.get_attribute("class")  # marked required once 达成协议 is chosen
    panel.locator("input[name='conclude-agreement_amount_yuan']").fill("3500")
    panel.locator("textarea[name='conclude-terms']").fill("被申请人于十五日内一次性赔偿维修费3500元")
    panel.locator("button[type=submit]").click()

    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    assert dialog.locator("h2").inner_text() == "确认办结"
    assert dialog_rows(page) == {
        "办结结果": "达成协议",
        "办结日期": today,
        "协议金额": "3500.00 元",
        "协议内容": "被申请人于十五日内一次性赔偿维修费3500元",
        "是否已履行": "未知",
        "协议形式": "书面协议",
    }
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= SCREENS[screen]["width"]  # the dialog fits the screen
    assert nothing_runs_off(page)
    screenshot(page, f"case-conclude-confirmation-{screen}")

    # 返回修改: nothing is recorded, the form keeps what was typed
    dialog.get_by_role("button", name="返回修改").click()
    expect(dialog).to_be_hidden()
    assert panel.locator("textarea[name='conclude-terms']").input_value().startswith("被申请人于十五日内")
    assert status_of(case_id) == (CaseStatus.in_mediation, None)

    # 确认办结: recorded
    panel.locator("button[type=submit]").click()
    dialog.get_by_role("button", name="确认办结").click()
    page.wait_for_selector("p.flash:has-text('已办结')")
    assert page.inner_text("h1 .case-status").startswith("已办结 · 达成协议")
    assert page.inner_text("dd.agreement-amount") == "3500.00 元"
    assert status_of(case_id) == (CaseStatus.concluded, Outcome.agreement)


def test_an_agreement_without_terms_is_refused_beside_the_field(page, sign_in, make_case):
    case_id, username = committed_case(CaseStatus.in_mediation, make_case)
    open_case(page, sign_in, "phone", case_id, username)
    panel = open_action(page, "conclude")
    panel.locator("select[name='conclude-outcome']").select_option("agreement")
    panel.locator("button[type=submit]").click()
    assert "协议内容" not in dialog_rows(page)  # nothing typed: nothing to show
    page.locator("dialog.confirm-dialog").get_by_role("button", name="确认办结").click()

    error = page.wait_for_selector(".field[data-field='terms'] .field-error")
    assert error.inner_text() == "达成协议的须填写协议内容"
    assert page.locator("details#action-conclude").get_attribute("open") is not None
    assert page.locator("details.action[open]").count() == 1  # the form at fault, and only it
    assert status_of(case_id) == (CaseStatus.in_mediation, None)


@screens
def test_declining_a_case_asks_too(page, sign_in, make_case, screen):
    case_id, username = committed_case(CaseStatus.registered, make_case)
    open_case(page, sign_in, screen, case_id, username)
    panel = open_action(page, "decline")
    panel.locator("textarea[name='decline-reason']").fill("已向人民法院起诉，不属于人民调解受理范围")
    panel.locator("button[type=submit]").click()

    dialog = page.locator("dialog.confirm-dialog")
    assert dialog.locator("h2").inner_text() == "确认不予受理"
    assert dialog_rows(page) == {
        "不予受理理由": "已向人民法院起诉，不属于人民调解受理范围",
        "不予受理日期": today_shanghai().isoformat(),
    }
    page.keyboard.press("Escape")  # the same as 返回修改
    expect(dialog).to_be_hidden()
    assert status_of(case_id) == (CaseStatus.registered, None)

    panel.locator("button[type=submit]").click()
    dialog.get_by_role("button", name="确认不予受理").click()
    page.wait_for_selector("p.flash:has-text('已决定不予受理')")
    assert status_of(case_id) == (CaseStatus.declined, None)


@screens
def test_one_action_form_at_a_time_and_nothing_runs_off_the_screen(page, sign_in, make_case, screen):
    case_id, username = committed_case(CaseStatus.in_mediation, make_case)
    open_case(page, sign_in, screen, case_id, username)
    buttons = page.locator(".case-actions details.action > summary")
    assert buttons.all_inner_texts() == ["记录调解", "办结", "延长期限"]
    visible_forms = page.locator(".case-actions details.action form:visible")
    assert visible_forms.count() == 1  # the first action's form

    for action in ("conclude", "extend_time_limit", "record_session"):
        page.locator(f"details#action-{action} > summary").click()
        assert page.locator("details.action[open]").evaluate_all("els => els.map(e => e.dataset.action)") == [action]
        assert visible_forms.count() == 1
        assert nothing_runs_off(page)
    screenshot(page, f"case-page-actions-{screen}")


def test_a_step_not_possible_yet_is_greyed_out_with_its_reason(page, sign_in, make_case):
    case_id, username = committed_case(CaseStatus.registered, make_case)
    open_case(page, sign_in, "phone", case_id, username)
    blocked = page.locator(".action-unavailable li[data-unavailable='conclude']")
    assert blocked.get_by_role("button", name="办结").is_disabled()
    assert blocked.locator(".why").inner_text() == "须先受理，受理后才能记录调解和办结"
    expect(blocked.locator(".why")).to_be_visible()  # words on the page, not a tooltip
    assert nothing_runs_off(page)


def test_declining_a_transfer_asks_first(page, sign_in, make_org, make_user, make_routed_case, request_transfer_as):
    tag = uuid.uuid4().hex[:6]
    hebei = make_org(name=f"竞秀区退回测试调解委员会{tag}", region_code="130602")
    beijing = make_org(name=f"朝阳区退回测试调解委员会{tag}", region_code="110105")
    sender = make_user(organization=hebei, username=f"bd-decline-{tag}")
    receiver = make_user(organization=beijing, username=f"bj-decline-{tag}")
    case = make_routed_case(hebei, applicant="130602", respondent="110105")
    transfer_id = request_transfer_as(sender, case, beijing, requested_on=date(2025, 9, 29)).id
    receiver_name = receiver.username
    db.session.commit()
    db.session.close()  # read nothing more here: an open read would hold SQLite's lock against the server

    page.set_viewport_size(SCREENS["phone"])
    sign_in(receiver_name, FACTORY_PASSWORD)
    page.goto(f"/transfers/{transfer_id}")
    page.locator("details#decline-transfer > summary").click()
    page.select_option("select[name='reason_code']", "capacity")
    page.fill("textarea[name='reason_text']", "本月在办案件已满，请转其他调解组织")
    page.get_by_role("button", name="退回", exact=True).click()

    dialog = page.locator("dialog.confirm-dialog")
    assert dialog.locator("h2").inner_text() == "确认退回"
    rows = dialog_rows(page)
    assert rows["具体说明"] == "本月在办案件已满，请转其他调解组织" and set(rows) == {"退回理由", "具体说明"}
    assert nothing_runs_off(page)
    dialog.get_by_role("button", name="返回修改").click()
    db.session.expire_all()
    assert db.session.get(Transfer, transfer_id).status == TransferStatus.pending
    db.session.rollback()

    page.get_by_role("button", name="退回", exact=True).click()
    dialog.get_by_role("button", name="确认退回").click()
    page.wait_for_selector("p.flash:has-text('已退回该请求')")
    db.session.expire_all()
    assert db.session.get(Transfer, transfer_id).status == TransferStatus.declined
    db.session.rollback()


def test_without_javascript_the_forms_still_open_and_submit(chromium, live_server, make_case):
    """Progressive enhancement: no script, no dialog; the <details> buttons still open the forms and 办结 records."""
    case_id, username = committed_case(CaseStatus.in_mediation, make_case)
    context = chromium.new_context(
        base_url=live_server, locale="zh-CN", java_script_enabled=False, viewport=SCREENS["phone"]
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)  # signed in before going on: no race with the POST
        page.goto(f"/cases/{case_id}")
        panel = open_action(page, "conclude")
        panel.locator("select[name='conclude-outcome']").select_option("withdrawn")
        panel.locator("button[type=submit]").click()
        page.wait_for_selector("p.flash:has-text('已办结')")
        assert page.locator("dialog.confirm-dialog").count() == 0
        assert nothing_runs_off(page)
    finally:
        context.close()
    assert status_of(case_id) == (CaseStatus.concluded, Outcome.withdrawn)
