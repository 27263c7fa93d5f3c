"""The same hand-counted figures through GET /api/v1/reports/rates, its xlsx and csv downloads, and scope."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
import time_machine
from openpyxl import load_workbook

from mediation_hub.core.actor import Role
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.registry.models import OrgKind
from tests.factories_reporting import d

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


# --- the two bases (issue 17) ---------------------------------------------------------------------------------

MARCH_Q = "from=2026-03-01&to=2026-03-31&as_of=2026-03-31"


@pytest.fixture
def places(make_org, make_case_history):
    """Three March cases. A: handled by the 保定竞秀区 committee (130602), the dispute arose in 北京东城 (110101),
    registered 03-02, accepted 03-03 (due 04-02), agreement 03-20. B: the same committee, arose in 竞秀区, registered
    03-05, accepted 03-06, still open. C: the 北京朝阳 committee (110105), arose there, registered 03-06, accepted 03-07
    (due 04-06), no agreement 03-25."""
    bd, bj = make_org(region_code="130602"), make_org(region_code="110105")
    h = make_case_history
    h(bd, registered=d(3, 2), accepted=d(3, 3), concluded=d(3, 20), outcome="agreement", occurred="110101")
    h(bd, registered=d(3, 5), accepted=d(3, 6))
    h(bj, registered=d(3, 6), accepted=d(3, 7), concluded=d(3, 25), outcome="no_agreement")
    return {"bd": bd, "bj": bj}


def _totals(body: dict) -> tuple[int, int, int]:
    return body["totals"]["received"], body["totals"]["concluded"], body["totals"]["agreement"]


def test_a_case_handled_in_baoding_that_arose_in_beijing_counts_for_each_on_its_basis(places, api_as):
    api = api_as(role=Role.admin)
    rates = f"/api/v1/reports/rates?{MARCH_Q}"
    occurred_beijing = api.get(f"{rates}&region_code=110000&basis=occurred").json
    handled_beijing = api.get(f"{rates}&region_code=110000&basis=handled").json
    handled_baoding = api.get(f"{rates}&region_code=130600&basis=handled").json
    occurred_baoding = api.get(f"{rates}&region_code=130600&basis=occurred").json
    # 北京 by place: A (arose in 东城) and C; concluded both, one agreement (A): success 1/2
    assert (occurred_beijing["basis"], _totals(occurred_beijing)) == ("occurred", (2, 2, 1))
    assert occurred_beijing["totals"]["success_rate"] == 1 / 2
    # 北京 by handler: C only (A was handled in 保定)
    assert (handled_beijing["basis"], _totals(handled_beijing)) == ("handled", (1, 1, 0))
    # 保定 by handler: A and B registered, A concluded with an agreement; by place: B only, still open
    assert _totals(handled_baoding) == (2, 1, 1)
    assert _totals(occurred_baoding) == (1, 0, 0)
    # A place never moves: nothing handed in or out; open on 03-31: none of 北京's disputes, B in 保定
    assert occurred_beijing["case_flows"] == {
        "open_at_start": 0,
        "registered": 2,
        "transferred_in": 0,
        "transferred_out": 0,
        "concluded": 2,
        "declined": 0,
        "open_at_end": 0,
    }
    assert handled_baoding["case_flows"] == {
        "open_at_start": 0,
        "registered": 2,
        "transferred_in": 0,
        "transferred_out": 0,
        "concluded": 1,
        "declined": 0,
        "open_at_end": 1,
    }
    # the new figures: A due 04-02 (03-03 + 30), C due 04-06, neither extended: both on time against both limits
    totals = occurred_beijing["totals"]
    assert (totals["concluded_on_time_original"], totals["concluded_extended"]) == (2, 0)
    assert totals["on_time_original_rate"] == 1.0
    assert totals["rate_details"]["on_time_original_rate"] == {"value": 1.0, "numerator": 2, "denominator": 2}
    assert api.get(f"{rates}&region_code=110000").json["basis"] == "handled"  # an administrator's default


def test_a_governance_centre_reads_by_place_unless_it_asks_or_names_an_organisation(
    places, make_org, make_user, api_as
):
    centre = make_org(kind=OrgKind.governance_centre, region_code="110000")
    api = api_as(make_user(role=Role.coordinator, organization=centre, region_code="110000"))
    mine = api.get(f"/api/v1/reports/rates?{MARCH_Q}").json
    assert (mine["scope"]["region_code"], mine["basis"], _totals(mine)) == ("110000", "occurred", (2, 2, 1))
    assert api.get(f"/api/v1/reports/rates?{MARCH_Q}&basis=handled").json["totals"]["received"] == 1
    # an organisation's figures exist only as it handled them: asked without a basis, answered on that one
    committee = api.get(f"/api/v1/reports/rates?{MARCH_Q}&organization_id={places['bj'].id}")
    assert committee.status_code == 200 and (committee.json["basis"], _totals(committee.json)) == ("handled", (1, 1, 0))
    by_org = api.get(f"/api/v1/reports/rates?{MARCH_Q}&group_by=organization")
    assert by_org.status_code == 200 and by_org.json["basis"] == "handled"


def test_counted_to_is_the_earlier_of_to_and_as_of(places, api_as):
    api = api_as(role=Role.admin)
    early = api.get("/api/v1/reports/rates?region_code=130600&from=2026-03-01&to=2026-03-31&as_of=2026-03-15").json
    assert (early["to"], early["as_of"], early["counted_to"]) == ("2026-03-31", "2026-03-15", "2026-03-15")
    # up to 03-15 保定 registered A and B and concluded nothing (A concludes 03-20): both open
    assert _totals(early) == (2, 0, 0) and early["case_flows"]["open_at_end"] == 2
    late = api.get("/api/v1/reports/rates?region_code=130600&from=2026-03-01&to=2026-03-31&as_of=2026-05-01").json
    assert (late["as_of"], late["counted_to"]) == ("2026-05-01", "2026-03-31")
    assert _totals(late) == (2, 1, 1)


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("region_code=110000&basis=bogus", "basis", "not_one_of"),  # the schema's check
        ("organization_id={bj}&basis=occurred", "basis", "occurred_needs_region"),  # the service's
        ("studio_id={studio}&basis=occurred", "basis", "occurred_needs_region"),
        ("region_code=110000&group_by=studio&basis=occurred", "group_by", "occurred_grouping"),
        ("region_code=110000&group_by=organization&basis=occurred", "group_by", "occurred_grouping"),
        ("from=2026-03-10&to=2026-03-31&as_of=2026-03-09", "as_of", "as_of_before_from"),
        ("to=2026-03-31&as_of=2025-12-31", "as_of", "as_of_before_from"),  # no from: 1 January of to's year
        ("from=2026-03-31&to=2026-03-01", "to", "period_reversed"),
    ],
)
def test_a_refused_rates_query_is_filed_under_query(places, make_studio, api_as, query, field, code):
    studio = make_studio(organization=places["bj"])
    query = query.format(bj=places["bj"].id, studio=studio.id)
    refused = api_as(role=Role.admin).get(f"/api/v1/reports/rates?{query}")
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"query"}  # every input of a report is a query parameter, never json
    assert refused.json["error_codes"]["query"][field] == [code]


def test_as_of_with_no_period_is_checked_against_the_default_start(places, api_as):
    with time_machine.travel(datetime(2026, 4, 10, 10, tzinfo=SHANGHAI), tick=False):
        api = api_as(role=Role.admin)
        # no from, no to: 1 January 2026 to today (04-10); as_of 2025-12-31 lies before the start
        refused = api.get("/api/v1/reports/rates?as_of=2025-12-31")
        assert refused.status_code == 422 and refused.json["error_codes"] == {"query": {"as_of": ["as_of_before_from"]}}
        answer = api.get("/api/v1/reports/rates?region_code=110000&basis=occurred")
        assert (answer.json["from"], answer.json["to"], answer.json["as_of"]) == (
            "2026-01-01",
            "2026-04-10",
            "2026-04-10",
        )
        assert answer.json["counted_to"] == "2026-04-10" and _totals(answer.json) == (2, 2, 1)


def test_flows_and_overdue_file_their_refusals_under_query_and_flows_say_counted_to(places, api_as):
    with time_machine.travel(datetime(2026, 4, 10, 10, tzinfo=SHANGHAI), tick=False):
        api = api_as(role=Role.admin)
        reversed_period = api.get("/api/v1/reports/flows?from=2026-03-31&to=2026-03-01")
        assert reversed_period.status_code == 422
        assert reversed_period.json["error_codes"] == {"query": {"to": ["period_reversed"]}}
        # transfers have no basis: counted up to the earlier of to and today (04-10)
        march = api.get("/api/v1/reports/flows?from=2026-03-01&to=2026-03-31").json
        assert (march["to"], march["counted_to"]) == ("2026-03-31", "2026-03-31") and "basis" not in march
        april = api.get("/api/v1/reports/flows?from=2026-04-01&to=2026-04-30").json
        assert (april["to"], april["counted_to"]) == ("2026-04-30", "2026-04-10")
        bad_day = api.get("/api/v1/reports/overdue?as_of=2026-02-30")
        assert bad_day.status_code == 422 and set(bad_day.json["errors"]) == {"query"}


def test_a_service_refusal_of_a_query_parameter_elsewhere_is_filed_under_query_too(api_as):
    """The root (errors.input_location): a GET has no body, whatever layer refuses its parameter."""
    refused = api_as(role=Role.admin).get("/api/v1/cases?region_code=999999")
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["query"]


def test_the_openapi_document_describes_the_bases(client):
    spec = client.get("/api/v1/openapi.json").json
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/reports/rates"]["get"]["parameters"]}
    # apispec lists the None of "not given" beside the two values
    assert parameters["basis"]["in"] == "query" and set(parameters["basis"]["schema"]["enum"]) == {
        "handled",
        "occurred",
        None,
    }
    schemas = spec["components"]["schemas"]
    assert {"basis", "counted_to", "case_flows"} <= set(schemas["RatesReportOut"]["properties"])
    assert set(schemas["CaseFlows"]["properties"]) == {
        "open_at_start",
        "registered",
        "transferred_in",
        "transferred_out",
        "concluded",
        "declined",
        "open_at_end",
    }
    block = schemas["RateBlock"]["properties"]
    assert {"concluded_on_time_original", "concluded_extended", "on_time_original_rate"} <= set(block)
    assert "counted_to" in schemas["FlowsOut"]["properties"]
    assert set(schemas["SubscriptionIn"]["properties"]["basis"]["enum"]) == {"handled", "occurred", None}
    assert "basis" in schemas["SubscriptionOut"]["properties"]
    assert {"basis", "counted_to"} <= set(schemas["SnapshotSummaryOut"]["properties"])
