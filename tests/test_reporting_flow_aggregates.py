"""The transfer and legal-aid month aggregates give exactly the figures of the tables they summarise.

Histories come from the benchmark generator (small specs, several seeds): transfers accepted, declined, expired,
withdrawn and pending between provinces, legal-aid applications filed, transferred and decided. Each figure is
computed twice, ``source="aggregates"`` (month rows + odd days from the base tables) and ``source="tables"``, for
random scopes and periods (years, quarters, months, odd days, single days)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from bench.generate import CoreWriter, Spec, generate
from mediation_hub.core.db import utcnow
from mediation_hub.core.events import emit
from mediation_hub.extensions import db
from mediation_hub.legal_aid.models import ApplicationStatus, Hardship, LegalAidApplication
from mediation_hub.registry.models import Organization, OrgKind
from mediation_hub.reporting.aggregates import rebuild_daily_stats
from mediation_hub.reporting.flow_aggregates import (
    LegalAidMonthlyStat,
    LegalAidRegionMonthlyStat,
    TransferMonthlyStat,
    TransferRegionMonthlyStat,
    median_of,
    rebuild_flow_stats,
)
from mediation_hub.reporting.queries import Scope
from mediation_hub.reporting.service import flows_for_scope, legal_aid_for_scope
from mediation_hub.transfers.events import TransferAnswered, TransferExpired, TransferWithdrawn, step_fields
from mediation_hub.transfers.models import DeclineReason, Transfer, TransferMode, TransferStatus

pytestmark = pytest.mark.slow

YEAR = date(2025, 1, 1), date(2025, 12, 31)
CLOSED = {"accepted": TransferAnswered, "declined": TransferAnswered, "withdrawn": TransferWithdrawn}


class OrmFlowWriter(CoreWriter):
    """Writes applications and transfers through the ORM (the flush counts them); a closed transfer is inserted
    pending and then closed the way the transfers service closes it, with a conditional Core UPDATE the ORM does
    not see and the declared event (``transfer.answered`` / ``withdrawn`` / ``expired``)."""

    def write(self, table, rows):
        if table == "legal_aid_applications":
            for values in self.values(table, rows):
                db.session.add(LegalAidApplication(**values))
            db.session.flush()
            return None
        if table != "transfers":
            return super().write(table, rows)
        closing = []
        for values in self.values(table, rows):
            final = {k: values[k] for k in ("status", "answered_at", "answered_on", "working_days_to_answer")}
            final["reason_code"] = values["reason_code"]
            pending = {
                **values,
                "status": TransferStatus.pending,
                "answered_at": None,
                "answered_on": None,
                "working_days_to_answer": None,
                "reason_code": None,
            }
            db.session.add(Transfer(**pending))
            if final["status"] not in ("pending", TransferStatus.pending):
                closing.append((values["id"], final))
        db.session.flush()
        for transfer_id, final in closing:
            db.session.execute(
                sa.update(Transfer)
                .where(Transfer.id == transfer_id)
                .values(**final)
                .execution_options(synchronize_session=False)
            )
            transfer = db.session.get_one(Transfer, transfer_id)
            db.session.refresh(transfer)
            status = TransferStatus(final["status"])
            fields = step_fields(transfer, final["answered_on"])
            if status == TransferStatus.expired:
                emit(TransferExpired(**fields, respond_by=transfer.respond_by))
            elif status == TransferStatus.withdrawn:
                emit(TransferWithdrawn(**fields))
            else:
                emit(TransferAnswered(**fields, accepted=status == TransferStatus.accepted))
        return None


def generated(seed: int, cases: int = 2000, writer_class=CoreWriter) -> None:
    generate(
        db.session, Spec(cases=cases, seed=seed, start=YEAR[0], end=YEAR[1]), writer_class(db.session.connection())
    )
    db.session.flush()


def stat_rows() -> dict:
    result = {}
    for model in (TransferMonthlyStat, TransferRegionMonthlyStat, LegalAidMonthlyStat, LegalAidRegionMonthlyStat):
        table = model.__table__
        keys = list(table.primary_key.columns)
        counts = [c for c in table.columns if c not in keys]
        result[table.name] = {
            tuple(getattr(r, c.name) for c in keys): tuple(getattr(r, c.name) for c in counts)
            for r in db.session.execute(sa.select(table)).all()
            if any(getattr(r, c.name) for c in counts)
        }
    return result


def scopes() -> list[Scope]:
    busiest = db.session.scalar(
        sa.select(Transfer.from_organization_id)
        .group_by(Transfer.from_organization_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    )
    centre = db.session.scalar(sa.select(LegalAidApplication.centre_id).limit(1))
    counties = [db.session.get_one(Organization, org_id).region_code for org_id in (busiest, centre)]
    return [
        *(Scope(region_code=code) for code in counties),  # the regions of an organisation (counties, districts)
        Scope(),
        Scope(region_code="130000"),
        Scope(region_code="110000"),
        Scope(region_code="120000"),
        Scope(region_code="130600"),
        Scope(region_code="XIONGAN"),
        Scope(organization_id=busiest),
        Scope(organization_id=centre),
        Scope(region_code="130000", organization_id=busiest),
    ]


def random_period(rng: random.Random) -> tuple[date, date]:
    kind = rng.choice(("year", "quarter", "month", "odd", "day", "two years"))
    if kind == "year":
        return YEAR
    if kind == "two years":
        return date(2024, 7, 15), date(2026, 2, 3)
    if kind == "quarter":
        q = rng.randrange(4)
        return date(2025, 3 * q + 1, 1), (date(2025, 3 * q + 4, 1) if q < 3 else date(2026, 1, 1)) - timedelta(days=1)
    if kind == "month":
        m = rng.randrange(1, 13)
        return date(2025, m, 1), (date(2025, m + 1, 1) if m < 12 else date(2026, 1, 1)) - timedelta(days=1)
    first = YEAR[0] + timedelta(days=rng.randrange(360))
    return first, first if kind == "day" else first + timedelta(days=rng.randrange(1, 150))


def assert_same_figures(seed: int, samples: int) -> None:
    rng = random.Random(seed)
    all_scopes = scopes()
    for _ in range(samples):
        scope = rng.choice(all_scopes)
        first, last = random_period(rng)
        fast = flows_for_scope(scope, first, last)
        assert fast == flows_for_scope(scope, first, last, source="tables"), (scope, first, last)
        legal_aid = legal_aid_for_scope(scope, first, last)
        assert legal_aid == legal_aid_for_scope(scope, first, last, source="tables"), (scope, first, last)


@pytest.mark.parametrize("seed", [3, 17, 2026])
def test_rebuilt_month_aggregates_equal_the_tables(seed):
    generated(seed)
    rebuild_flow_stats()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transfer)) > 15  # a real history
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LegalAidApplication)) > 10
    statuses = set(db.session.scalars(sa.select(Transfer.status).distinct()))
    assert {TransferStatus.accepted, TransferStatus.declined, TransferStatus.expired} <= statuses
    assert_same_figures(seed, samples=40)


def test_flushes_and_transfer_events_maintain_the_rows_a_rebuild_writes():
    generated(23, writer_class=OrmFlowWriter)
    maintained = stat_rows()
    assert maintained["transfer_monthly_stats"] and maintained["legal_aid_monthly_stats"]
    # no pending row is left behind by a closed request: pending counts equal the table's pending transfers
    pending = sum(n for key, (n,) in maintained["transfer_monthly_stats"].items() if key[4] == "pending")
    assert pending == db.session.scalar(
        sa.select(sa.func.count()).select_from(Transfer).where(Transfer.status == TransferStatus.pending)
    )
    assert_same_figures(23, samples=30)
    rebuild_flow_stats()
    assert stat_rows() == maintained


def test_an_organisation_moving_region_moves_its_region_rows():
    generated(41, cases=1000, writer_class=OrmFlowWriter)
    # the busiest sender of a Hebei organisation moves to a Tianjin district: its transfers and its applications
    # leave every Hebei region row for the Tianjin ones (organisation rows unchanged), as the tables now count them
    mover = db.session.scalar(
        sa.select(Transfer.from_organization_id)
        .join(Organization, Organization.id == Transfer.from_organization_id)
        .where(Organization.region_code.like("13%"))
        .group_by(Transfer.from_organization_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    )
    centre = db.session.scalar(
        sa.select(LegalAidApplication.centre_id)
        .join(Organization, Organization.id == LegalAidApplication.centre_id)
        .where(Organization.region_code.like("13%"))
        .limit(1)
    )
    before = stat_rows()
    for org_id in (mover, centre):
        db.session.get_one(Organization, org_id).region_code = "120101"
    db.session.flush()
    moved = stat_rows()
    assert moved["transfer_monthly_stats"] == before["transfer_monthly_stats"]
    assert moved["transfer_region_monthly_stats"] != before["transfer_region_monthly_stats"]
    assert_same_figures(41, samples=20)
    rebuild_flow_stats()
    assert stat_rows() == moved


def test_partial_rebuild_and_the_command(app):
    generated(31, cases=1000)  # bulk rows nobody counted
    assert not any(stat_rows().values())
    rebuild_flow_stats(date(2025, 1, 10), date(2025, 6, 20))  # whole months January .. June
    rebuild_flow_stats(date(2025, 7, 1), date(2025, 12, 31))
    rebuild_flow_stats(date(2026, 1, 1), date(2026, 12, 31))  # decisions of late applications
    partial = stat_rows()
    rebuild_flow_stats()
    assert stat_rows() == partial
    assert_same_figures(31, samples=15)
    rebuild_daily_stats()
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-aggregates"])
    assert result.exit_code == 0, result.output
    for name in stat_rows():
        assert f"{name}=" in result.output


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ([], None),
        ([(2, 1), (5, 1), (9, 1)], 5.0),
        ([(2, 1), (5, 1), (9, 1), (4, 1)], 4.5),
        ([(3, 2)], 3.0),
        ([(1, 2), (7, 2)], 4.0),  # the middle two are 1 and 7
        ([(0, 3), (10, 1)], 0.0),
        ([(6, 0), (1, 1)], 1.0),
    ],
)
def test_median_of_a_histogram(histogram, median):
    assert median_of(histogram) == median


@pytest.fixture
def hebei_to_beijing(make_org, make_case_history):
    hb, bj = make_org(region_code="130602"), make_org(region_code="110105")

    def transfer(on, days, status="accepted"):
        case = make_case_history(hb, registered=on - timedelta(days=1), accepted=on)
        db.session.add(
            Transfer(
                case_id=case.id,
                from_organization_id=hb.id,
                to_organization_id=bj.id,
                agreement_code="JJJ-MEDIATION",
                mode=TransferMode.transfer,
                status=TransferStatus(status),
                requested_on=on,
                respond_by=on + timedelta(days=15),
                answered_at=utcnow() if status != "pending" else None,
                answered_on=on + timedelta(days=days or 0) if status != "pending" else None,
                working_days_to_answer=days,
                reason_code=DeclineReason.capacity if status == "declined" else None,
            )
        )
        db.session.flush()

    return transfer


def test_median_by_hand_three_answers_then_four(hebei_to_beijing):
    # April 2026: answers after 2, 5 and 9 working days (one declined), one pending: median 5
    hebei_to_beijing(date(2026, 4, 3), 2)
    hebei_to_beijing(date(2026, 4, 9), 5, "declined")
    hebei_to_beijing(date(2026, 4, 20), 9)
    hebei_to_beijing(date(2026, 4, 21), None, "pending")
    april = (date(2026, 4, 1), date(2026, 4, 30))
    flows = flows_for_scope(Scope(region_code="130000"), *april)
    assert (flows["sent"], flows["outgoing"]["accepted"], flows["outgoing"]["declined"]) == (4, 2, 1)
    assert flows["outgoing"]["median_working_days"] == 5.0
    assert [(p["from_region_code"], p["to_region_code"], p["median_working_days"]) for p in flows["pairs"]] == [
        ("130000", "110000", 5.0)
    ]
    # a fourth answer after 4 days: 2, 4, 5, 9 -> (4 + 5) / 2 = 4.5, in the month and in an odd-day period
    hebei_to_beijing(date(2026, 4, 28), 4)
    assert flows_for_scope(Scope(region_code="110000"), *april)["incoming"]["median_working_days"] == 4.5
    odd = flows_for_scope(Scope(region_code="110000"), date(2026, 3, 15), date(2026, 5, 10))["incoming"]
    assert (odd["total"], odd["median_working_days"]) == (5, 4.5)
    # only the odd days 04-09 .. 04-28 (read from the table): 4, 5, 9 -> 5
    assert flows_for_scope(Scope(), date(2026, 4, 9), date(2026, 4, 28))["outgoing"]["median_working_days"] == 5.0
    rows = stat_rows()["transfer_monthly_stats"]  # the April histogram: (status, working days) -> transfers
    assert sorted((key[4], key[5], n) for key, (n,) in rows.items()) == [
        ("accepted", 2, 1),
        ("accepted", 4, 1),
        ("accepted", 9, 1),
        ("declined", 5, 1),
        ("pending", -1, 1),
    ]


def test_legal_aid_by_hand_across_months_and_a_change_of_decision_date(make_org):
    centre = make_org(kind=OrgKind.legal_aid_centre, region_code="130602")

    def application(filed, decided=None, granted=None):
        app = LegalAidApplication(
            number=f"LA-FA-{filed.isoformat()}-{decided}",
            status=ApplicationStatus.granted if granted else ApplicationStatus.refused if decided else "accepted",
            centre_id=centre.id,
            filed_centre_id=centre.id,
            applicant_name="申请人",
            matter_category="labour",
            matter_region_code=centre.region_code,
            hardship=Hardship.declaration,
            summary="统计测试",
            filed_on=filed,
            received_on=filed,
            decide_by=filed + timedelta(days=7),
            accepted_on=filed,
            decided_on=decided,
            granted=granted,
            refusal_reason="不符合条件" if decided and not granted else None,
            assign_by=decided + timedelta(days=3) if granted else None,
            last_step_on=decided or filed,
        )
        db.session.add(app)
        db.session.flush()
        return app

    application(date(2026, 4, 28), date(2026, 5, 4), True)  # filed April, decided May 4 (in time), granted
    late = application(date(2026, 5, 2), date(2026, 5, 12), False)  # decide-by 05-09: late, refused
    application(date(2026, 5, 30))  # undecided
    may = legal_aid_for_scope(Scope(region_code="130000"), date(2026, 5, 1), date(2026, 5, 31))
    # filed in May: 2; decided in May: 2, 1 in time, 1 granted
    assert (may["applications"], may["decided"], may["decided_in_time"], may["granted"]) == (2, 2, 1, 1)
    # April 20 .. May 5 (odd days at both ends): filed 04-28 and 05-02; decided 05-04 (in time, granted)
    span = legal_aid_for_scope(Scope(organization_id=centre.id), date(2026, 4, 20), date(2026, 5, 5))
    assert (span["applications"], span["decided"], span["decided_in_time"], span["granted"]) == (2, 1, 1, 1)
    # the late decision's deadline moved (supplement time): now in time; the month row follows the flush
    late.decide_by = date(2026, 5, 14)
    db.session.flush()
    may = legal_aid_for_scope(Scope(region_code="130000"), date(2026, 5, 1), date(2026, 5, 31))
    assert (may["decided"], may["decided_in_time"]) == (2, 2)
    assert may == legal_aid_for_scope(Scope(region_code="130000"), date(2026, 5, 1), date(2026, 5, 31), source="tables")


def test_region_rows_by_hand_a_transfer_inside_a_province_counts_once(make_org, make_case_history):
    # 保定 竞秀区 (130602) sends one case to 容城县 (130629, in Xiongan) and one to Beijing 朝阳区 (110105), May 2026
    jingxiu, rongcheng, chaoyang = (make_org(region_code=code) for code in ("130602", "130629", "110105"))
    for day, to, status, days in ((5, rongcheng, "accepted", 3), (12, chaoyang, "pending", None)):
        on = date(2026, 5, day)
        case = make_case_history(jingxiu, registered=on - timedelta(days=1), accepted=on)
        db.session.add(
            Transfer(
                case_id=case.id,
                from_organization_id=jingxiu.id,
                to_organization_id=to.id,
                agreement_code="JJJ-MEDIATION",
                mode=TransferMode.transfer,
                status=TransferStatus(status),
                requested_on=on,
                respond_by=on + timedelta(days=15),
                answered_at=utcnow() if days else None,
                answered_on=on + timedelta(days=days) if days else None,
                working_days_to_answer=days,
            )
        )
        db.session.flush()
    rows = {
        (key[0], key[2], key[3], key[4], key[5]): n
        for key, (n,) in stat_rows()["transfer_region_monthly_stats"].items()
    }  # (region, side, from province, to province, status) -> transfers
    assert rows == {
        ("130000", "both", "130000", "130000", "accepted"): 1,  # inside Hebei and 保定: once, not twice
        ("130600", "both", "130000", "130000", "accepted"): 1,
        ("130602", "sent", "130000", "130000", "accepted"): 1,
        ("130629", "received", "130000", "130000", "accepted"): 1,
        ("130000", "sent", "130000", "110000", "pending"): 1,
        ("130600", "sent", "130000", "110000", "pending"): 1,
        ("130602", "sent", "130000", "110000", "pending"): 1,
        ("110000", "received", "130000", "110000", "pending"): 1,
        ("110100", "received", "130000", "110000", "pending"): 1,
        ("110105", "received", "130000", "110000", "pending"): 1,
    }
    may = date(2026, 5, 1), date(2026, 5, 31)
    hebei = flows_for_scope(Scope(region_code="130000"), *may)
    assert (hebei["sent"], hebei["received"]) == (2, 1)
    assert [(p["from_region_code"], p["to_region_code"], p["total"]) for p in hebei["pairs"]] == [
        ("130000", "110000", 1),
        ("130000", "130000", 1),
    ]
    assert hebei["incoming"]["median_working_days"] == 3.0
    county = flows_for_scope(Scope(region_code="130629"), *may)
    assert (county["sent"], county["received"], len(county["pairs"])) == (0, 1, 1)
    # odd days (May 4 .. 20) from the table give the same; Xiongan (custom) reads the organisation rows
    for scope in (Scope(region_code="130000"), Scope(region_code="130600"), Scope(region_code="XIONGAN")):
        for period in (may, (date(2026, 5, 4), date(2026, 5, 20)), (date(2026, 4, 20), date(2026, 6, 30))):
            assert flows_for_scope(scope, *period) == flows_for_scope(scope, *period, source="tables")
    assert (flows_for_scope(Scope(region_code="XIONGAN"), *may)["received"]) == 1
