"""Cross-region transfer flows and legal-aid figures, counted by hand (March 2026).

Transfers (requested, from → to, status, working days to answer):
 T1 03-02 hb→bj accepted 1    T2 03-05 hb→bj declined 3    T3 03-09 hb→bj expired
 T4 03-10 hb→tj accepted 2    T5 03-11 bj→hb accepted 4    T6 03-12 bj→hb pending (answer by 03-15)
 T7 03-13 hb→rc accepted 0 (inside Hebei)                  T8 02-20 hb→bj accepted 5 (February)
 T9 03-15 tj→bj accepted 1 (does not touch Hebei)
hb 保定竞秀 130602, rc 容城 130629, bj 北京朝阳 110105, tj 天津滨海 120116.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.db import utcnow
from mediation_hub.extensions import db
from mediation_hub.legal_aid.models import ApplicationStatus, Hardship, LegalAidApplication
from mediation_hub.registry.models import OrgKind
from mediation_hub.reporting.queries import Scope
from mediation_hub.reporting.service import legal_aid_for_scope, overdue_for_scope, transfer_flows_report
from mediation_hub.transfers.models import DeclineReason, Transfer, TransferMode, TransferStatus
from tests.factories_reporting import END_OF_MARCH, MARCH, d

_seq = itertools.count(1)


@pytest.fixture
def transfers(make_org, make_case_history):
    orgs = {
        k: make_org(region_code=c) for k, c in (("hb", "130602"), ("rc", "130629"), ("bj", "110105"), ("tj", "120116"))
    }

    def transfer(on, source, target, status, days=None):
        case = make_case_history(orgs[source], registered=on - timedelta(days=1), accepted=on)
        closed = status != "pending"
        db.session.add(
            Transfer(
                case_id=case.id,
                from_organization_id=orgs[source].id,
                to_organization_id=orgs[target].id,
                agreement_code="JJJ-MEDIATION",
                mode=TransferMode.transfer,
                status=TransferStatus(status),
                requested_on=on,
                respond_by=on + timedelta(days=3),
                answered_at=utcnow() if closed else None,
                answered_on=on + timedelta(days=days or 3) if closed else None,
                working_days_to_answer=days,
                reason_code=DeclineReason.capacity if status == "declined" else None,
            )
        )

    for row in [
        (d(3, 2), "hb", "bj", "accepted", 1),
        (d(3, 5), "hb", "bj", "declined", 3),
        (d(3, 9), "hb", "bj", "expired"),
        (d(3, 10), "hb", "tj", "accepted", 2),
        (d(3, 11), "bj", "hb", "accepted", 4),
        (d(3, 12), "bj", "hb", "pending"),
        (d(3, 13), "hb", "rc", "accepted", 0),
        (d(2, 20), "hb", "bj", "accepted", 5),
        (d(3, 15), "tj", "bj", "accepted", 1),
    ]:
        transfer(*row)
    db.session.flush()
    return orgs


def test_hebei_flows(transfers):
    flows = transfer_flows_report(SYSTEM, region_code="130000", **MARCH)["flows"]
    # sent from Hebei: T1,T2,T3,T4,T7 = 5; accepted T1,T4,T7 = 3 of 5 answered or expired (1 declined, 1 expired)
    # median working days of the answered ones 0,1,2,3 -> (1 + 2) / 2 = 1.5
    assert flows["sent"] == 5 and flows["received"] == 3  # received: T5, T6, T7
    out = flows["outgoing"]
    assert (out["accepted"], out["declined"], out["expired"], out["acceptance_rate"]) == (3, 1, 1, 3 / 5)
    assert out["median_working_days"] == 1.5
    incoming = flows["incoming"]
    # into Hebei: T5 accepted (4), T6 pending, T7 accepted (0): 2 of 2 answered accepted, median (0 + 4) / 2 = 2
    assert (incoming["accepted"], incoming["pending"], incoming["acceptance_rate"]) == (2, 1, 1.0)
    assert incoming["median_working_days"] == 2.0
    pairs = {(p["from_region_code"], p["to_region_code"]): p for p in flows["pairs"]}
    assert list(pairs) == [("110000", "130000"), ("130000", "110000"), ("130000", "120000"), ("130000", "130000")]
    to_beijing = pairs[("130000", "110000")]
    # T1, T2, T3: 1 accepted of 3 closed; median of 1 and 3 = 2
    assert (to_beijing["total"], to_beijing["acceptance_rate"], to_beijing["median_working_days"]) == (3, 1 / 3, 2.0)
    assert (to_beijing["from_region_name"], to_beijing["to_region_name"]) == ("河北省", "北京市")
    from_beijing = pairs[("110000", "130000")]
    assert (from_beijing["total"], from_beijing["pending"], from_beijing["median_working_days"]) == (2, 1, 4.0)


def test_beijing_answers_and_odd_median(transfers):
    flows = transfer_flows_report(SYSTEM, region_code="110000", **MARCH)["flows"]
    # into Beijing in March: T1 (1), T2 (3), T3 expired, T9 (1): accepted 2 of 4, median of 1,1,3 = 1
    incoming = flows["incoming"]
    assert (flows["received"], incoming["acceptance_rate"], incoming["median_working_days"]) == (4, 2 / 4, 1.0)
    # sent from Beijing: T5 and T6; only T5 answered
    assert (flows["sent"], flows["outgoing"]["acceptance_rate"]) == (2, 1.0)


def test_no_transfers_gives_null_rates(transfers):
    flows = transfer_flows_report(SYSTEM, region_code="440000", **MARCH)["flows"]
    assert flows["sent"] == flows["received"] == 0 and flows["pairs"] == []
    assert flows["outgoing"]["acceptance_rate"] is None and flows["outgoing"]["median_working_days"] is None


def test_overdue_transfer_is_listed_for_both_sides(transfers):
    listed = overdue_for_scope(Scope(region_code="130000"), END_OF_MARCH)["transfers"]
    # T6 (bj -> hb) should have been answered by 03-15: 16 days late on 03-31
    assert [(t["respond_by"], t["days_overdue"]) for t in listed] == [(d(3, 15), 16)]
    assert len(overdue_for_scope(Scope(region_code="110000"), END_OF_MARCH)["transfers"]) == 1
    assert overdue_for_scope(Scope(region_code="120000"), END_OF_MARCH)["transfers"] == []


def test_flows_api_is_scoped(transfers, api_as):
    hebei = api_as(role=Role.coordinator, region_code="130000")
    body = hebei.get("/api/v1/reports/flows?from=2026-03-01&to=2026-03-31").json
    assert (body["flows"]["sent"], body["flows"]["received"]) == (5, 3)
    assert hebei.get("/api/v1/reports/flows?region_code=110000").status_code == 404


def _application(centre, filed, decided=None, granted=None, decide_by=None):
    status = (
        ApplicationStatus.granted if granted else ApplicationStatus.refused if decided else ApplicationStatus.accepted
    )
    app = LegalAidApplication(
        number=f"LA-RP-{next(_seq):05d}",
        status=status,
        centre_id=centre.id,
        filed_centre_id=centre.id,
        applicant_name="申请人",
        matter_category="labour",
        matter_region_code=centre.region_code,
        hardship=Hardship.declaration,
        summary="统计测试",
        filed_on=filed,
        received_on=filed,
        decide_by=decide_by or filed + timedelta(days=7),
        accepted_on=filed,
        decided_on=decided,
        granted=granted,
        refusal_reason="不符合条件" if decided and not granted else None,
        assign_by=decided + timedelta(days=3) if granted else None,
        last_step_on=decided or filed,
    )
    db.session.add(app)
    return app


def test_legal_aid_figures(make_org):
    centre = make_org(kind=OrgKind.legal_aid_centre, region_code="130602")
    _application(centre, d(3, 2), decided=d(3, 6), granted=True)  # in time, granted
    _application(centre, d(3, 3), decided=d(3, 12), granted=True)  # decide_by 03-10: late
    _application(centre, d(3, 4), decided=d(3, 9), granted=False)  # in time, refused
    _application(centre, d(3, 20))  # not decided yet
    _application(centre, d(2, 25), decided=d(3, 2), granted=True)  # filed in February, decided in March
    db.session.flush()
    figures = legal_aid_for_scope(Scope(region_code="130000"), **MARCH)
    # filed in March: 4; decided in March: 4 (incl. February's), 3 by their decide-by date, 3 granted
    assert figures == {
        "applications": 4,
        "decided": 4,
        "decided_in_time": 3,
        "granted": 3,
        "in_time_rate": 3 / 4,
        "grant_rate": 3 / 4,
    }
    assert legal_aid_for_scope(Scope(region_code="110000"), **MARCH)["in_time_rate"] is None
