"""Rates counted by hand from the case histories of ``reporting_cases`` (tests/factories_reporting.py)."""

from __future__ import annotations

import pytest

from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.errors import NotFound, ValidationFailed
from mediation_hub.reporting.service import rates_report, region_choices
from tests.factories_reporting import END_OF_APRIL, END_OF_MARCH, MARCH, d


def counts(block: dict) -> dict:
    keys = (
        "received",
        "accepted",
        "declined",
        "concluded",
        "agreement",
        "no_agreement",
        "withdrawn",
        "referred",
        "concluded_on_time",
        "completed",
    )
    return {k: block[k] for k in keys}


def test_hebei_march_as_of_end_of_march(reporting_cases):
    report = rates_report(SYSTEM, region_code="130000", as_of=END_OF_MARCH, **MARCH)
    totals = report["totals"]
    # received: 1,2,3,5 (registered in bd before the move),6,7,8,9,10 = 9 (4 is February, 11 Beijing, 12 April)
    # accepted in March: 1,2,5,6,7,8,9,10 = 8; declined: 3
    # concluded in Hebei in March: 1,2,4,7,8,10 = 6 (5 concluded in Beijing, 6 in April)
    #   agreement 1,4,7,10 = 4; no_agreement 2; referred 8; on time 1,4,7,8 = 4 (2 and 10 late)
    # completed by 03-31 among the 9 received: 1,2,3,5,7,8,10 = 7 (6 concludes 04-10, 9 is open)
    assert counts(totals) == {
        "received": 9,
        "accepted": 8,
        "declined": 1,
        "concluded": 6,
        "agreement": 4,
        "no_agreement": 1,
        "withdrawn": 0,
        "referred": 1,
        "concluded_on_time": 4,
        "completed": 7,
    }
    assert totals["success_rate"] == 4 / 6
    assert totals["completion_rate"] == 7 / 9
    assert totals["on_time_rate"] == 4 / 6
    assert totals["rate_details"]["completion_rate"] == {"value": 7 / 9, "numerator": 7, "denominator": 9}
    assert report["scope"]["region_name"] == "河北省"
    assert (report["from"], report["to"], report["as_of"]) == (d(3, 1), d(3, 31), END_OF_MARCH)


def test_case_concluded_after_the_period_counts_for_completion_once_as_of_passes_it(reporting_cases):
    report = rates_report(SYSTEM, region_code="130000", as_of=END_OF_APRIL, **MARCH)
    totals = report["totals"]
    # case 6 (registered 03-25) concluded 04-10 <= 04-30: completed 7 + 1 = 8 of 9 received;
    # its conclusion is in April, so March's concluded count stays 6.
    assert totals["completed"] == 8 and totals["completion_rate"] == 8 / 9
    assert totals["concluded"] == 6 and totals["withdrawn"] == 0


def test_as_of_inside_the_period_sees_the_state_of_that_day(reporting_cases):
    report = rates_report(SYSTEM, region_code="130000", as_of=d(3, 15), **MARCH)
    totals = report["totals"]
    # events up to 03-15: registered 1,2,3,5,7,8,9,10 = 8 (6 registers 03-25); concluded 4 (03-15) = 1;
    # completed by 03-15: 3 (declined 03-11) = 1 (10 concludes 03-16)
    assert (totals["received"], totals["concluded"], totals["completed"]) == (8, 1, 1)
    assert totals["completion_rate"] == 1 / 8


def test_transferred_case_is_received_in_hebei_and_concluded_in_beijing(reporting_cases):
    beijing = rates_report(SYSTEM, region_code="110000", as_of=END_OF_MARCH, **MARCH)["totals"]
    # received 11 only; accepted 11 (5 was accepted in bd); concluded 11 and 5 (moved 03-10), both agreements
    # and on time; completed 11 of 1 received
    assert counts(beijing) == {
        "received": 1,
        "accepted": 1,
        "declined": 0,
        "concluded": 2,
        "agreement": 2,
        "no_agreement": 0,
        "withdrawn": 0,
        "referred": 0,
        "concluded_on_time": 2,
        "completed": 1,
    }
    assert (beijing["success_rate"], beijing["completion_rate"], beijing["on_time_rate"]) == (1.0, 1.0, 1.0)
    bd = rates_report(SYSTEM, organization_id=reporting_cases["bd"].id, as_of=END_OF_MARCH, **MARCH)["totals"]
    # bd: received 1,2,3,5,6 = 5; concluded 1,2,4 = 3 (5 concluded by bj)
    assert (bd["received"], bd["concluded"], bd["agreement"]) == (5, 3, 2)


def test_zero_denominators_give_null_rates(reporting_cases):
    tianjin = rates_report(SYSTEM, region_code="120000", as_of=END_OF_MARCH, **MARCH)["totals"]
    assert tianjin["received"] == tianjin["concluded"] == 0
    assert tianjin["success_rate"] is None and tianjin["completion_rate"] is None
    assert tianjin["on_time_rate"] is None
    assert tianjin["rate_details"]["success_rate"] == {"value": None, "numerator": 0, "denominator": 0}


def test_xiongan_sums_its_three_counties(reporting_cases):
    report = rates_report(SYSTEM, region_code="XIONGAN", as_of=END_OF_MARCH, group_by="region", **MARCH)
    totals = report["totals"]
    # received 7,8,9 = 3; concluded 7 (agreement), 8 (referred), both on time; completed 7,8 = 2
    assert counts(totals) == {
        "received": 3,
        "accepted": 3,
        "declined": 0,
        "concluded": 2,
        "agreement": 1,
        "no_agreement": 0,
        "withdrawn": 0,
        "referred": 1,
        "concluded_on_time": 2,
        "completed": 2,
    }
    assert (totals["success_rate"], totals["completion_rate"], totals["on_time_rate"]) == (1 / 2, 2 / 3, 1.0)
    groups = {g["key"]: g for g in report["groups"]}
    assert [g["label"] for g in report["groups"]] == ["容城县", "安新县", "雄县"]
    assert [groups[c]["received"] for c in ("130629", "130632", "130638")] == [1, 1, 1]
    assert sum(g["concluded"] for g in report["groups"]) == totals["concluded"]
    assert groups["130638"]["success_rate"] is None  # 雄县 concluded nothing: 0 ÷ 0


def test_group_by_region_lists_every_prefecture_of_hebei(reporting_cases):
    report = rates_report(SYSTEM, region_code="130000", as_of=END_OF_MARCH, group_by="region", **MARCH)
    groups = {g["key"]: g for g in report["groups"]}
    assert len(groups) == 11  # Hebei's eleven prefecture-level cities, zeros included
    # 保定 130600: received 1,2,3,5,6,7,8,9 = 8; concluded 1,2,4,7,8 = 5; 石家庄: case 10
    assert (groups["130600"]["received"], groups["130600"]["concluded"]) == (8, 5)
    assert (groups["130100"]["received"], groups["130100"]["concluded"], groups["130100"]["on_time_rate"]) == (
        1,
        1,
        0.0,
    )
    assert groups["130200"]["received"] == 0 and groups["130200"]["completion_rate"] is None


def test_group_by_month_fills_every_month(reporting_cases):
    report = rates_report(
        SYSTEM, region_code="130000", date_from=d(2, 1), date_to=d(3, 31), as_of=END_OF_MARCH, group_by="month"
    )
    feb, mar = report["groups"]
    # February: case 4 registered and accepted, concluded 03-15 <= as_of: completion 1/1, nothing concluded
    assert (feb["key"], feb["label"], feb["received"], feb["concluded"], feb["completion_rate"]) == (
        "2026-02",
        "2026年2月",
        1,
        0,
        1.0,
    )
    assert feb["success_rate"] is None
    assert (mar["key"], mar["received"], mar["concluded"], mar["completed"]) == ("2026-03", 9, 6, 7)
    assert report["totals"]["received"] == 10


def test_group_by_category(reporting_cases):
    report = rates_report(SYSTEM, region_code="130000", as_of=END_OF_MARCH, group_by="category", **MARCH)
    by = {g["key"]: g for g in report["groups"]}
    # neighbour: received 1,3,5,6,9 = 5, concluded 1,4 = 2 agreements; contract: 2; forest_land: 7,8; labour: 10
    assert {k: (g["received"], g["concluded"], g["agreement"]) for k, g in by.items()} == {
        "neighbour": (5, 2, 2),
        "contract": (1, 1, 0),
        "forest_land": (2, 2, 1),
        "labour": (1, 1, 1),
    }
    assert by["forest_land"]["label"] == "山林土地"
    assert list(by) == ["neighbour", "contract", "forest_land", "labour"]  # national list order


def test_group_by_organization_and_studio(reporting_cases):
    by_org = rates_report(SYSTEM, region_code="XIONGAN", as_of=END_OF_MARCH, group_by="organization", **MARCH)
    assert sorted(g["received"] for g in by_org["groups"]) == [1, 1, 1]
    by_studio = rates_report(SYSTEM, region_code="130000", as_of=END_OF_MARCH, group_by="studio", **MARCH)
    # only cases 1 and 2 are a studio's: both received and concluded, one agreement, one on time
    [studio] = by_studio["groups"]
    assert (studio["label"], studio["received"], studio["concluded"], studio["success_rate"]) == (
        "统计测试工作室",
        2,
        2,
        0.5,
    )
    only = rates_report(SYSTEM, studio_id=reporting_cases["studio"].id, as_of=END_OF_MARCH, **MARCH)["totals"]
    assert (only["received"], only["on_time_rate"]) == (2, 0.5)


def test_coordinator_sees_only_inside_their_region(reporting_cases, make_user):
    hebei = make_user(role=Role.coordinator, region_code="130000").to_actor()
    assert rates_report(hebei, as_of=END_OF_MARCH, **MARCH)["totals"]["received"] == 9  # defaults to 河北
    assert rates_report(hebei, region_code="XIONGAN", as_of=END_OF_MARCH, **MARCH)["totals"]["received"] == 3
    with pytest.raises(NotFound):
        rates_report(hebei, region_code="110000", **MARCH)
    with pytest.raises(NotFound):
        rates_report(hebei, organization_id=reporting_cases["bj"].id, **MARCH)
    baoding = make_user(role=Role.coordinator, region_code="130600").to_actor()
    assert rates_report(baoding, region_code="XIONGAN", as_of=END_OF_MARCH, **MARCH)["totals"]["received"] == 3
    with pytest.raises(NotFound):
        rates_report(baoding, region_code="130100", **MARCH)
    assert [r.code for r in region_choices(hebei)][:1] == ["130000"]
    assert "XIONGAN" in [r.code for r in region_choices(hebei)]
    assert "XIONGAN" not in [
        r.code for r in region_choices(make_user(role=Role.coordinator, region_code="110000").to_actor())
    ]


def test_mediator_sees_only_their_organisation(reporting_cases, make_user):
    mediator = make_user(role=Role.mediator, organization=reporting_cases["sjz"]).to_actor()
    totals = rates_report(mediator, as_of=END_OF_MARCH, **MARCH)["totals"]
    assert (totals["received"], totals["concluded"], totals["on_time_rate"]) == (1, 1, 0.0)
    with pytest.raises(NotFound):
        rates_report(mediator, organization_id=reporting_cases["bd"].id, **MARCH)
    with pytest.raises(NotFound):
        rates_report(mediator, region_code="130000", **MARCH)


def test_bad_period_and_grouping_are_one_422(reporting_cases):
    with pytest.raises(ValidationFailed) as err:
        rates_report(SYSTEM, date_from=d(3, 31), date_to=d(3, 1), as_of=d(2, 1))
    assert set(err.value.errors) == {"to", "as_of"}
    with pytest.raises(ValidationFailed):
        rates_report(SYSTEM, group_by="weekday", **MARCH)
