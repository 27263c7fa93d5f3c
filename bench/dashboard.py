"""Dashboard page server time (p50/p95) for a province-year, against the same page counted from the event log.

    python -m bench.dashboard --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mh_bench_10m
    python -m bench.dashboard --smoke

Server time is the time the app takes to answer ``GET /reporting?region_code=130000&from=…&to=…`` for a
signed-in coordinator: routing, the dashboard service (totals, by category, month, region and studio,
transfer flows, legal aid, overdue list), template rendering, measured with Flask's test client in this
process (no network). The baseline, in the same run and database, is the same page with the rates counted
from the event log (``reporting.service.RATES_SOURCE = "events"``), i.e. without the aggregates. Each part of
the dashboard is also timed on its own, to show where the time goes. The page is timed on both bases, handled
(承办, where the cases were handled) and occurred (属地, where the disputes arose: ``&basis=occurred``), against the
same target.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import BENCH_PASSWORD, bench_app, ensure_user, machine, percentile, pg_version, timed, write_results

PROVINCE = "130000"
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
COLUMNS = ["cases", "what", "runs", "p50_ms", "p95_ms", "target"]


def signed_in_client(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD})
    if response.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return client


def measure(database_url: str, runs: int, baseline_runs: int) -> list[dict]:
    app = bench_app(database_url, WTF_CSRF_ENABLED=False, LOGIN_RATE_LIMIT="1000 per minute")
    username = "bench-coordinator-hebei"
    ensure_user(app, username, "coordinator", region_code=PROVINCE)
    url = f"/reporting?region_code={PROVINCE}&from={YEAR[0]}&to={YEAR[1]}"
    rows = []
    with app.app_context():
        import sqlalchemy as sa

        from mediation_hub.extensions import db
        from mediation_hub.reporting import service
        from mediation_hub.reporting.queries import Scope

        cases = db.session.scalar(sa.text("SELECT count(*) FROM cases"))
        label = f"{cases / 1e6:.1f}M" if cases >= 100_000 else f"{cases:,}"
        db.session.remove()
    client = signed_in_client(app, username)

    def page(basis: str = "handled"):
        response = client.get(f"{url}&basis={basis}")
        if response.status_code != 200:
            raise RuntimeError(f"dashboard answered {response.status_code}")

    page_ms = {}
    for basis in ("handled", "occurred"):
        page_ms[basis] = timed(lambda basis=basis: page(basis), repeat=runs, warmup=2)
        rows.append(
            {
                "cases": label,
                "what": f"dashboard page (aggregates), basis {basis}",
                "runs": runs,
                "p50_ms": percentile(page_ms[basis], 0.5),
                "p95_ms": percentile(page_ms[basis], 0.95),
                "target": "met (≤150)" if percentile(page_ms[basis], 0.95) <= 150 else "MISSED (>150)",
            }
        )
    with app.app_context():
        scope = Scope(region_code=PROVINCE)
        as_of = date.today()
        parts = {
            "  totals (with the flows)": lambda: service.report_for_scope(scope, *YEAR, as_of, None),
            "  totals (with the flows), occurred": lambda: service.report_for_scope(
                scope, *YEAR, as_of, None, basis="occurred"
            ),
            "  flows alone (open at either end, moves)": lambda: service.case_flows(
                scope, YEAR[0], YEAR[1], {"received": 0, "concluded": 0, "declined": 0}
            ),
            "  by region, occurred": lambda: service._groups(scope, *YEAR, as_of, "region", basis="occurred"),
            "  by category": lambda: service._groups(scope, *YEAR, as_of, "category"),
            "  by month": lambda: service._groups(scope, *YEAR, as_of, "month"),
            "  by region": lambda: service._groups(scope, *YEAR, as_of, "region"),
            "  by studio": lambda: service._groups(scope, *YEAR, as_of, "studio"),
            "  transfer flows": lambda: service.flows_for_scope(scope, *YEAR),
            "  legal aid": lambda: service.legal_aid_for_scope(scope, *YEAR),
            "  overdue list": lambda: service.overdue_for_scope(scope, as_of),
            # the same two parts counted from their own tables, as before the month aggregates (the reference)
            "  transfer flows, from the transfers table": lambda: service.flows_for_scope(
                scope, *YEAR, source="tables"
            ),
            "  legal aid, from the applications table": lambda: service.legal_aid_for_scope(
                scope, *YEAR, source="tables"
            ),
        }
        for name, fn in parts.items():
            ms = timed(fn, repeat=max(3, runs // 3))
            rows.append(
                {
                    "cases": label,
                    "what": name,
                    "runs": len(ms),
                    "p50_ms": percentile(ms, 0.5),
                    "p95_ms": percentile(ms, 0.95),
                }
            )
        db.session.remove()
    service.RATES_SOURCE = "events"
    try:
        baseline_ms = timed(page, repeat=baseline_runs, warmup=1)
    finally:
        service.RATES_SOURCE = "aggregates"
    rows.append(
        {
            "cases": label,
            "what": "baseline: same page, rates from the event log",
            "runs": baseline_runs,
            "p50_ms": percentile(baseline_ms, 0.5),
            "p95_ms": percentile(baseline_ms, 0.95),
            "target": f"page is {percentile(baseline_ms, 0.5) / percentile(page_ms['handled'], 0.5):.0f}× faster",
        }
    )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", action="append", default=[])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    urls = list(args.database_url)
    if args.smoke:
        from bench.generate import Spec, run

        if not urls:
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mh-bench-')) / 'dashboard.db'}"
            run(url, Spec(cases=1000, start=YEAR[0], end=YEAR[1]), log=lambda *_: None)
            urls = [url]
        args.runs, args.baseline_runs = min(args.runs, 3), 1
    if not urls:
        parser.error("give --database-url (a database filled by bench.generate) or --smoke")
    started = time.perf_counter()
    rows = []
    for url in urls:
        rows += measure(url, args.runs, args.baseline_runs)
    facts = {**machine(), "postgresql": pg_version(urls[0]), "wall_s": round(time.perf_counter() - started, 1)}
    write_results(
        "dashboard" + ("-smoke" if args.smoke else ""),
        "Dashboard page server time, province-year",
        rows,
        columns=COLUMNS,
        facts=facts,
        out_dir=args.out,
        notes=[
            "server time: Flask test client in-process (routing, services, template), no network",
            "indented rows: each part of the dashboard timed alone through the service",
            "baseline: the same page with RATES_SOURCE='events' (the event-log query)",
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
