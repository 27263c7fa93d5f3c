"""The two bases of the rates, the flows that reconcile them, counted_to and on time both ways, counted by hand.

Six case histories of March 2026 (DESIGN.md "Rates"). Organisations: bd 保定竞秀区 (130602), rc a professional
committee of 容城县 (130629), bj 北京朝阳 (110105). Places: 容城镇 130629100 (a town of 容城县) and its village 东关村
130629100201, added to the registry as a governance centre's territory.

 #  handled by  occurred   registered accepted due (original)  concluded / moved             still open 03-31
 A  bd          110101 京  03-02      03-03    04-02           03-20 agreement
 B  bd          130602     03-05      03-06    04-05                                          yes (bd)
 C  rc          village    03-04      03-05    04-04 (03-20)   03-25 agreement (extended)
 D  bj          130602     03-06      03-07    04-06                                          yes (bj)
 E  bd → bj     130602     03-08      03-09    04-08           moved to bj 03-12; bj 03-28 no_agreement
 F  bd          130602     02-20      02-21    03-23           03-10 agreement (registered in February)
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.cases.models import Case, CaseStatus
from mediation_hub.core.actor import SYSTEM
from mediation_hub.errors import ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.regions.models import Region, RegionLevel
from mediation_hub.registry.models import Organization
from mediation_hub.reporting.queries import Scope
from mediation_hub.reporting.service import rates_report, report_for_scope
from tests.factories_reporting import END_OF_MARCH, MARCH, d

TOWN, VILLAGE = "130629100", "130629100201"
SOURCES = ("aggregates", "events")


def _place(code: str, name: str, parent_code: str, level: RegionLevel) -> None:
    parent = db.session.get(Region, parent_code)
    db.session.add(
        Region(
            code=code,
            name=name,
            level=level,
            parent_code=parent_code,
            path=f"{parent.path}{code}/",
            province_code=parent.province_code,
            prefecture_code=parent.prefecture_code,
        )
    )
    db.session.flush()


@pytest.fixture
def bases(make_org, make_case_history):
    _place(TOWN, "容城镇", "130629", RegionLevel.town)
    _place(VILLAGE, "东关村", TOWN, RegionLevel.village)
    bd, rc, bj = (make_org(region_code=code) for code in ("130602", "130629", "110105"))
    h = make_case_history
    h(bd, registered=d(3, 2), accepted=d(3, 3), concluded=d(3, 20), outcome="agreement", occurred="110101")
    h(bd, registered=d(3, 5), accepted=d(3, 6))
    h(
        rc,
        registered=d(3, 4),
        accepted=d(3, 5),
        original_due=d(3, 20),
        due=d(4, 4),
        concluded=d(3, 25),
        outcome="agreement",
        occurred=VILLAGE,
    )
    h(bj, registered=d(3, 6), accepted=d(3, 7), occurred="130602")
    h(
        bd,
        registered=d(3, 8),
        accepted=d(3, 9),
        concluded=d(3, 28),
        outcome="no_agreement",
        moved=[(d(3, 12), bj)],
    )
    h(bd, registered=d(2, 20), accepted=d(2, 21), concluded=d(3, 10), outcome="agreement")
    return {"bd": bd, "rc": rc, "bj": bj}


def report(scope: Scope, basis: str, source: str, as_of: date = END_OF_MARCH, **period) -> dict:
    period = period or MARCH
    return report_for_scope(scope, period["date_from"], period["date_to"], as_of, None, basis=basis, source=source)


def figures(totals: dict) -> dict:
    names = (
        "received",
        "concluded",
        "agreement",
        "no_agreement",
        "declined",
        "concluded_on_time",
        "concluded_on_time_original",
        "concluded_extended",
        "completed",
    )
    return {name: totals[name] for name in names}


@pytest.mark.parametrize("source", SOURCES)
def test_hebei_handled_counts_where_the_cases_were_handled(bases, source):
    result = report(Scope(region_code="130000"), "handled", source)
    # received A, B, C, E (D is Beijing's, F February's); concluded in Hebei A, C, F (E concluded in Beijing);
    # on time A (04-02), C (extended to 04-04), F (03-23); against the original limits C is late (03-25 > 03-20);
    # completed of A, B, C, E: A, C, E (E concluded in Beijing on 03-28, as the cohort counts)
    assert figures(result["totals"]) == {
        "received": 4,
        "concluded": 3,
        "agreement": 3,
        "no_agreement": 0,
        "declined": 0,
        "concluded_on_time": 3,
        "concluded_on_time_original": 2,
        "concluded_extended": 1,
        "completed": 3,
    }
    assert result["totals"]["on_time_rate"] == 3 / 3
    assert result["totals"]["on_time_original_rate"] == 2 / 3
    # open on 02-28: F; registered 4; E handed to Beijing; concluded A, C, F; open on 03-31: B
    assert result["case_flows"] == {
        "open_at_start": 1,
        "registered": 4,
        "transferred_in": 0,
        "transferred_out": 1,
        "concluded": 3,
        "declined": 0,
        "open_at_end": 1,
    }
    assert result["basis"] == "handled"


@pytest.mark.parametrize("source", SOURCES)
def test_hebei_occurred_counts_where_the_disputes_arose(bases, source):
    result = report(Scope(region_code="130000"), "occurred", source)
    # the disputes of Hebei: B, C, D, E, F (A arose in Beijing); received B, C, D, E; concluded C, E (by Beijing),
    # F; agreement C, F, no agreement E; on time C, E (04-08), F; original limits: C late; completed C, E
    assert figures(result["totals"]) == {
        "received": 4,
        "concluded": 3,
        "agreement": 2,
        "no_agreement": 1,
        "declined": 0,
        "concluded_on_time": 3,
        "concluded_on_time_original": 2,
        "concluded_extended": 1,
        "completed": 2,
    }
    # a place never moves: nothing handed in or out; open on 03-31: B (in 保定) and D (handled in Beijing)
    assert result["case_flows"] == {
        "open_at_start": 1,
        "registered": 4,
        "transferred_in": 0,
        "transferred_out": 0,
        "concluded": 3,
        "declined": 0,
        "open_at_end": 2,
    }
    assert result["basis"] == "occurred"


@pytest.mark.parametrize("source", SOURCES)
def test_a_case_handled_in_baoding_that_happened_in_beijing_counts_for_beijing_only_on_the_occurred_basis(
    bases, source
):
    beijing_occurred = report(Scope(region_code="110000"), "occurred", source)["totals"]
    baoding_handled = report(Scope(region_code="130600"), "handled", source)["totals"]
    baoding_occurred = report(Scope(region_code="130600"), "occurred", source)["totals"]
    # A (handled by bd in 保定, arose in 东城) is Beijing's only registration on the occurred basis
    assert (beijing_occurred["received"], beijing_occurred["agreement"], beijing_occurred["completed"]) == (1, 1, 1)
    # 保定 handled: A, B, E registered by bd; occurred: B, D, E (A is Beijing's, C 容城's is 保定's too: 130629
    # lies in 保定市) → B, C, D, E
    assert baoding_handled["received"] == 4  # A, B, C (rc in 容城县, 保定市), E
    assert baoding_occurred["received"] == 4  # B, C, D, E
    handled_beijing = report(Scope(region_code="110000"), "handled", source)
    # Beijing handled: D registered by bj; E handed in on 03-12 and concluded there; open on 03-31: D
    assert handled_beijing["totals"]["received"] == 1 and handled_beijing["totals"]["concluded"] == 1
    assert handled_beijing["case_flows"] == {
        "open_at_start": 0,
        "registered": 1,
        "transferred_in": 1,
        "transferred_out": 0,
        "concluded": 1,
        "declined": 0,
        "open_at_end": 1,
    }


@pytest.mark.parametrize("source", SOURCES)
def test_a_village_sees_its_disputes_handled_by_the_county_committee(bases, source):
    for code in (VILLAGE, TOWN, "130629"):
        village = report(Scope(region_code=code), "occurred", source)
        # C arose in 东关村 and was handled by the 容城县 committee: registered, concluded with an agreement
        assert (village["totals"]["received"], village["totals"]["agreement"], village["totals"]["completed"]) == (
            1,
            1,
            1,
        ), code
        assert village["case_flows"]["open_at_end"] == 0
    # on the handled basis the village handles nothing: no organisation is registered there
    assert report(Scope(region_code=VILLAGE), "handled", source)["totals"]["received"] == 0


@pytest.mark.parametrize("source", SOURCES)
def test_an_organisation_that_takes_cases_in_reconciles(bases, source):
    bd = bases["bd"]
    result = report(Scope(organization_id=bd.id), "handled", source)
    # bd: open on 02-28 F; registered A, B, E; E handed out; concluded A, F; open on 03-31 B
    assert result["case_flows"] == {
        "open_at_start": 1,
        "registered": 3,
        "transferred_in": 0,
        "transferred_out": 1,
        "concluded": 2,
        "declined": 0,
        "open_at_end": 1,
    }
    bj = report(Scope(organization_id=bases["bj"].id), "handled", source)
    # bj concludes more than it registered: received D (1), concluded E (1), but E came in: open D
    assert (bj["totals"]["received"], bj["totals"]["concluded"], bj["case_flows"]["transferred_in"]) == (1, 1, 1)


@pytest.mark.parametrize("basis", ["handled", "occurred"])
@pytest.mark.parametrize("code", ["130000", "110000", "130600", "XIONGAN", None])
def test_the_flow_identity_holds_and_open_cases_are_the_cases_table(bases, basis, code):
    scope = Scope(region_code=code)
    flows = report(scope, basis, "aggregates")["case_flows"]
    assert (
        flows["open_at_start"] + flows["registered"] + flows["transferred_in"] - flows["transferred_out"]
        == flows["concluded"] + flows["declined"] + flows["open_at_end"]
    )
    # the stock at the end of March is what the cases table holds open today (nothing happened after March)
    open_now = (
        sa.select(sa.func.count())
        .select_from(Case)
        .where(Case.status.in_((CaseStatus.registered, CaseStatus.accepted, CaseStatus.in_mediation)))
    )
    if code is not None:
        region = db.session.get(Region, code)
        regions = [db.session.get(Region, m) for m in region.member_codes] if region.level == "custom" else [region]
        paths = sa.or_(*(Region.path.startswith(r.path) for r in regions))
        where = sa.select(Region.code).where(paths)
        if basis == "occurred":
            open_now = open_now.where(Case.occurred_region_code.in_(where))
        else:
            open_now = open_now.join(Organization, Organization.id == Case.organization_id).where(
                Organization.region_code.in_(where)
            )
    assert flows["open_at_end"] == db.session.scalar(open_now)


@pytest.mark.parametrize("source", SOURCES)
def test_as_of_before_the_end_counts_up_to_as_of_and_says_so(bases, source):
    result = report(Scope(region_code="130000"), "handled", source, as_of=d(3, 15))
    assert (result["to"], result["as_of"], result["counted_to"]) == (d(3, 31), d(3, 15), d(3, 15))
    # up to 03-15: registered A, B, C, E; concluded F only; E handed out on 03-12; open A, B, C
    assert (result["totals"]["received"], result["totals"]["concluded"]) == (4, 1)
    assert result["case_flows"]["transferred_out"] == 1 and result["case_flows"]["open_at_end"] == 3
    later = report(Scope(region_code="130000"), "handled", source, as_of=date(2026, 5, 1))
    assert later["counted_to"] == d(3, 31)


def test_the_occurred_basis_takes_a_place_not_an_organisation(bases):
    with pytest.raises(ValidationFailed) as refused:
        rates_report(SYSTEM, organization_id=bases["bd"].id, basis="occurred", as_of=END_OF_MARCH, **MARCH)
    assert "basis" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        rates_report(SYSTEM, region_code="130000", group_by="studio", basis="occurred", as_of=END_OF_MARCH, **MARCH)
    assert "group_by" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        rates_report(SYSTEM, region_code="130000", basis="where", as_of=END_OF_MARCH, **MARCH)
    assert "basis" in refused.value.errors


@pytest.mark.parametrize("source", SOURCES)
def test_grouped_by_region_on_the_occurred_basis(bases, source):
    result = report_for_scope(
        Scope(region_code="130000"), d(3, 1), d(3, 31), END_OF_MARCH, "region", basis="occurred", source=source
    )
    received = {group["key"]: group["received"] for group in result["groups"] if group["received"]}
    # B, D, E arose in 竞秀区 and C in 容城县: all in 保定市
    assert received == {"130600": 4}


def test_a_transfer_accepted_through_the_services_hands_the_case_out_and_in(
    make_org, make_user, make_routed_case, make_studio, request_transfer_as
):
    """The listener counts the move in the transaction that accepts the transfer: out of the 保定 committee and
    its studio, into the 朝阳 one; Hebei sees it leave, Beijing arrive, the whole country neither."""
    from mediation_hub.transfers.service import accept_transfer

    hebei, beijing = make_org(region_code="130602"), make_org(region_code="110105")
    studio = make_studio(organization=hebei)
    case = make_routed_case(hebei, applicant="130602", respondent="110105", studio_id=studio.id)
    transfer = request_transfer_as(make_user(organization=hebei), case, beijing, requested_on=date(2025, 9, 29))
    accept_transfer(make_user(organization=beijing).to_actor(), transfer.id, answered_on=date(2025, 10, 9))
    db.session.flush()
    period = {"date_from": date(2025, 10, 1), "date_to": date(2025, 10, 31)}
    expected = {
        (None, hebei.id, None): (0, 1),
        (None, None, studio.id): (0, 1),
        (None, beijing.id, None): (1, 0),
        ("130000", None, None): (0, 1),
        ("130600", None, None): (0, 1),
        ("110000", None, None): (1, 0),
        (None, None, None): (0, 0),
    }
    for (region, org, studio_id), moved in expected.items():
        scope = Scope(region_code=region, organization_id=org, studio_id=studio_id)
        for source in SOURCES:
            flows = report(scope, "handled", source, as_of=date(2025, 10, 31), **period)["case_flows"]
            assert (flows["transferred_in"], flows["transferred_out"]) == moved, (scope, source)


def test_a_governance_centre_sees_the_occurred_basis_unless_it_asks(make_org, make_user):
    from mediation_hub.core.actor import Role
    from mediation_hub.registry.models import OrgKind

    centre = make_org(kind=OrgKind.governance_centre, region_code="130602")
    official = make_user(role=Role.coordinator, organization=centre, region_code="130602").to_actor()
    assert rates_report(official, as_of=END_OF_MARCH, **MARCH)["basis"] == "occurred"
    assert rates_report(official, as_of=END_OF_MARCH, basis="handled", **MARCH)["basis"] == "handled"
    # asked about an organisation (or grouped by one), the centre's official gets the handled basis; so does a
    # mediator working at the centre, whose reports are always its own organisation's
    assert rates_report(official, organization_id=centre.id, as_of=END_OF_MARCH, **MARCH)["basis"] == "handled"
    assert rates_report(official, group_by="organization", as_of=END_OF_MARCH, **MARCH)["basis"] == "handled"
    mediator = make_user(role=Role.mediator, organization=centre).to_actor()
    assert rates_report(mediator, as_of=END_OF_MARCH, **MARCH)["basis"] == "handled"
    bureau = make_org(kind=OrgKind.justice_bureau, region_code="130602")
    other = make_user(role=Role.coordinator, organization=bureau, region_code="130602").to_actor()
    assert rates_report(other, as_of=END_OF_MARCH, **MARCH)["basis"] == "handled"
