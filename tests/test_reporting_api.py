"""The same hand-counted figures through GET /api/v1/reports/rates, its xlsx and csv downloads, and scope."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from mediation_hub.core.actor import Role

HEBEI_MARCH = "/api/v1/reports/rates?region_code=130000&from=2026-03-01&to=2026-03-31&as_of=2026-03-31"


def test_rates_json_matches_the_hand_count(reporting_cases, api_as):
    api = api_as(role=Role.coordinator, region_code="130000")
    body = api.get(HEBEI_MARCH + "&group_by=region").json
    assert (body["from"], body["to"], body["as_of"]) == ("2026-03-01", "2026-03-31", "2026-03-31")
    totals = body["totals"]
    # see test_reporting_rates.test_hebei_march_as_of_end_of_march: 9 received, 6 concluded, 4 agreements
    assert (totals["received"], totals["concluded"], totals["agreement"], totals["completed"]) == (9, 6, 4, 7)
    assert totals["success_rate"] == 4 / 6 and totals["completion_rate"] == 7 / 9
    assert totals["rate_details"]["on_time_rate"] == {"value": 4 / 6, "numerator": 4, "denominator": 6}
    baoding = next(g for g in body["groups"] if g["key"] == "130600")
    assert (baoding["label"], baoding["received"], baoding["concluded"]) == ("保定市", 8, 5)
    empty = next(g for g in body["groups"] if g["key"] == "130200")
    assert empty["success_rate"] is None and empty["completion_rate"] is None


def test_rates_api_scope_is_404_outside_the_region(reporting_cases, api_as):
    api = api_as(role=Role.coordinator, region_code="130000")
    assert api.get("/api/v1/reports/rates?region_code=110000&from=2026-03-01&to=2026-03-31").status_code == 404
    assert api.get(f"/api/v1/reports/rates?organization_id={reporting_cases['bj'].id}").status_code == 404
    xiongan = api.get("/api/v1/reports/rates?region_code=XIONGAN&from=2026-03-01&to=2026-03-31&as_of=2026-03-31")
    assert xiongan.json["totals"]["received"] == 3
    bad = api.get("/api/v1/reports/rates?from=2026-03-31&to=2026-03-01&as_of=2026-03-31")
    assert bad.status_code == 422 and "to" in bad.json["errors"]["query"]  # a query parameter, not a json body
    assert api.get("/api/v1/reports/rates?group_by=weekday").status_code == 422


def test_xlsx_download_has_the_same_figures(reporting_cases, api_as):
    api = api_as(role=Role.coordinator, region_code="130000")
    response = api.get(HEBEI_MARCH + "&group_by=category&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"邻里", "合同", "山林土地", "劳动争议", "合计"}  # names, not internal codes
    total = by_name["合计"]
    assert (total["纠纷类别"], total["登记数"], total["办结数"], total["达成协议数"]) == ("合计", 9, 6, 4)
    assert total["调解成功率"] == 4 / 6
    assert by_name["山林土地"]["登记数"] == 2
    # 不予受理 only happened in the neighbour group; contract's single conclusion was no agreement
    assert by_name["合同"]["调解成功率"] == 0


def test_csv_download_writes_null_rates_as_empty_fields(reporting_cases, api_as):
    api = api_as(role=Role.admin)
    response = api.get("/api/v1/reports/rates?region_code=120000&from=2026-03-01&to=2026-03-31&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert total["登记数"] == "0"
    assert total["调解成功率"] == ""  # no denominator: empty, never "—" text or 0 in a column of numbers


def test_mediator_report_is_their_own_organisation(reporting_cases, api_as, make_user):
    api = api_as(make_user(role=Role.mediator, organization=reporting_cases["bj"]))
    body = api.get("/api/v1/reports/rates?from=2026-03-01&to=2026-03-31&as_of=2026-03-31").json
    # bj: received case 11; concluded 11 and the case moved in from Hebei (5)
    assert (body["scope"]["organization_id"], body["totals"]["received"], body["totals"]["concluded"]) == (
        reporting_cases["bj"].id,
        1,
        2,
    )
    assert api.get("/api/v1/reports/rates?region_code=130000").status_code == 404


def test_overdue_api_lists_open_cases_past_their_limit(reporting_cases, api_as):
    api = api_as(role=Role.coordinator, region_code="XIONGAN")
    body = api.get("/api/v1/reports/overdue?as_of=2026-03-31").json
    # only case 9 (雄县, due 03-20, still open) is overdue on 03-31: 11 days
    assert body["case_count"] == 1
    assert (body["cases"][0]["days_overdue"], body["cases"][0]["due_on"]) == (11, "2026-03-20")
