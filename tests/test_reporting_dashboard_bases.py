"""The dashboard on both bases (属地 / 承办), its flows block (流转核对), 统计截至, the time limits both ways, the
definitions one tap away, the xlsx whose headers are the page's, and the rates report's xlsx and csv.

Eight case histories of March 2026, counted by hand. Organisations: bd 保定竞秀区 (130602), bj 北京朝阳 (110105).

 #  handled by  occurred    registered accepted due (original)  concluded / declined / moved     open 03-31
 A  bd          110101 京   03-02      03-03    04-02           03-20 agreement
 B  bd          130602      03-05      03-06    04-05                                            yes (bd)
 C  bd          130602      03-04      03-05    04-04 (03-20)   03-25 agreement (extended)
 D  bj          130602      03-06      03-07    04-06                                            yes (bj)
 E  bd → bj     130602      03-08      03-09    04-08           moved to bj 03-12; bj 03-28 no_agreement
 F  bd          130602      02-20      02-21    03-23           03-10 agreement (registered in February)
 G  bd          130602      03-10                               declined 03-11
 H  bd          110105 京   03-12      03-13    04-12                                            yes (bd)

河北 130000, 承办 (handled by a Hebei organisation when it happened):
  registered A B C E G H = 6; concluded A C F = 3 (E concluded in Beijing), all agreements: success 3/3;
  completed of the six by 03-31: A C E G = 4, completion 4/6 = 66.7 %; on time A C F = 3 (3/3), against the
  original limits A F = 2 (2/3 = 66.7 %: C 03-25 > 03-20), extended C = 1;
  flows: open on 02-28 F = 1, + 6 registered + 0 in − 1 out (E) = 6 = 3 concluded + 1 declined (G) + 2 open (B H).
河北 130000, 属地 (the dispute arose in Hebei):
  registered B C D E G = 5; concluded C E F = 3, agreements C F: success 2/3 = 66.7 %; completed C E G = 3, 3/5 = 60 %;
  on time C E F = 3, original E F = 2, extended C = 1;
  flows: 1 (F) + 5 + 0 − 0 = 6 = 3 + 1 + 2 open (B D); a place never moves.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
import time_machine
from openpyxl import load_workbook

from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.registry.models import OrgKind
from mediation_hub.reporting.export import report_download
from mediation_hub.reporting.service import rates_report
from tests.factories_reporting import d

MARCH = "from=2026-03-01&to=2026-03-31&as_of=2026-03-31"
HEBEI = f"region_code=130000&{MARCH}"


@pytest.fixture
def histories(make_org, make_case_history):
    bd, bj = make_org(region_code="130602"), make_org(region_code="110105")
    h = make_case_history
    h(bd, registered=d(3, 2), accepted=d(3, 3), concluded=d(3, 20), outcome="agreement", occurred="110101")
    h(bd, registered=d(3, 5), accepted=d(3, 6))
    h(
        bd,
        registered=d(3, 4),
        accepted=d(3, 5),
        original_due=d(3, 20),
        due=d(4, 4),
        concluded=d(3, 25),
        outcome="agreement",
    )
    h(bj, registered=d(3, 6), accepted=d(3, 7), occurred="130602")
    h(bd, registered=d(3, 8), accepted=d(3, 9), concluded=d(3, 28), outcome="no_agreement", moved=[(d(3, 12), bj)])
    h(bd, registered=d(2, 20), accepted=d(2, 21), concluded=d(3, 10), outcome="agreement")
    h(bd, registered=d(3, 10), declined=d(3, 11))
    h(bd, registered=d(3, 12), accepted=d(3, 13), occurred="110105")
    return {"bd": bd, "bj": bj}


def _kpi(html: str, name: str) -> tuple[str, str, str]:
    block = re.search(
        rf'id="kpi-{name}".*?class="value"[^>]*>([^<]*)<.*?class="numerator">(\d+)<.*?class="denominator">(\d+)<',
        html,
        re.S,
    )
    assert block, name
    return block.group(1), block.group(2), block.group(3)


def _count_kpi(html: str, name: str) -> str:
    return re.search(rf'id="kpi-{name}".*?class="value">(\d+)<', html, re.S).group(1)


def _flows(html: str) -> dict[str, int]:
    return {key: int(value) for key, value in re.findall(r'data-flow="(\w+)">(\d+)<', html)}


def _identity(html: str) -> str:
    return re.search(r'id="flow-identity"[^>]*>([^<]*)<', html).group(1)


def _page(client, query: str) -> str:
    response = client.get(f"/reporting?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_handled_basis_counts_where_the_cases_were_handled(histories, make_user, signed_in):
    html = _page(signed_in(make_user(role=Role.admin)), f"{HEBEI}&basis=handled")
    assert re.search(r'id="basis-title" data-basis="handled"><strong>承办口径：按承办组织统计</strong>', html)
    assert _count_kpi(html, "received") == "6"
    assert _kpi(html, "success_rate") == ("100.0%", "3", "3")
    assert _kpi(html, "completion_rate") == ("66.7%", "4", "6")
    # the time limit both ways: in force 3/3, original 2/3, one case concluded after an extension
    assert _kpi(html, "on_time_rate") == ("100.0%", "3", "3")
    assert _kpi(html, "on_time_original_rate") == ("66.7%", "2", "3")
    assert _count_kpi(html, "concluded_extended") == "1"
    assert _flows(html) == {
        "open_at_start": 1,
        "registered": 6,
        "transferred_in": 0,
        "transferred_out": 1,
        "concluded": 3,
        "declined": 1,
        "open_at_end": 2,
    }
    assert _identity(html) == "期初在办 1 + 登记 6 + 转入 0 − 转出 1 = 办结 3 + 不予受理 1 + 期末在办 2"
    assert 'data-balanced="true"' in html and 'id="flows-unbalanced"' not in html
    # the studios are there on the handled basis
    assert 'id="table-studio"' in html and 'id="studios-hidden"' not in html


def test_occurred_basis_counts_where_the_disputes_arose(histories, make_user, signed_in):
    html = _page(signed_in(make_user(role=Role.admin)), f"{HEBEI}&basis=occurred")
    assert re.search(r'id="basis-title" data-basis="occurred"><strong>属地口径：按纠纷发生地统计</strong>', html)
    assert _count_kpi(html, "received") == "5"
    assert _kpi(html, "success_rate") == ("66.7%", "2", "3")
    assert _kpi(html, "completion_rate") == ("60.0%", "3", "5")
    assert _kpi(html, "on_time_rate") == ("100.0%", "3", "3")
    assert _kpi(html, "on_time_original_rate") == ("66.7%", "2", "3")
    assert _identity(html) == "期初在办 1 + 登记 5 + 转入 0 − 转出 0 = 办结 3 + 不予受理 1 + 期末在办 2"
    # a place has no studios: the table is replaced by the one line saying why
    assert 'id="table-studio"' not in html and 'id="chart-studio"' not in html
    assert re.search(r'id="studios-hidden">属地口径按纠纷发生地统计，而工作室属于承办组织', html)
    # the sections that do not follow the basis say so
    assert html.count("本节按承办组织统计，不随统计口径切换。") == 3


def test_beijing_gains_on_the_occurred_basis(histories, make_user, signed_in):
    client = signed_in(make_user(role=Role.admin))
    # 承办: bj registered D and took E in (a move across Beijing's boundary), concluded E; open at the end D
    handled = _page(client, f"region_code=110000&{MARCH}&basis=handled")
    assert _identity(handled) == "期初在办 0 + 登记 1 + 转入 1 − 转出 0 = 办结 1 + 不予受理 0 + 期末在办 1"
    # 属地: A and H arose in Beijing whoever handled them; A concluded, H still open
    occurred = _page(client, f"region_code=110000&{MARCH}&basis=occurred")
    assert _identity(occurred) == "期初在办 0 + 登记 2 + 转入 0 − 转出 0 = 办结 1 + 不予受理 0 + 期末在办 1"


def test_the_switch_keeps_the_filters_and_marks_the_basis_shown(histories, make_user, signed_in):
    html = _page(signed_in(make_user(role=Role.admin)), f"{HEBEI}&basis=handled")
    switch = re.search(r'<nav class="basis-switch".*?</nav>', html, re.S).group(0)
    links = re.findall(r'<a href="([^"]+)" class="segment( current)?" data-basis="(\w+)"[^>]*>([^<]+)</a>', switch)
    assert [(basis, name, bool(current)) for _url, current, basis, name in links] == [
        ("occurred", "属地", False),
        ("handled", "承办", True),
    ]
    occurred_url = links[0][0].replace("&amp;", "&")
    for kept in ("region_code=130000", "from=2026-03-01", "to=2026-03-31", "as_of=2026-03-31", "basis=occurred"):
        assert kept in occurred_url
    assert 'aria-current="page">承办</a>' in switch
    # the filter form sends the basis shown, so 查看 keeps it; the xlsx link too
    assert '<input type="hidden" name="basis" value="handled">' in html
    assert re.search(r'id="download-xlsx" href="[^"]*basis=handled', html)


def test_a_governance_centre_sees_its_territory_unless_it_asks(histories, make_org, make_user, signed_in):
    centre = make_org(kind=OrgKind.governance_centre, region_code="130000")
    client = signed_in(make_user(role=Role.coordinator, region_code="130000", organization=centre))
    assert _count_kpi(_page(client, HEBEI), "received") == "5"  # 属地 by default
    assert _count_kpi(_page(client, f"{HEBEI}&basis=handled"), "received") == "6"
    # a coordinator of no governance centre: 承办 by default
    coordinator = signed_in(make_user(role=Role.coordinator, region_code="130000"))
    html = _page(coordinator, HEBEI)
    assert re.search(r'id="basis-title" data-basis="handled"', html) and _count_kpi(html, "received") == "6"


def test_an_unknown_basis_is_shown_beside_the_switch(histories, make_user, signed_in):
    response = signed_in(make_user(role=Role.admin)).get(f"/reporting?{HEBEI}&basis=county")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="basis-errors"><li>统计口径须为属地或承办</li>', html)
    # the form does not send the wrong word again
    assert '<input type="hidden" name="basis" value="handled">' in html


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("region_code=130000&from=2026-03-01&to=2026-03-31&as_of=2026-03-20", "2026-03-20"),
        ("region_code=130000&from=2026-03-01&to=2026-03-31&as_of=2026-03-31", None),
        ("region_code=130000&from=2026-03-01&to=2026-03-31&as_of=2026-04-30", None),  # counted to 03-31 = to
    ],
)
def test_counted_to_shows_only_when_the_period_is_not_over(histories, make_user, signed_in, query, shown):
    html = _page(signed_in(make_user(role=Role.admin)), query)
    found = re.search(r'id="counted-to"><strong>统计截至 ([\d-]+)：之后发生的事未计入。</strong>', html)
    assert (found.group(1) if found else None) == shown


def test_counted_to_defaults_to_today(histories, make_user, signed_in):
    with time_machine.travel(datetime(2026, 3, 20, 10, tzinfo=SHANGHAI), tick=False):
        html = _page(
            signed_in(make_user(role=Role.admin)), "region_code=130000&from=2026-03-01&to=2026-03-31&basis=handled"
        )
    assert re.search(r'id="counted-to"><strong>统计截至 2026-03-20：', html)
    # by 03-20: registered A B C E G H (6); concluded A (03-20) and F; C, E open then; G declined; B H open
    assert _identity(html) == "期初在办 1 + 登记 6 + 转入 0 − 转出 1 = 办结 2 + 不予受理 1 + 期末在办 3"


def test_every_figure_title_opens_its_definition(histories, make_user, signed_in):
    html = _page(signed_in(make_user(role=Role.admin)), f"{HEBEI}&basis=handled")
    headers = re.findall(r'<th class="num" scope="col" data-figure="(\w+)">(.*?)</th>', html, re.S)
    assert {name for name, _cell in headers} >= {
        "received",
        "concluded",
        "success_rate",
        "completion_rate",
        "on_time_rate",
        "on_time_original_rate",
        "open_at_start",
        "transferred_in",
        "transferred_out",
        "open_at_end",
        "declined",
        "total",  # the transfers' 转办数
        "acceptance_rate",
        "applications",  # legal aid's 申请数
        "grant_rate",
    }
    for name, cell in headers:
        assert '<details class="rate-info"' in cell and "<summary>" in cell, name
    kpis = re.findall(
        r'<div class="kpi" id="kpi-(\w+)">\s*<div class="label">(.*?)</div>\s*<div class="value"', html, re.S
    )
    assert len(kpis) == 8  # four rates, 延期办结数, 登记数, 办结数, 超期未结
    assert [name for name, label in kpis if '<details class="rate-info"' not in label] == []
    # the definitions an official reads: what the completion and success rates count, in words
    completion = re.search(r'data-definition="completion_rate">.*?</details>', html, re.S).group(0)
    assert "本期登记的案件中，到统计截止日已经办结或决定不予受理的件数" in completion
    success = re.search(r'data-definition="success_rate">.*?</details>', html, re.S).group(0)
    assert "本期办结的案件中，双方达成调解协议的件数" in success
    original = re.search(r'data-definition="on_time_original_rate">.*?</details>', html, re.S).group(0)
    assert "按原期限办结数 ÷ 办结数" in original


def _table_headers(html: str, table_id: str) -> list[str]:
    """The header words of a page table, without the definitions the ⓘ opens."""
    table = re.search(rf'<table id="{table_id}".*?</thead>', html, re.S).group(0)
    table = re.sub(r"<details.*?</details>", "", table, flags=re.S)
    return [re.sub(r"<[^>]+>", "", th).strip() for th in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]


SHEETS = {
    "table-case-flows": "流转核对",
    "table-category": "按纠纷类别",
    "table-month": "月度趋势",
    "table-region": "下级地区",
    "table-studio": "调解工作室",
    "table-flows": "跨区域流转",
    "table-legal-aid": "法律援助",
    "table-overdue": "超期案件",
}


def test_xlsx_headers_are_the_page_headers(histories, make_user, signed_in):
    client = signed_in(make_user(role=Role.coordinator, region_code="130000"))
    html = _page(client, f"{HEBEI}&basis=handled")
    workbook = load_workbook(io.BytesIO(client.get(f"/reporting/download.xlsx?{HEBEI}&basis=handled").data))
    for table_id, sheet in SHEETS.items():
        page_headers = _table_headers(html, table_id)
        # the first column names the rows (月份, 流向 …); the month table's two group headers span columns
        shown = [
            h for h in page_headers if h not in ("纠纷类别", "月份", "地区", "工作室", "流向", "本月发生", "按登记月份")
        ]
        xlsx_header = next(workbook[sheet].iter_rows(max_row=1, values_only=True))
        assert shown, table_id
        missing = [h for h in shown if h not in xlsx_header]
        assert not missing, (table_id, missing, xlsx_header)
    assert _table_headers(html, "table-category")[1] == "登记数" == workbook["按纠纷类别"]["B1"].value
    assert _table_headers(html, "table-month")[3] == "本月登记数"


def test_dashboard_xlsx_says_its_basis_and_counts_the_flows(histories, make_user, signed_in):
    client = signed_in(make_user(role=Role.admin))
    response = client.get("/reporting/download.xlsx?region_code=130000&from=2026-03-01&to=2026-03-31&as_of=2026-03-20")
    workbook = load_workbook(io.BytesIO(response.data))
    # an administrator's default is 承办; the as-of date ends the count before the period does
    notes = {row[0]: row[1] for row in workbook["说明"].iter_rows(values_only=True) if row and row[0]}
    assert (notes["统计口径"], notes["统计截至"], notes["统计截止日"]) == ("承办", "2026-03-20", "2026-03-20")
    assert notes["口径说明"].startswith("承办口径：按承办组织统计。")
    rows = list(workbook["流转核对"].iter_rows(values_only=True))
    assert rows[0] == ("期初在办数", "登记数", "转入数", "转出数", "办结数", "不予受理数", "期末在办数")
    assert rows[1] == (1, 6, 0, 1, 2, 1, 3)  # as in test_counted_to_defaults_to_today
    assert rows[3][0] == "期初在办 1 + 登记 6 + 转入 0 − 转出 1 = 办结 2 + 不予受理 1 + 期末在办 3"
    header, total = list(workbook["合计"].iter_rows(values_only=True))
    total = dict(zip(header, total, strict=True))
    # by 03-20 only A and F concluded, both within their original limits
    assert (total["按期办结数"], total["按原期限办结数"], total["延期办结数"], total["按原期限办结率"]) == (2, 2, 0, 1)

    occurred = load_workbook(io.BytesIO(client.get(f"/reporting/download.xlsx?{HEBEI}&basis=occurred").data))
    notes = {row[0]: row[1] for row in occurred["说明"].iter_rows(values_only=True) if row and row[0]}
    assert notes["统计口径"] == "属地" and "调解工作室" not in occurred.sheetnames  # as on the page
    header, total = list(occurred["合计"].iter_rows(values_only=True))
    total = dict(zip(header, total, strict=True))
    assert (total["登记数"], total["按原期限办结数"], total["延期办结数"], total["按原期限办结率"]) == (5, 2, 1, 2 / 3)


def _download(app, fmt: str, **query) -> bytes:
    """The rates report's download (the API's ``format=xlsx|csv``), built for the system actor."""
    with app.test_request_context("/api/v1/reports/rates"):
        report = rates_report(SYSTEM, date_from=d(3, 1), date_to=d(3, 31), **query)
        return report_download(report, fmt).get_data()


def test_csv_has_the_new_columns_and_says_its_basis(histories, app):
    rows = list(
        csv.reader(io.StringIO(_download(app, "csv", region_code="130000", as_of=d(3, 31), basis="occurred").decode()))
    )
    header, total = rows[0], dict(zip(rows[0], rows[-1], strict=True))
    assert header[0].lstrip("\ufeff") == "范围"
    assert header[1:] == [
        "登记数",
        "受理数",
        "不予受理数",
        "办结数",
        "达成协议数",
        "未达成协议数",
        "撤回数",
        "转其他途径数",
        "按期办结数",
        "按原期限办结数",
        "延期办结数",
        "已办结或不予受理数",
        "调解成功率",
        "调处办结率",
        "按期办结率",
        "按原期限办结率",
        "统计口径",
        "统计截至",
    ]
    # 属地, 河北: 5 registered, on time C E F, within the original limits E F, C extended
    assert (total["登记数"], total["按期办结数"], total["按原期限办结数"], total["延期办结数"]) == ("5", "3", "2", "1")
    assert float(total["按原期限办结率"]) == pytest.approx(2 / 3)
    assert (total["统计口径"], total["统计截至"]) == ("属地", "2026-03-31")

    handled = list(
        csv.reader(io.StringIO(_download(app, "csv", region_code="130000", as_of=d(3, 20), basis="handled").decode()))
    )
    assert {(row[-2], row[-1]) for row in handled[1:]} == {("承办", "2026-03-20")}


def test_api_xlsx_carries_the_flows_and_the_basis(histories, app):
    workbook = load_workbook(
        io.BytesIO(_download(app, "xlsx", region_code="130000", as_of=d(3, 31), basis="occurred", group_by="month"))
    )
    assert workbook.sheetnames == ["调解统计", "流转核对", "说明"]
    header = next(workbook["调解统计"].iter_rows(max_row=1, values_only=True))
    assert {"本月按原期限办结数", "本月延期办结数", "按原期限办结率（本月办结的案件）"} <= set(header)
    flows = list(workbook["流转核对"].iter_rows(values_only=True))
    assert flows[1] == (1, 5, 0, 0, 3, 1, 2)
    assert flows[3][0] == "期初在办 1 + 登记 5 + 转入 0 − 转出 0 = 办结 3 + 不予受理 1 + 期末在办 2"
    notes = {row[0]: row[1] for row in workbook["说明"].iter_rows(values_only=True) if row and row[0]}
    assert (notes["统计口径"], notes["统计截至"]) == ("属地", "2026-03-31")
    assert notes["口径说明"].startswith("属地口径：按纠纷发生地统计。")
    # every figure's definition is on the 说明 sheet, the new ones included
    assert {"按原期限办结率", "延期办结数", "期初在办数", "转入数", "转出数", "期末在办数"} <= set(notes)
