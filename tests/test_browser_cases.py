"""What a mediator does in the browser: register a dispute with its parties in one form (regions chosen in
the picker), accept it, record a session, conclude it with an agreement and see the status, the timeline and
the judicial-confirmation reminder; and see an overdue case marked on the worklist. Data is committed for
real (browser tests), with unique names; the ``page`` fixture fails on any outside request or JS error."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

from mediation_hub.cases.models import Case, CaseStatus
from mediation_hub.core.actor import SYSTEM
from mediation_hub.core.calendar import calendar_deadline
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from mediation_hub.registry import service as registry
from tests.browser_steps import PASSWORD, committed_mediator, open_action, pick_region
from tests.factories import valid_id_number

pytestmark = pytest.mark.browser


def test_mediator_registers_accepts_records_a_session_and_concludes_with_an_agreement(page, sign_in):
    tag = uuid.uuid4().hex[:6]
    _, username, mediator_name = committed_mediator(tag)
    sign_in(username, PASSWORD)
    assert page.url.endswith("/cases/worklist")  # a mediator lands on the worklist

    page.click("nav.mainnav >> text=登记纠纷")
    page.wait_for_selector("h1:has-text('登记纠纷')")
    visible_parties = page.locator("fieldset.party:visible")
    assert visible_parties.count() == 2
    # "添加当事人" twice: the fourth is removed again, the third (a third party) is kept
    page.click("button.add-party")
    page.click("button.add-party")
    assert visible_parties.count() == 4
    assert visible_parties.nth(0).locator("button.remove-party").is_hidden()  # always the two sides
    visible_parties.nth(3).locator("button.remove-party").click()
    assert visible_parties.count() == 3
    assert visible_parties.nth(2).locator(".party-number").inner_text() == "3"

    summary = f"楼上住户装修导致楼下漏水，协商赔偿未果 {tag}"
    page.select_option("#category", "neighbour")
    page.select_option("#source", "party_application")
    page.fill("#summary", summary)
    pick_region(page, "[data-field='occurred_region_code']", ["110000", "110100", "110105"])
    applicant = page.locator("fieldset.party").nth(0)
    applicant.locator("input[name='parties-0-name']").fill(f"张申请{tag}")
    applicant.locator("input[name='parties-0-number']").fill(valid_id_number())
    applicant.locator("input[name='parties-0-phone']").fill("13900001111")
    pick_region(page, "fieldset[data-party-index='0']", ["110000", "110100", "110105"])
    respondent = page.locator("fieldset.party").nth(1)
    assert respondent.locator("select[name='parties-1-role']").input_value() == "respondent"
    respondent.locator("input[name='parties-1-name']").fill(f"李被申{tag}")
    pick_region(page, "fieldset[data-party-index='1']", ["130000", "130600", "130602"])
    third = page.locator("fieldset[data-party-index='2']")
    third.locator("select[name='parties-2-role']").select_option("third_party")
    third.locator("input[name='parties-2-name']").fill(f"王第三{tag}")
    pick_region(page, "fieldset[data-party-index='2']", ["110000", "110100", "110108"])
    page.click("button[type=submit]:has-text('登记')")

    page.wait_for_selector("h1 .case-number")
    number = page.inner_text("h1 .case-number")
    assert f"已登记案件 {number}" in page.inner_text("main")
    assert "跨区域" in page.inner_text("h1")  # Beijing and Hebei parties
    assert page.inner_text("h1 .case-status").startswith("已登记")
    parties_table = page.inner_text("table.parties")
    assert "139****1111" in parties_table
    assert f"王第三{tag}" in parties_table and "北京市 海淀区" in parties_table
    assert page.locator("table.parties tbody tr").count() == 3

    # accept, choosing the mediator
    panel = open_action(page, "accept")
    panel.locator("select[name='accept-mediator_id']").select_option(label=mediator_name)
    panel.locator("button[type=submit]").click()
    page.wait_for_selector("p.flash:has-text('已受理')")
    assert page.inner_text("h1 .case-status").startswith("已受理")

    # a session
    panel = open_action(page, "record_session")
    panel.locator("textarea[name='record_session-summary']").fill("双方到场，申请人要求赔偿维修费")
    panel.locator("button[type=submit]").click()
    page.wait_for_selector("p.flash:has-text('已记录调解情况')")
    assert page.inner_text("h1 .case-status").startswith("调解中")
    assert "双方到场，申请人要求赔偿维修费" in page.inner_text("table.sessions")

    # concluded with an agreement
    panel = open_action(page, "conclude")
    amount_field = panel.locator(".field[data-field='agreement_amount_yuan']")
    panel.locator("select[name='conclude-outcome']").select_option("no_agreement")
    assert amount_field.is_hidden()  # agreement details only go with an agreement
    panel.locator("select[name='conclude-outcome']").select_option("agreement")
    expect(amount_field).to_be_visible()
    panel.locator("input[name='conclude-agreement_amount_yuan']").fill("5200")
    panel.locator("textarea[name='conclude-terms']").fill("被申请人一次性赔偿维修费5200元")
    panel.locator("select[name='conclude-performed']").select_option("false")
    panel.locator("button[type=submit]").click()
    page.locator("dialog.confirm-dialog").get_by_role("button", name="确认办结").click()  # 办结 asks first
    page.wait_for_selector("p.flash:has-text('已办结')")

    assert page.inner_text("h1 .case-status").startswith("已办结 · 达成协议")
    assert page.inner_text("dd.agreement-amount") == "5200.00 元"
    timeline = page.locator("ol.timeline li strong").all_inner_texts()
    assert timeline == ["登记", "受理", "调解记录", "办结"]
    # the confirmation window: 30 days after today's agreement, moved past a closing rest day
    deadline = calendar_deadline(today_shanghai(), 30)
    left = (deadline.day - today_shanghai()).days
    mark = "（暂定）" if deadline.provisional else ""  # a window ending in a year whose notice is not out yet
    assert (
        page.inner_text("p.reminder-confirmation")
        == f"司法确认申请截止 {deadline.day.isoformat()}{mark}，剩余 {left} 天"
    )
    # the next steps are offered; the running-case ones are gone
    actions = set(page.locator("details.action").evaluate_all("els => els.map(e => e.dataset.action)"))
    assert actions == {"apply_for_confirmation", "record_follow_up"}
    case = db.session.query(Case).filter_by(number=number).one()
    assert case.status == CaseStatus.concluded


def test_worklist_marks_the_overdue_case(page, sign_in, make_case):
    tag = uuid.uuid4().hex[:6]
    org_id, username, _ = committed_mediator(tag)
    org = registry.get_organization(SYSTEM, org_id)
    today = today_shanghai()
    # accepted 2026-03-02: the 30-day limit ended 2026-04-01 (a Wednesday), so the case is overdue
    late = make_case(org, CaseStatus.in_mediation, received_on=date(2026, 3, 2), accepted_on=date(2026, 3, 2))
    fresh = make_case(org, CaseStatus.accepted, received_on=today, accepted_on=today)
    late_id, late_number, fresh_id = late.id, late.number, fresh.id
    db.session.commit()

    sign_in(username, PASSWORD)
    page.goto("/cases/worklist")
    late_row = page.locator(f"tr[data-case-id='{late_id}']")
    fresh_row = page.locator(f"tr[data-case-id='{fresh_id}']")
    assert "overdue" in late_row.get_attribute("class").split()
    assert "已超期" in late_row.inner_text()
    assert "2026-04-01" in late_row.inner_text()
    assert f"超期 {(today - date(2026, 4, 1)).days} 天" in late_row.inner_text()
    assert "overdue" not in fresh_row.get_attribute("class").split()
    assert "已超期" not in fresh_row.inner_text()
    # nearest deadline first: the overdue case is listed above the fresh one
    ids = page.locator("table.worklist tbody tr").evaluate_all("rows => rows.map(r => r.dataset.caseId)")
    assert ids.index(str(late_id)) < ids.index(str(fresh_id))
    page.click(f"a:has-text('{late_number}')")
    page.wait_for_selector("dd.due-on.overdue")
