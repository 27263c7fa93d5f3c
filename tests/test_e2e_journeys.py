"""Three end-to-end journeys in the browser, one per kind of user, each across many pages.

1. A mediator, from registering a cross-region dispute to the follow-up visit, then finding and exporting it.
2. Legal-aid officers: an application filed in Tianjin for a 保定 matter is handed over under 通办; the 保定
   officer takes it from the notification to a lawyer's assignment (and cannot send it back).
3. A 河北 coordinator: from the dashboard (figures checked against the API, three regions) to an escalated
   transfer, then a failed report delivery sent again until the governance centre's endpoint accepts it.

Only the starting world is built in Python (accounts, organisations, and for the coordinator a history made
with the factories and the real periodic tasks); everything else is clicks and typing, and each journey
asserts what the person sees. Data is committed for real (browser tests) under unique names. A full-page
screenshot of the last page of each journey is kept under test-artifacts/."""

from __future__ import annotations

import csv
import io
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.calendar import Deadline, calendar_deadline
from mediation_hub.core.db import utcnow
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from mediation_hub.registry import service as registry
from mediation_hub.registry.models import OrgKind
from mediation_hub.reporting import subscriptions
from mediation_hub.reporting.models import DeliveryStatus, ReportDelivery, ReportSnapshot
from mediation_hub.reporting.tasks import deliver_due_reports, freeze_due_snapshots
from mediation_hub.transfers.models import TransferStatus
from mediation_hub.transfers.tasks import expire_overdue_transfers
from tests.browser_steps import (
    ASKING_ACTIONS,
    PASSWORD,
    committed_mediator,
    committed_officer,
    confirm_step,
    open_action,
    pick_region,
    screenshot,
)
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.factories import valid_id_number
from tests.factories_reporting import d

pytestmark = pytest.mark.browser


def shown(deadline: Deadline) -> str:
    """A deadline as the pages show it: the date, marked （暂定） when counted over a provisional year."""
    return deadline.day.isoformat() + ("（暂定）" if deadline.provisional else "")


def nav(page, label: str) -> None:
    """Follow an entry of the main navigation."""
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state("networkidle")


def flash(page, text: str):
    """Wait for the confirmation (or warning) the page shows after an action."""
    return page.wait_for_selector(f"p.flash:has-text('{text}')")


def submit_action(page, action: str, fields: dict[str, str], *, selects: dict[str, str] | None = None) -> None:
    """Open an action's panel on the case page, type into its fields, choose in its selects and submit."""
    panel = open_action(page, action)
    for name, value in (selects or {}).items():
        panel.locator(f"select[name='{action}-{name}']").select_option(value)
    for name, value in fields.items():
        panel.locator(f"[name='{action}-{name}']").fill(value)
    panel.locator("button[type=submit]").click()
    if action in ASKING_ACTIONS:
        confirm_step(page)
    page.wait_for_load_state("networkidle")


# --- 1. the mediator ------------------------------------------------------------------------------------


def register_dispute(
    page,
    tag: str,
    summary: str,
    applicant_id: str,
    respondent_id: str,
    received_on: date | None = None,
    duplicate_of: str | None = None,
) -> str:
    """The registration form, as the mediator fills it: a 朝阳区 applicant and a 保定竞秀区 respondent."""
    nav(page, "登记纠纷")
    if received_on:
        page.fill("#received_on", received_on.isoformat())
    page.select_option("#category", "neighbour")
    page.select_option("#source", "party_application")
    page.fill("#amount_yuan", "8000")
    page.fill("#summary", summary)
    pick_region(page, "[data-field='occurred_region_code']", ["110000", "110100", "110105"])
    applicant = page.locator("fieldset[data-party-index='0']")
    applicant.locator("input[name='parties-0-name']").fill(f"张申请{tag}")
    applicant.locator("input[name='parties-0-number']").fill(applicant_id)
    applicant.locator("input[name='parties-0-phone']").fill("13900001111")
    pick_region(page, "fieldset[data-party-index='0']", ["110000", "110100", "110105"])
    respondent = page.locator("fieldset[data-party-index='1']")
    respondent.locator("input[name='parties-1-name']").fill(f"李被申{tag}")
    respondent.locator("input[name='parties-1-number']").fill(respondent_id)
    respondent.locator("input[name='parties-1-phone']").fill("13700002222")
    pick_region(page, "fieldset[data-party-index='1']", ["130000", "130600", "130602"])
    page.click("button[type=submit]:has-text('登记')")
    if duplicate_of:  # warned before saving, with the open case; registered anyway
        warning = page.locator("#duplicate-warning")
        warning.wait_for()
        assert duplicate_of in warning.inner_text()
        warning.locator("button.confirm-duplicate").click()
    page.wait_for_selector("h1 .case-number")
    return page.inner_text("h1 .case-number")


def test_mediator_from_registration_to_follow_up(page, sign_in):
    tag = uuid.uuid4().hex[:6]
    _, username, mediator_name = committed_mediator(tag)
    db.session.remove()
    applicant_id = valid_id_number("110105", date(1979, 6, 1))
    respondent_id = valid_id_number("130602", date(1983, 11, 20))
    # recorded after the fact: received ten days ago, then each step on its own day
    today = today_shanghai()
    received, accepted = today - timedelta(days=10), today - timedelta(days=9)
    first_session, second_session = today - timedelta(days=6), today - timedelta(days=2)

    sign_in(username, PASSWORD)
    assert page.url.endswith("/cases/worklist")
    assert page.get_by_role("heading", name="工作台").is_visible()

    # registers the dispute: a Beijing applicant and a Hebei respondent make it cross-region
    summary = f"楼上住户装修导致楼下漏水，协商赔偿未果 {tag}"
    number = register_dispute(page, tag, summary, applicant_id, respondent_id, received_on=received)
    flash(page, f"已登记案件 {number}（跨区域纠纷）")
    assert "跨区域" in page.inner_text("h1 .case-status")
    parties = page.inner_text("table.parties")
    assert "北京市 朝阳区" in parties and "河北省 保定市 竞秀区" in parties
    assert "139****1111" in parties and applicant_id not in page.content()

    # the same two parties again: registered, with a warning naming the open case (never a block)
    duplicate = register_dispute(
        page, tag, f"同一漏水纠纷再次来访 {tag}", applicant_id, respondent_id, duplicate_of=number
    )
    assert duplicate != number
    warning = flash(page, "可能重复")
    assert warning.inner_text() == f"可能重复：未结案件 {number} 涉及同一当事人，请核实。"
    assert page.locator("p.flash.warning a").inner_text() == number
    # the mediator declines the duplicate, then picks the first case from the worklist
    submit_action(page, "decline", {"reason": f"与案件 {number} 重复，在该案中一并办理"})
    flash(page, "已决定不予受理")
    assert page.inner_text("h1 .case-status").startswith("不予受理")
    nav(page, "工作台")
    worklist = page.inner_text("table.worklist")
    assert number in worklist and duplicate not in worklist
    page.get_by_role("link", name=number).click()
    page.wait_for_selector(f"h1:has-text('{number}')")

    # accepts it with the mediator: the one-month limit counts from the day after acceptance
    submit_action(page, "accept", {"accepted_on": accepted.isoformat()}, selects={"mediator_id": mediator_name})
    flash(page, "已受理")
    due_on = calendar_deadline(accepted, 30)
    assert page.inner_text("dd.due-on") == shown(due_on)

    # two sessions
    submit_action(page, "record_session", {"held_on": first_session.isoformat(), "summary": "双方到场，陈述事实"})
    flash(page, "已记录调解情况")
    submit_action(
        page,
        "record_session",
        {"held_on": second_session.isoformat(), "summary": "现场查看漏水位置，双方就维修费用初步协商"},
    )
    flash(page, "已记录调解情况")
    sessions = page.locator("table.sessions tbody tr")
    assert sessions.count() == 2
    assert sessions.nth(0).inner_text().startswith(first_session.isoformat())
    assert mediator_name in sessions.nth(1).inner_text()

    # the parties agree to more time: 15 days on top of the old limit
    submit_action(page, "extend_time_limit", {"days": "15", "consent_note": "双方当事人电话确认同意延长十五天"})
    flash(page, "已延长办理期限")
    assert page.inner_text("dd.due-on") == shown(calendar_deadline(due_on.day, 15))

    # concluded with an agreement today
    submit_action(
        page,
        "conclude",
        {"agreement_amount_yuan": "5200", "terms": "被申请人一次性赔偿维修费5200元"},
        selects={"outcome": "agreement", "performed": "false"},
    )
    flash(page, "已办结")
    assert page.inner_text("h1 .case-status").startswith("已办结 · 达成协议")
    assert page.inner_text("dd.agreement-amount") == "5200.00 元"
    deadline = calendar_deadline(today, 30)
    assert (
        page.inner_text("p.reminder-confirmation")
        == f"司法确认申请截止 {shown(deadline)}，剩余 {(deadline.day - today).days} 天"
    )

    # judicial confirmation: applied for (the reminder goes), then confirmed
    submit_action(page, "apply_for_confirmation", {"court": "北京市朝阳区人民法院"})
    flash(page, "已记录司法确认申请")
    assert page.locator("p.reminder-confirmation").count() == 0
    assert page.inner_text("dd.confirmation").startswith("已申请")
    submit_action(page, "record_confirmation_result", {}, selects={"confirmed": "true"})
    flash(page, "已记录司法确认结果")
    assert page.inner_text("dd.confirmation").startswith("已确认")

    # the follow-up visit: the agreement is being performed
    assert page.locator("p.reminder-follow_up").is_visible()
    submit_action(page, "record_follow_up", {"summary": "回访申请人，赔偿款已全部支付"}, selects={"performed": "true"})
    flash(page, "已记录回访")
    assert "赔偿款已全部支付" in page.inner_text("table.follow-ups")
    assert page.locator("p.reminder-follow_up").count() == 0
    assert "已履行" in page.inner_text("dl.facts")

    # the case list: the applicant's name finds both registrations, the filters narrow it to the concluded one
    nav(page, "案件")
    page.fill("#q", f"张申请{tag}")
    page.click("button:has-text('筛选')")
    page.wait_for_load_state("networkidle")
    rows = page.locator("table.case-list tbody tr.case-row")
    assert sorted(rows.locator("td:first-child a").all_inner_texts()) == sorted([number, duplicate])
    page.select_option("#status", "concluded")
    page.select_option("#category", "neighbour")
    pick_region(page, "[data-field='region_code']", ["110000", "110100", "110105"])
    page.click("button:has-text('筛选')")
    page.wait_for_load_state("networkidle")
    assert rows.count() == 1 and rows.first.locator("a").inner_text() == number

    # the export carries the same filters: that one case, with masked numbers only
    with page.expect_download() as download:
        page.click("a.export-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "案件编号" and [row[0] for row in table[1:]] == [number]
    party_cell = table[1][table[0].index("当事人")]
    assert f"{applicant_id[:6]}********{applicant_id[-4:]}" in party_cell and "139****1111" in party_cell
    for full in (applicant_id, respondent_id, "13900001111", "13700002222"):
        assert full not in text

    # the timeline shows every step in order, each on its day
    rows.first.locator("a").click()
    page.wait_for_selector("ol.timeline")
    steps = page.locator("ol.timeline li")
    assert steps.locator("strong").all_inner_texts() == [
        "登记",
        "受理",
        "调解记录",
        "调解记录",
        "延长期限",
        "办结",
        "申请司法确认",
        "司法确认结果",
        "回访",
    ]
    days = [steps.nth(i).locator("span").first.inner_text() for i in range(steps.count())]
    assert (
        days == [d_.isoformat() for d_ in (received, accepted, first_session, second_session)] + [today.isoformat()] * 5
    )
    screenshot(page, "journey-mediator")


# --- 2. the legal-aid officers ----------------------------------------------------------------------------


def test_legal_aid_officer_from_incoming_tongban_application_to_assignment(page, sign_in):
    tag = uuid.uuid4().hex[:6]
    tianjin = registry.create_organization(
        SYSTEM, {"name": f"天津市和平区法律援助中心{tag}", "kind": OrgKind.legal_aid_centre, "region_code": "120101"}
    )
    baoding = registry.create_organization(
        SYSTEM, {"name": f"保定市竞秀区法律援助中心{tag}", "kind": OrgKind.legal_aid_centre, "region_code": "130602"}
    )
    tianjin_id, tianjin_name, baoding_name = tianjin.id, tianjin.name, baoding.name
    db.session.commit()
    tj_user, bd_user = committed_officer(tianjin_id), committed_officer(baoding.id)
    db.session.remove()
    id_number = valid_id_number("130602", date(1988, 8, 8))
    today = today_shanghai()
    decide_by = calendar_deadline(today, 7)  # handed over today: 7 days, past a closing rest day
    assign_by = calendar_deadline(today, 3)  # granted today: 3 days

    # Tianjin: a worker from 保定 applies here about wages owed on a 保定 site; declaration of hardship
    sign_in(tj_user, PASSWORD)
    assert page.get_by_role("heading", name="法律援助申请待办").is_visible()
    page.get_by_role("link", name="登记申请").click()
    page.fill("#applicant_name", f"王务工{tag}")
    page.fill("#id_number", id_number)
    page.fill("#phone", "13600003333")
    pick_region(page, "#applicant_region_code-field", ["130000", "130600", "130602"])
    page.select_option("#matter_category", "labour_remuneration")
    pick_region(page, "#matter_region_code-field", ["130000", "130600", "130602"])
    page.check("input[name=hardship][value=declaration]")
    page.fill("#summary", f"在保定竞秀区工地务工，被拖欠工资三个月 {tag}")
    page.click("button:has-text('登记')")
    heading = page.locator("h1:has-text('法律援助申请 LA')")
    heading.wait_for()
    number = heading.inner_text().split()[1]
    assert "经济困难告知承诺" in page.inner_text("dl.facts")
    # not competent here: the hand-over form proposes the competent 保定 centre
    form = page.locator("#transfer-form")
    assert "本中心对该事项无管辖权" in form.inner_text()
    assert baoding_name in form.locator("select option:checked").inner_text()
    form.locator("button:has-text('转交')").click()
    page.wait_for_selector("text=本页仅供查阅")
    assert baoding_name in page.inner_text(".la-centre")
    assert page.inner_text("dd.la-decide-by") == shown(decide_by)
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")

    # 保定: the notice and the queue row with its decide-by date
    sign_in(bd_user, PASSWORD)
    assert page.inner_text("a.notice-count") == "通知 (1)"
    row = page.locator(f"table.la-queue tr[data-number='{number}']")
    assert "通办转入" in row.inner_text() and tianjin_name in row.inner_text()
    assert row.locator("td.la-decide-by").inner_text() == shown(decide_by)
    page.click("a.notice-count")
    notice = page.locator("li.notification.unread", has_text=number)
    assert f"请于 {decide_by.day.isoformat()} 前作出是否给予法律援助的决定" in notice.inner_text()
    notice.get_by_role("button", name="查看").click()
    page.wait_for_selector(f"h1:has-text('{number}')")
    assert page.inner_text("a.notice-count") == "通知 (0)"
    application_url = page.url

    # the declaration came with the application; the hand-over is on record
    facts = page.inner_text("dl.facts")
    assert "经济困难告知承诺" in facts and applicant_masked(id_number) in facts and id_number not in page.content()
    handover = page.inner_text("table.la-handovers")
    assert tianjin_name in handover and baoding_name in handover and "JJJ-LEGAL-AID" in handover

    # sending it back is not offered, and a hand-made request for it is refused
    assert page.locator("#transfer-form").count() == 0
    token = page.locator("form[action$='/logout'] input[name=csrf_token]").get_attribute("value")
    answer = page.request.post(
        application_url + "/transfer",
        max_redirects=0,
        headers={"X-CSRFToken": token},
        form={"transfer-to_centre_id": str(tianjin_id), "csrf_token": token},
    )
    assert answer.status == 303
    page.goto(application_url)
    assert page.locator("p.flash.error", has_text="通办申请不得退回已转出该申请的中心").is_visible()
    assert baoding_name in page.inner_text(".la-centre")

    # accept, grant, assign
    page.locator("#accept-form button:has-text('受理')").click()
    flash(page, f"申请 {number}：已受理")
    page.check("#decide-form input[value=grant]")
    page.click("#decide-form button:has-text('作出决定')")
    flash(page, f"申请 {number}：准予援助")
    assert page.inner_text("dd.la-assign-by") == shown(assign_by)
    page.fill("#assign-form input[name='assign-lawyer_name']", f"刘律师{tag}")
    page.click("#assign-form button:has-text('指派')")
    flash(page, f"申请 {number}：已指派")
    assert f"刘律师{tag}" in page.inner_text("dd.la-lawyer")
    history = page.locator("ol.la-history li strong").all_inner_texts()
    assert history == ["收到申请", "通办转交", "受理", "决定给予法律援助", "指派律师"]

    # back in the queue: no longer waiting for this centre, listed with the handled ones
    nav(page, "法律援助")
    assert page.locator(f"table.la-queue tr[data-number='{number}']").count() == 0
    done = page.locator(f"table.la-done tr[data-number='{number}']")
    assert "已指派" in done.inner_text()
    screenshot(page, "journey-legal-aid")


def applicant_masked(id_number: str) -> str:
    return f"{id_number[:6]}********{id_number[-4:]}"


# --- 3. the coordinator -------------------------------------------------------------------------------------


class Receiver:
    """A governance centre's report endpoint on 127.0.0.1: refuses (503) until ``accepting``, then takes
    reports (200). Records the webhook id of every request it got."""

    def __init__(self):
        self.accepting, self.message_ids = False, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["content-length"]))
                receiver.message_ids.append(self.headers["webhook-id"])
                self.send_response(200 if receiver.accepting else 503)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/reports"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def delivery_row(page, delivery_id: int):
    return page.locator(f"#deliveries tr#delivery-{delivery_id}")


def test_coordinator_from_dashboard_to_escalated_transfer_and_report_redelivery(
    page, sign_in, receiver, make_org, make_user, make_case_history, make_routed_case, request_transfer_as, api_as
):
    tag = uuid.uuid4().hex[:6]
    baoding = make_org(name=f"竞秀区旅程调委会{tag}", region_code="130602")
    rongcheng = make_org(name=f"容城县旅程调委会{tag}", region_code="130629")
    shijiazhuang = make_org(name=f"长安区旅程调委会{tag}", region_code="130102")
    beijing = make_org(name=f"朝阳区旅程调委会{tag}", region_code="110105")
    beijing_name = beijing.name
    # March 2026 in Hebei: 竞秀区 settles one of two, 容城县 (保定市, and 雄安新区) one of one, 石家庄 one of one
    make_case_history(baoding, registered=d(3, 2), accepted=d(3, 3), concluded=d(3, 16), outcome="agreement")
    make_case_history(baoding, registered=d(3, 4), accepted=d(3, 5), concluded=d(3, 20), outcome="no_agreement")
    make_case_history(
        rongcheng, registered=d(3, 6), accepted=d(3, 9), concluded=d(3, 18), outcome="agreement", category="forest_land"
    )
    make_case_history(
        shijiazhuang, registered=d(3, 9), accepted=d(3, 10), concluded=d(3, 25), outcome="agreement", category="labour"
    )
    # a 保定 case sent to Beijing on Tue 03-10; 3 working days -> answer by Fri 03-13; Beijing never answers
    case = make_routed_case(baoding, applicant="130602", respondent="110105", received_on=d(3, 2))
    transfer = request_transfer_as(make_user(organization=baoding), case, beijing, requested_on=d(3, 10))
    assert transfer.respond_by == d(3, 13)
    transfer_id, case_number = transfer.id, case.number
    db.session.commit()
    # the scheduler's expiry run on Mon 03-16, 09:00 in Shanghai
    expire_overdue_transfers(datetime(2026, 3, 16, 1, 0, tzinfo=UTC))
    db.session.commit()
    assert transfer.status == TransferStatus.expired

    # 河北's report subscription, whose delivery of last month's report failed at the refusing endpoint
    centre = make_org(name=f"河北省综治中心{tag}", kind=OrgKind.governance_centre, region_code="130000")
    centre_name = centre.name
    subscription, _secret = subscriptions.create_subscription(
        SYSTEM,
        {"organization_id": centre.id, "region_code": "130000", "frequency": "monthly", "endpoint_url": receiver.url},
    )
    coordinator = make_user(role=Role.coordinator, region_code="130000", username=f"coord-{tag}")
    username = coordinator.username
    db.session.commit()
    now = utcnow()
    assert freeze_due_snapshots(now) == 1
    db.session.commit()
    delivery = db.session.scalar(
        db.select(ReportDelivery).join(ReportSnapshot).where(ReportSnapshot.subscription_id == subscription.id)
    )
    delivery_id = delivery.id
    moment = now
    while delivery.status != DeliveryStatus.failed:  # each retry once its backoff has passed
        assert deliver_due_reports(moment) == 1
        moment += timedelta(days=2)
        db.session.refresh(delivery)
    failed_attempts = delivery.attempts
    assert failed_attempts == len(receiver.message_ids) >= 2

    # what the API says about Hebei in March (the dashboard must read the same)
    query = "from=2026-03-01&to=2026-03-31&as_of=2026-03-31"
    api = api_as(coordinator)
    api_totals = {
        code: api.get(f"/api/v1/reports/rates?region_code={code}&{query}").json["totals"]
        for code in ("130000", "130600", "XIONGAN")
    }
    api_pairs = api.get("/api/v1/reports/flows?region_code=130000&from=2026-03-01&to=2026-03-31").json["flows"]["pairs"]
    db.session.remove()  # hold no SQLite read lock while the live server works
    # Hebei: 4 concluded, 3 agreements -> 3/4 = 75.0 %; 保定市 (竞秀区 and 容城县) 2/3 = 66.7 %;
    # 雄安新区 (容城县 only) 1/1 = 100.0 %
    assert [(t["agreement"], t["concluded"]) for t in api_totals.values()] == [(3, 4), (2, 3), (1, 1)]

    sign_in(username, FACTORY_PASSWORD)
    assert page.get_by_role("heading", name="统计看板 · 河北省").is_visible()
    assert page.inner_text("a.notice-count") == "通知 (1)"  # the escalation
    page.fill("#from", "2026-03-01")
    page.fill("#to", "2026-03-31")
    page.fill("#as_of", "2026-03-31")
    page.get_by_role("button", name="查看").click()
    page.wait_for_load_state("networkidle")
    for code, heading, rate in (
        ("130000", "河北省", "75.0%"),
        ("130600", "河北省 保定市", "66.7%"),
        ("XIONGAN", "雄安新区", "100.0%"),
    ):
        if code != "130000":
            page.select_option("#region_code", code)
            page.get_by_role("button", name="查看").click()
            page.wait_for_load_state("networkidle")
        assert page.get_by_role("heading", name=f"统计看板 · {heading}", exact=True).is_visible()
        success = page.locator("#kpi-success_rate")
        totals = api_totals[code]
        assert success.locator(".value").inner_text() == f"{totals['success_rate'] * 100:.1f}%" == rate
        assert success.locator(".numerator").inner_text() == str(totals["agreement"])
        assert success.locator(".denominator").inner_text() == str(totals["concluded"])
        assert page.locator("#kpi-received .value").inner_text() == str(totals["received"])

    # back to the whole province: the flow to Beijing shows the one expired transfer, as the API counts it
    page.select_option("#region_code", "130000")
    page.get_by_role("button", name="查看").click()
    page.wait_for_load_state("networkidle")
    [pair] = api_pairs
    flow = page.locator("#table-flows tbody tr", has_text="河北省 → 北京市").locator("td")
    assert flow.all_inner_texts()[:6] == [
        f"{pair['from_region_name']} → {pair['to_region_name']}",
        *(str(pair[k]) for k in ("total", "accepted", "declined", "expired", "pending")),
    ]
    assert (pair["total"], pair["expired"]) == (1, 1)

    # from the overdue section to the escalation list, and on to the transfer Beijing never answered
    page.locator("#overdue").get_by_role("link", name="超期升级列表").click()
    page.wait_for_load_state("networkidle")
    row = page.locator(f"table.escalations tr[data-transfer-id='{transfer_id}']")
    assert case_number in row.inner_text() and beijing_name in row.inner_text()
    assert row.locator("td.respond-by").inner_text() == "2026-03-13"
    assert "已超期" in row.inner_text()
    row.get_by_role("link", name=f"#{transfer_id}").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name=f"转办请求 #{transfer_id}").is_visible()
    assert "已超期" in page.inner_text("h1")
    assert page.inner_text("dd.respond-by").startswith("2026-03-13")
    assert page.locator("#accept-transfer").count() == 0  # nobody can answer an expired request any more
    # the case it belongs to records the expiry in its history
    page.get_by_role("link", name="打开案件").click()
    page.wait_for_selector("ol.timeline")
    assert page.locator("ol.timeline li strong").all_inner_texts()[-2:] == ["发起转办", "转办超期"]

    # the subscriptions page: the failed delivery is sent again
    nav(page, "统计看板")
    page.get_by_role("link", name="报表订阅与投递").click()
    page.wait_for_load_state("networkidle")
    failed = delivery_row(page, delivery_id)
    assert "投递失败" in failed.inner_text() and centre_name in failed.inner_text()
    assert failed.locator("td.num").inner_text() == str(failed_attempts)
    failed.get_by_role("button", name="重新投递").click()
    flash(page, "已重新加入投递队列")
    queued = delivery_row(page, delivery_id)
    assert "待投递" in queued.inner_text() and queued.get_by_role("button", name="重新投递").count() == 0

    # the centre's endpoint is back; the scheduler's next delivery run sends it
    receiver.accepting = True
    assert deliver_due_reports(utcnow() + timedelta(seconds=1)) == 1
    db.session.remove()
    page.reload()
    delivered = delivery_row(page, delivery_id)
    assert "已投递" in delivered.inner_text()
    assert delivered.locator("td.num").inner_text() == "1"  # a fresh round of attempts
    assert " · 200 · " in delivered.locator("ul.attempts").inner_text()
    # every attempt carried the same id, so the centre can drop a report it already has
    assert set(receiver.message_ids) == {receiver.message_ids[-1]} and len(receiver.message_ids) == failed_attempts + 1
    screenshot(page, "journey-coordinator")
