"""The rate aggregates give exactly the numbers of the event log (the reference), however they were built.

Histories come from the benchmark generator in smoke mode (several seeds): cases registered, accepted,
declined, concluded, transferred across provinces, with studios and extensions. Each report is computed twice,
``source="aggregates"`` and ``source="events"``, for random periods, scopes, groupings and as-of dates."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from bench.generate import BULK_TABLES, COLUMNS, CoreWriter, Spec, generate
from mediation_hub.cases.events import append_event
from mediation_hub.cases.models import Case, CaseEvent, CaseStatus
from mediation_hub.extensions import db
from mediation_hub.registry.models import Organization, Studio
from mediation_hub.reporting.aggregates import (
    CaseCompletionCohort,
    CaseDailyStat,
    CaseMonthlyStat,
    CasePlaceCohort,
    CasePlaceDailyStat,
    CasePlaceMonthlyStat,
    CaseRegionDailyStat,
    CaseRegionMonthlyStat,
    rebuild_daily_stats,
    split_period,
)
from mediation_hub.reporting.queries import Scope
from mediation_hub.reporting.service import report_for_scope

# Slow (130 random reports rebuilt and compared with the event log): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

YEAR = date(2025, 1, 1), date(2025, 12, 31)
GROUPINGS = (None, "month", "category", "region", "organization", "studio")


class OrmEventWriter(CoreWriter):
    """Writes case events one by one through ``cases.events.append_event`` (so the aggregates' listener maintains
    them), the rest in bulk."""

    def write(self, table, rows):
        if table != "case_events":
            return super().write(table, rows)
        for values in self.values(table, rows):
            append_event(values)
        return None


def generated(seed: int, cases: int = 250, writer_class=CoreWriter, label: str = "") -> None:
    """A year's history; a quarter of the cases cross provinces (ten times the benchmark's share), so the histories
    hand cases over between regions (the flows) and their disputes arise elsewhere (the occurred basis)."""
    generate(
        db.session,
        Spec(cases=cases, seed=seed, start=YEAR[0], end=YEAR[1], label=label, cross_share=0.25),
        writer_class(db.session.connection()),
    )
    db.session.flush()


def aggregate_rows() -> dict:
    """Every aggregate row (non-zero), for comparing the listener's result with a rebuild."""
    result = {}
    for model in (
        CaseDailyStat,
        CaseMonthlyStat,
        CaseCompletionCohort,
        CaseRegionDailyStat,
        CaseRegionMonthlyStat,
        CasePlaceDailyStat,
        CasePlaceMonthlyStat,
        CasePlaceCohort,
    ):
        table = model.__table__
        keys = [c for c in table.primary_key.columns]
        counts = [c for c in table.columns if c not in keys]
        rows = db.session.execute(sa.select(table).order_by(*keys)).all()
        result[table.name] = {
            tuple(getattr(r, c.name) for c in keys): tuple(getattr(r, c.name) for c in counts)
            for r in rows
            if any(getattr(r, c.name) for c in counts)
        }
    return result


def scopes() -> list[Scope]:
    org_id = db.session.scalar(
        sa.select(Case.organization_id).group_by(Case.organization_id).order_by(sa.func.count().desc()).limit(1)
    )
    studio_id = db.session.scalar(sa.select(Case.studio_id).where(Case.studio_id.is_not(None)).limit(1))
    return [
        Scope(),
        Scope(region_code="130000"),
        Scope(region_code="110000"),
        Scope(region_code="130600"),
        Scope(region_code="XIONGAN"),
        Scope(region_code="120000", organization_id=None),
        Scope(organization_id=org_id),
        Scope(studio_id=studio_id),
        Scope(region_code="130000", studio_id=studio_id),
    ]


def random_period(rng: random.Random) -> tuple[date, date, date]:
    """A period inside the generated year (whole months, odd days, single days) and an as-of date."""
    kind = rng.choice(("year", "quarter", "odd", "day", "month"))
    if kind == "year":
        first, last = YEAR
    elif kind == "quarter":
        q = rng.randrange(4)
        first = date(2025, 3 * q + 1, 1)
        last = (date(2025, 3 * q + 4, 1) if q < 3 else date(2026, 1, 1)) - timedelta(days=1)
    elif kind == "month":
        m = rng.randrange(1, 13)
        first = date(2025, m, 1)
        last = (date(2025, m + 1, 1) if m < 12 else date(2026, 1, 1)) - timedelta(days=1)
    else:
        first = YEAR[0] + timedelta(days=rng.randrange(330))
        last = first if kind == "day" else first + timedelta(days=rng.randrange(1, 120))
    as_of = rng.choice(
        (
            last,
            last + timedelta(days=rng.randrange(1, 60)),
            first + timedelta(days=rng.randrange(0, 20)),
            date(2026, 6, 30),
        )
    )
    return first, last, max(as_of, first)


def assert_same_reports(seed: int, samples: int) -> None:
    """Random reports on both bases (the occurred basis takes region scopes, never grouped by organisation or
    studio), each from the aggregates and from the event log; the flows (handed in and out, open at either end)
    are part of each report."""
    rng = random.Random(seed)
    all_scopes = scopes()
    places = [scope for scope in all_scopes if not (scope.organization_id or scope.studio_id)]
    moved = 0
    for _ in range(samples):
        basis = rng.choice(("handled", "occurred"))
        scope = rng.choice(all_scopes if basis == "handled" else places)
        first, last, as_of = random_period(rng)
        group_by = rng.choice(GROUPINGS if basis == "handled" else GROUPINGS[:4])
        fast = report_for_scope(scope, first, last, as_of, group_by, source="aggregates", basis=basis)
        reference = report_for_scope(scope, first, last, as_of, group_by, source="events", basis=basis)
        assert fast == reference, (basis, scope, first, last, as_of, group_by)
        flows = fast["case_flows"]
        assert (
            flows["open_at_start"] + flows["registered"] + flows["transferred_in"] - flows["transferred_out"]
            == flows["concluded"] + flows["declined"] + flows["open_at_end"]
        )
        moved += flows["transferred_in"] + flows["transferred_out"]
    assert moved > 0  # the histories hand cases across provinces, and the samples saw some


@pytest.mark.parametrize("seed", [1, 7, 2026])
def test_rebuilt_aggregates_equal_the_event_log(seed):
    generated(seed)
    rebuild_daily_stats()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) > 700  # a real history
    assert_same_reports(seed, samples=30)


def test_listener_maintains_the_same_rows_a_rebuild_writes_and_the_same_reports():
    # Events appended one at a time are announced to the aggregates' listener (as record_event does).
    generated(11, cases=200, writer_class=OrmEventWriter)
    maintained = aggregate_rows()
    assert maintained["case_daily_stats"] and maintained["case_completion_cohorts"]
    assert maintained["case_region_monthly_stats"]
    assert_same_reports(11, samples=25)
    rebuild_daily_stats()
    assert aggregate_rows() == maintained


def test_partial_rebuild_after_a_bulk_insert_is_exact():
    generated(5, cases=150, writer_class=OrmEventWriter)
    before = aggregate_rows()
    # A bulk load bypassing the ORM (like COPY) leaves the aggregates behind until a rebuild of its range ...
    generated(6, cases=100, label="-2")
    assert aggregate_rows() == before
    rebuild_daily_stats(date(2025, 3, 1), date(2025, 12, 31))
    rebuild_daily_stats(date(2025, 1, 1), date(2025, 2, 28))
    assert_same_reports(5, samples=20)
    after = aggregate_rows()
    rebuild_daily_stats()
    assert aggregate_rows() == after


def test_completion_out_of_order_and_moved_earlier(make_org):
    """Registration inserted after its completion, and a second completing event dated earlier: the
    cohort rows follow the first completion, so every as-of date agrees with the log."""
    org = make_org(region_code="130602")
    case = Case(
        number="AGG-1",
        organization_id=org.id,
        category_code="neighbour",
        source_code="party_application",
        summary="测试",
        received_on=date(2025, 3, 3),
        occurred_region_code="130602",
        status=CaseStatus.declined,
        declined_on=date(2025, 3, 20),
        last_step_on=date(2025, 3, 20),
    )
    db.session.add(case)
    db.session.flush()

    def event(code, day):
        append_event(
            {
                "case_id": case.id,
                "code": code,
                "on_date": day,
                "organization_id": org.id,
                "region_code": org.region_code,
                "actor_name": "t",
                "data": {},
            }
        )

    event("declined", date(2025, 3, 20))
    event("registered", date(2025, 3, 3))
    event("declined", date(2025, 3, 10))
    scope = Scope(region_code="130000")
    for as_of in (date(2025, 3, 5), date(2025, 3, 10), date(2025, 3, 15), date(2025, 3, 25)):
        fast = report_for_scope(scope, date(2025, 3, 1), date(2025, 3, 31), as_of, "month")
        assert fast == report_for_scope(scope, date(2025, 3, 1), date(2025, 3, 31), as_of, "month", source="events")
    # completed by 03-05: none; by 03-10 (the earlier decline) and later: the one case
    assert (
        report_for_scope(scope, date(2025, 3, 1), date(2025, 3, 31), date(2025, 3, 5), None)["totals"]["completed"] == 0
    )
    assert (
        report_for_scope(scope, date(2025, 3, 1), date(2025, 3, 31), date(2025, 3, 10), None)["totals"]["completed"]
        == 1
    )


def test_transitions_through_the_services_keep_the_aggregates(make_case, make_org):
    """The listener runs inside the cases service's transactions (register, accept, session, conclude,
    decline)."""
    org = make_org(region_code="110105")
    make_case(org, CaseStatus.concluded, received_on=date(2025, 5, 6))
    make_case(org, CaseStatus.declined, received_on=date(2025, 5, 7))
    make_case(org, CaseStatus.accepted, received_on=date(2025, 5, 8))
    scope = Scope(organization_id=org.id)
    report = report_for_scope(scope, date(2025, 5, 1), date(2025, 5, 31), date(2025, 6, 30), None)
    assert report == report_for_scope(
        scope, date(2025, 5, 1), date(2025, 5, 31), date(2025, 6, 30), None, source="events"
    )
    # received 3; accepted 2; declined 1; concluded 1 (agreement, on time); completed 2 of 3
    totals = report["totals"]
    assert (
        totals["received"],
        totals["accepted"],
        totals["declined"],
        totals["concluded"],
        totals["agreement"],
        totals["concluded_on_time"],
        totals["completed"],
    ) == (3, 2, 1, 1, 1, 1, 2)


@pytest.mark.parametrize(
    ("first", "last", "days", "months"),
    [
        (date(2025, 1, 1), date(2025, 12, 31), [], (date(2025, 1, 1), date(2025, 12, 1))),
        (
            date(2025, 1, 15),
            date(2025, 3, 10),
            [(date(2025, 1, 15), date(2025, 1, 31)), (date(2025, 3, 1), date(2025, 3, 10))],
            (date(2025, 2, 1), date(2025, 2, 1)),
        ),
        (date(2025, 2, 3), date(2025, 2, 20), [(date(2025, 2, 3), date(2025, 2, 20))], None),
        (date(2025, 2, 1), date(2025, 2, 28), [], (date(2025, 2, 1), date(2025, 2, 1))),
        (
            date(2025, 1, 20),
            date(2025, 2, 28),
            [(date(2025, 1, 20), date(2025, 1, 31))],
            (date(2025, 2, 1), date(2025, 2, 1)),
        ),
    ],
)
def test_split_period_into_odd_days_and_whole_months(first, last, days, months):
    assert split_period(first, last) == (days, months)


def test_generated_tables_are_the_ones_the_generator_declares():
    assert set(BULK_TABLES) <= set(COLUMNS)
    assert {Organization.__tablename__, Studio.__tablename__} <= set(COLUMNS)


@pytest.mark.postgres
@pytest.mark.real_commits
def test_concurrent_registrations_and_conclusions_neither_deadlock_nor_drift(app, make_org, make_case):
    """Registrations and conclusions in one organisation on one day, four threads at once: they touch the same
    day, month and region rows in opposite orders unless the listener orders its writes; every one must commit
    and the aggregates must still equal the event log."""
    import threading

    from mediation_hub.cases import service
    from mediation_hub.core.actor import SYSTEM
    from tests.factories_cases import case_data

    org = make_org(region_code="130602")
    day = date(2025, 6, 10)
    open_cases = [make_case(org, CaseStatus.accepted, received_on=day, accepted_on=day).id for _ in range(8)]
    org_id = org.id  # read before the commit expires it: threads must not touch this thread's session
    db.session.commit()
    failures, barrier = [], threading.Barrier(4)

    def work(i):
        with app.app_context():
            try:
                barrier.wait()
                for n in range(4):
                    if i % 2:
                        service.conclude_case(
                            SYSTEM,
                            open_cases[(i // 2) * 4 + n],
                            outcome="agreement",
                            concluded_on=day,
                            terms="双方互不追究",
                        )
                    else:
                        service.register_case(SYSTEM, case_data(org_id, received_on=day))
                    db.session.commit()
            except Exception as exc:
                db.session.rollback()
                failures.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    scope = Scope(organization_id=org_id)
    for group_by in (None, "month", "region"):
        fast = report_for_scope(scope, date(2025, 6, 1), date(2025, 6, 30), date(2025, 12, 31), group_by)
        assert fast == report_for_scope(
            scope, date(2025, 6, 1), date(2025, 6, 30), date(2025, 12, 31), group_by, source="events"
        )
    # registered that day: the 8 prepared cases and 2 threads × 4 new ones = 16; concluded: 2 threads × 4 = 8
    totals = report_for_scope(Scope(region_code="130600"), day, day, date(2025, 12, 31), None)["totals"]
    assert (totals["received"], totals["concluded"]) == (16, 8)


def test_rebuild_command_brings_the_aggregates_in_line_after_a_bulk_load(app):
    """`mediation-hub reports rebuild-aggregates` (what docs/PERFORMANCE.md tells an operator to run after a
    bulk load that bypassed the listener): the reports from the aggregates equal the event log's again."""
    generated(8, cases=120, writer_class=OrmEventWriter)
    generated(9, cases=80, label="-2")  # bulk rows the listener never heard of
    result = app.test_cli_runner().invoke(
        args=["reports", "rebuild-aggregates", "--from", "2025-01-01", "--to", "2025-12-31"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("aggregates rebuilt: ")
    assert_same_reports(8, samples=15)
