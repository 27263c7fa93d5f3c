"""Issue 13 point 7: the officials' dashboard says what it counts (ⓘ definitions, month rows labelled), shows a
bad filter beside its field on the form, and its xlsx/csv hold numbers, percentage cells and names.

The figures are counted by hand from six cases of one 保定 committee (period 2026-01-01 — 2026-03-31, as of
03-31; due = the limit in force):

 #  registered  accepted  due    concluded            category          month row it counts in
 1  02-03       02-04     03-06  03-02 agreement      邻里              Feb received, Mar concluded (on time)
 2  02-10       02-11     02-20  02-25 no_agreement   婚姻家庭          Feb received, Feb concluded (late)
 3  02-15       02-16     03-18  (open)               邻里              Feb received, not completed
 4  03-05       declined 03-06                        邻里              Mar received, completed (declined)
 5  03-10       03-11     04-10  03-20 agreement      邻里              Mar received and concluded (on time)
 6  03-12       03-13     04-12  03-25 withdrawn      邻里              Mar received and concluded (on time)

 month    本月登记 本月办结 达成协议 成功率         按期办结率     按登记月份: 已办结或不予受理  调处办结率
 2026-01  0        0        0        —              —              0                            —
 2026-02  3        1        0        0/1 = 0.0 %    0/1 = 0.0 %    2 (#1, #2)                   2/3 = 66.7 %
 2026-03  3        3        2        2/3 = 66.7 %   3/3 = 100.0 %  3 (#4, #5, #6)               3/3 = 100.0 %
 total    6        4        2        2/4 = 50.0 %   3/4 = 75.0 %   5                            5/6 = 83.3 %

February's success rate (0 %) is of the case concluded in February, its completion rate (66.7 %) of the three
cases registered in February: the month rows mix the two, and the headers must say so."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from mediation_hub.core.actor import Role
from tests.factories_reporting import d

PERIOD = "from=2026-01-01&to=2026-03-31&as_of=2026-03-31"
HEBEI = f"region_code=130000&{PERIOD}"
MONTH_HEADERS = [
    "月份",
    "本月登记数",
    "本月受理数",
    "本月不予受理数",
    "本月办结数",
    "本月达成协议数",
    "本月未达成协议数",
    "本月撤回数",
    "本月转其他途径数",
    "本月按期办结数",
    "本月按原期限办结数",
    "本月延期办结数",
    "本月登记的案件中已办结或不予受理数",
    "调解成功率（本月办结的案件）",
    "调处办结率（按登记月份）",
    "按期办结率（本月办结的案件）",
    "按原期限办结率（本月办结的案件）",
]


@pytest.fixture
def six_cases(make_org, make_case_history):
    committee = make_org(name="保定看板测试调委会", region_code="130602")
    h = make_case_history
    h(committee, registered=d(2, 3), accepted=d(2, 4), due=d(3, 6), concluded=d(3, 2), outcome="agreement")
    h(
        committee,
        registered=d(2, 10),
        accepted=d(2, 11),
        due=d(2, 20),
        concluded=d(2, 25),
        outcome="no_agreement",
        category="marriage_family",
    )
    h(committee, registered=d(2, 15), accepted=d(2, 16), due=d(3, 18))
    h(committee, registered=d(3, 5), declined=d(3, 6))
    h(committee, registered=d(3, 10), accepted=d(3, 11), due=d(4, 10), concluded=d(3, 20), outcome="agreement")
    h(committee, registered=d(3, 12), accepted=d(3, 13), due=d(4, 12), concluded=d(3, 25), outcome="withdrawn")
    return committee


@pytest.fixture
def coordinator_client(make_user, signed_in):
    return signed_in(make_user(role=Role.coordinator, region_code="130000"))


def _cells(html: str, table_id: str, key: str) -> list[str]:
    table = re.search(rf'<table id="{table_id}".*?</table>', html, re.S).group(0)
    row = re.search(rf'<tr data-key="{key}">(.*?)</tr>', table, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


# --- definitions one tap away ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kpi", "formula", "numerator", "denominator"),
    [
        (
            "success_rate",
            "调解成功率</strong> = 达成协议数 ÷ 办结数",
            "分子：本期办结的案件中，双方达成调解协议的件数",
            "分母：本期办结的全部案件数",
        ),
        (
            "completion_rate",
            "调处办结率</strong> = 已办结或不予受理数 ÷ 登记数",
            "到统计截止日已经办结或决定不予受理",
            "分母：本期登记的案件数",
        ),
        (
            "on_time_rate",
            "按期办结率</strong> = 按期办结数 ÷ 办结数",
            "在办理期限内办结的件数",
            "分母：本期办结的案件数",
        ),
    ],
)
def test_each_kpi_rate_has_its_definition_in_a_details(
    six_cases, coordinator_client, kpi, formula, numerator, denominator
):
    html = coordinator_client.get(f"/reporting?{HEBEI}").get_data(as_text=True)
    card = re.search(rf'<div class="kpi" id="kpi-{kpi}">.*?<div class="counts">', html, re.S).group(0)
    definition = re.search(r'<details class="rate-info" data-definition="(\w+)"><summary>.*?</details>', card, re.S)
    assert definition.group(1) == kpi
    text = definition.group(0)
    assert formula in text and numerator in text and denominator in text
    assert "分母为 0 时显示“—”" in text
    assert "的定义</span></summary>" in text  # a name for screen readers beside the ⓘ


def test_on_time_definition_says_extended_limits_count(six_cases, coordinator_client):
    html = coordinator_client.get(f"/reporting?{HEBEI}").get_data(as_text=True)
    on_time = re.search(r'data-definition="on_time_rate">.*?</details>', html, re.S).group(0)
    assert "经当事人同意延长的，按延长后的期限计算" in on_time


def test_every_rate_column_and_count_has_its_definition(six_cases, coordinator_client):
    html = coordinator_client.get(f"/reporting?{HEBEI}").get_data(as_text=True)
    shown = set(re.findall(r'data-definition="(\w+)"', html))
    assert shown == {
        "success_rate",
        "completion_rate",
        "on_time_rate",
        "on_time_original_rate",
        "concluded_extended",
        "received",
        "concluded",
        "agreement",
        "completed",
        "overdue",
        # the flows block (流转核对)
        "open_at_start",
        "transferred_in",
        "transferred_out",
        "declined",
        "open_at_end",
        # the transfers and legal-aid tables
        "transfers_total",
        "transfers_accepted",
        "transfers_declined",
        "transfers_expired",
        "transfers_pending",
        "acceptance_rate",
        "median_working_days",
        "applications",
        "decided",
        "decided_in_time",
        "in_time_rate",
        "granted",
        "grant_rate",
    }
    for table in ("table-category", "table-month", "table-region", "table-studio"):
        head = re.search(rf'<table id="{table}".*?</thead>', html, re.S).group(0)
        assert set(re.findall(r'data-definition="(\w+)"', head)) >= {
            "success_rate",
            "completion_rate",
            "on_time_rate",
            "on_time_original_rate",
        }, table
    assert "承办口径：按承办组织统计" in html


# --- month rows labelled --------------------------------------------------------------------------------------


def test_month_rows_say_which_figures_are_of_the_month_and_which_of_its_registrations(six_cases, coordinator_client):
    html = coordinator_client.get(f"/reporting?{HEBEI}").get_data(as_text=True)
    head = re.search(r'<table id="table-month".*?</thead>', html, re.S).group(0)
    assert re.search(r'colspan="6"[^>]*>本月发生<', head) and re.search(r'colspan="2"[^>]*>按登记月份<', head)
    columns = [
        re.sub(r"<details.*?</details>|<[^>]+>", "", th, flags=re.S).strip()
        for th in re.findall(r'<th class="num" scope="col"[^>]*>(.*?)</th>', head, re.S)
    ]
    assert columns == [
        "本月登记数",
        "本月办结数",
        "本月达成协议数",
        "调解成功率（本月办结的案件）",
        "按期办结率（本月办结的案件）",
        "按原期限办结率（本月办结的案件）",
        "本月登记的案件中已办结或不予受理数",
        "调处办结率（按登记月份）",
    ]
    # the hand count of the module docstring (no limit was extended: the original limits give the same rate)
    assert _cells(html, "table-month", "2026-01") == ["2026年1月", "0", "0", "0", "—", "—", "—", "0", "—"]
    assert _cells(html, "table-month", "2026-02") == [
        "2026年2月",
        "3",
        "1",
        "0",
        "0.0%",
        "0.0%",
        "0.0%",
        "2",
        "66.7%",
    ]
    assert _cells(html, "table-month", "2026-03") == [
        "2026年3月",
        "3",
        "3",
        "2",
        "66.7%",
        "100.0%",
        "100.0%",
        "3",
        "100.0%",
    ]
    assert "到统计截止日 2026-03-31 已办结或不予受理" in html


def test_totals_match_the_hand_count(six_cases, coordinator_client):
    html = coordinator_client.get(f"/reporting?{HEBEI}").get_data(as_text=True)
    for kpi, value, numerator, denominator in (
        ("success_rate", "50.0%", 2, 4),
        ("completion_rate", "83.3%", 5, 6),
        ("on_time_rate", "75.0%", 3, 4),
    ):
        card = re.search(
            rf'id="kpi-{kpi}">.*?class="value"[^>]*>([^<]*)<.*?class="numerator">(\d+)<.*?'
            r'class="denominator">(\d+)<',
            html,
            re.S,
        )
        assert card.groups() == (value, str(numerator), str(denominator)), kpi


# --- filter errors on the form ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "field", "message"),
    [
        ("from=2026-03-31&to=2026-03-01&as_of=2026-03-31", 422, "to", "结束日期 2026-03-01 早于开始日期 2026-03-31"),
        (
            "from=2026-03-01&to=2026-03-31&as_of=2026-02-01",
            422,
            "as_of",
            "统计截止日 2026-02-01 早于开始日期 2026-03-01",
        ),
        ("from=2026-13-45&to=2026-03-31", 422, "from", "请按 年-月-日 填写日期"),
        ("region_code=999999&from=2026-03-01&to=2026-03-31", 422, "region_code", "没有这个地区"),
        ("region_code=110000&from=2026-03-01&to=2026-03-31", 404, "region_code", "不在您的统计范围内"),
    ],
)
@pytest.mark.parametrize("path", ["/reporting", "/reporting/download.xlsx"])
def test_a_bad_filter_reshows_the_form_with_a_chinese_message_beside_the_field(
    six_cases, coordinator_client, path, query, status, field, message
):
    response = coordinator_client.get(f"{path}?{query}")
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    form = re.search(r'<form [^>]*id="dashboard-filters".*?</form>', html, re.S).group(0)
    beside = re.search(
        rf'<div class="field has-error">\s*<label for="{field}">.*?id="{field}-errors">(.*?)</ul>', form, re.S
    )
    assert beside and message in beside.group(1)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', form)
    assert form.count("has-error") == 1  # only the field at fault is marked
    for typed in re.findall(r"(?:from|to|as_of)=([\d-]+)", query):  # what the person typed stays in the boxes
        assert f'value="{typed}"' in form
    assert "筛选条件有误" in html and 'id="kpi-success_rate"' not in html
    for internal in ("json", "from_", "date_from", "not found", "Unprocessable"):
        assert internal not in html


def test_a_phone_keyboard_date_is_understood_and_shown_back_in_iso(six_cases, coordinator_client):
    html = coordinator_client.get("/reporting?region_code=130000&from=20260101&to=2026/3/31&as_of=2026.3.31")
    assert html.status_code == 200
    form = re.search(r'<form [^>]*id="dashboard-filters".*?</form>', html.get_data(as_text=True), re.S).group(0)
    assert 'value="2026-01-01"' in form and 'value="2026-03-31"' in form


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-03-01&to=2026-03-31&as_of=2026-02-01", "as_of"),
        ("from=2026-03-31&to=2026-03-01&as_of=2026-03-31", "to"),
    ],
)
def test_the_api_files_period_errors_under_the_query(six_cases, api_as, query, field):
    api = api_as(role=Role.coordinator, region_code="130000")
    response = api.get(f"/api/v1/reports/rates?region_code=130000&{query}")
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {"query"} and set(errors["query"]) == {field}
    assert "早于开始日期" in errors["query"][field][0]


# --- the xlsx and the csv --------------------------------------------------------------------------------------


def _rows(sheet) -> list[list]:
    return [[cell for cell in row] for row in sheet.iter_rows()]


def test_dashboard_xlsx_month_sheet_has_numbers_percent_cells_and_empty_rates(six_cases, coordinator_client):
    response = coordinator_client.get(f"/reporting/download.xlsx?{HEBEI}")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    rows = _rows(workbook["月度趋势"])
    assert [c.value for c in rows[0]] == MONTH_HEADERS
    by_month = {row[0].value: dict(zip(MONTH_HEADERS, row, strict=True)) for row in rows[1:]}
    assert list(by_month) == ["2026年1月", "2026年2月", "2026年3月"]
    january, february, march = by_month.values()
    assert [january[h].value for h in MONTH_HEADERS[1:13]] == [0] * 12
    for header in MONTH_HEADERS[13:]:  # no denominator: an empty cell, not "—" and not 0
        assert january[header].value is None, header
    expected = {  # (本月登记, 本月办结, 达成协议, 本月按期办结, 已办结或不予受理, 成功率, 调处办结率, 按期办结率,
        #  按原期限办结率: no limit was extended, so the same as 按期办结率)
        "2026年2月": (3, 1, 0, 0, 2, 0 / 1, 2 / 3, 0 / 1, 0 / 1),
        "2026年3月": (3, 3, 2, 3, 3, 2 / 3, 3 / 3, 3 / 3, 3 / 3),
    }
    for month, row in (("2026年2月", february), ("2026年3月", march)):
        counts = [
            row[h]
            for h in (
                "本月登记数",
                "本月办结数",
                "本月达成协议数",
                "本月按期办结数",
                "本月登记的案件中已办结或不予受理数",
            )
        ]
        rates = [row[h] for h in MONTH_HEADERS[13:]]
        assert [c.value for c in counts] == list(expected[month][:5])
        assert all(c.data_type == "n" and isinstance(c.value, int) for c in counts)
        assert [c.value for c in rates] == pytest.approx(expected[month][5:])
        assert all(c.data_type == "n" and c.number_format == "0.0%" for c in rates)


def test_dashboard_xlsx_totals_and_names_not_codes(six_cases, coordinator_client):
    workbook = load_workbook(io.BytesIO(coordinator_client.get(f"/reporting/download.xlsx?{HEBEI}").data))
    header, total = ([c.value for c in row] for row in workbook["合计"].iter_rows())
    total = dict(zip(header, total, strict=True))
    assert (total["范围"], total["登记数"], total["办结数"], total["达成协议数"], total["已办结或不予受理数"]) == (
        "合计",
        6,
        4,
        2,
        5,
    )
    assert (total["调解成功率"], total["调处办结率"], total["按期办结率"]) == pytest.approx((2 / 4, 5 / 6, 3 / 4))
    categories = {row[0]: row[1] for row in workbook["按纠纷类别"].iter_rows(min_row=2, values_only=True)}
    assert categories == {"婚姻家庭": 1, "邻里": 5}
    regions = {row[0]: row[1] for row in workbook["下级地区"].iter_rows(min_row=2, values_only=True)}
    assert regions["保定市"] == 6 and regions["石家庄市"] == 0
    for sheet in workbook.worksheets:  # no internal codes (marriage_family, total, 130600, an organisation id)
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and re.fullmatch(r"[a-z_]+|\d{6}", value)), (sheet.title, value)
    notes = [row for row in workbook["说明"].iter_rows(values_only=True) if row and row[0] == "调解成功率"]
    assert notes and notes[0][1] == "达成协议数 ÷ 办结数"


def test_api_xlsx_and_csv_by_month_have_the_same_labels(six_cases, api_as):
    api = api_as(role=Role.coordinator, region_code="130000")
    url = f"/api/v1/reports/rates?{HEBEI}&group_by=month"
    sheet = load_workbook(io.BytesIO(api.get(url + "&format=xlsx").data)).worksheets[0]
    rows = _rows(sheet)
    assert [c.value for c in rows[0]] == MONTH_HEADERS
    assert [c.value for c in rows[-1]][:2] == ["合计", 6]
    completion = rows[2][MONTH_HEADERS.index("调处办结率（按登记月份）")]
    assert (completion.value, completion.number_format) == (pytest.approx(2 / 3), "0.0%")
    text = api.get(url + "&format=csv").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [*MONTH_HEADERS, "统计口径", "统计截至"]  # each row says its basis and the day counted to
    january = dict(zip(lines[0], lines[1], strict=True))
    assert (january["月份"], january["本月登记数"], january["调解成功率（本月办结的案件）"]) == ("2026年1月", "0", "")
