"""Rates API for a province over a year: p50/p95 over HTTP against the plain GROUP BY over the case table.

    python -m bench.rates --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mh_bench_1m \\
                          --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mh_bench_10m
    python -m bench.rates --smoke      # 1,000 generated cases in a temporary SQLite file, a few requests

For each database: the app is served by gunicorn (2 workers) on 127.0.0.1 and a coordinator's bearer token
asks ``GET /api/v1/reports/rates?region_code=130000&from=2025-01-01&to=2025-12-31`` (as_of: today) REQUESTS
times, one after another; the baseline, in the same database and run, is the straightforward query a report
would otherwise run: one GROUP BY over ``cases`` joined to the handling organisation's region, filtered to
the province and to cases with any of their dates in the year (timed in-process with psycopg, so the
baseline is spared HTTP and Flask). Also timed: the event-log query the aggregates replaced
(``source="events"``), in-process. Both bases are measured (``basis=handled``, where the cases were handled, and
``basis=occurred``, where the disputes arose: its baseline joins the case's place instead of its handler's region),
against the same targets.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from bench.common import (
    bench_app,
    ensure_user,
    http_json,
    machine,
    percentile,
    pg_version,
    serve,
    server_env,
    timed,
    write_results,
)

PROVINCE = "130000"
YEAR = (date(2025, 1, 1), date(2025, 12, 31))

BASELINE_SQL = """
SELECT c.category_code,
       count(*) FILTER (WHERE c.received_on BETWEEN :f AND :t) AS received,
       count(*) FILTER (WHERE c.accepted_on BETWEEN :f AND :t) AS accepted,
       count(*) FILTER (WHERE c.declined_on BETWEEN :f AND :t) AS declined,
       count(*) FILTER (WHERE c.concluded_on BETWEEN :f AND :t) AS concluded,
       count(*) FILTER (WHERE c.concluded_on BETWEEN :f AND :t AND c.outcome = 'agreement') AS agreement,
       count(*) FILTER (WHERE c.concluded_on BETWEEN :f AND :t AND c.concluded_on <= c.due_on) AS on_time,
       count(*) FILTER (WHERE c.received_on BETWEEN :f AND :t
                        AND (c.concluded_on <= :as_of OR c.declined_on <= :as_of)) AS completed
FROM cases c
{place}
WHERE r.path LIKE :path
  AND (c.received_on BETWEEN :f AND :t OR c.accepted_on BETWEEN :f AND :t
       OR c.declined_on BETWEEN :f AND :t OR c.concluded_on BETWEEN :f AND :t)
GROUP BY c.category_code
"""


PLACE_JOINS = {
    "handled": "JOIN organizations o ON o.id = c.organization_id JOIN regions r ON r.code = o.region_code",
    "occurred": "JOIN regions r ON r.code = c.occurred_region_code",
}
BASES = ("handled", "occurred")


def baseline_totals(connection, as_of: date, basis: str = "handled") -> dict:
    rows = connection.execute(
        sa.text(BASELINE_SQL.format(place=PLACE_JOINS[basis])),
        {"f": YEAR[0], "t": YEAR[1], "as_of": as_of, "path": f"{PROVINCE}/%"},
    ).all()
    return {name: sum(getattr(r, name) for r in rows) for name in ("received", "concluded", "agreement", "completed")}


def measure(database_url: str, requests: int, label: str | None = None) -> list[dict]:
    app = bench_app(database_url)
    token = ensure_user(app, "bench-coordinator-hebei", "coordinator", region_code=PROVINCE)
    with app.app_context():
        from mediation_hub.extensions import db
        from mediation_hub.reporting.queries import Scope
        from mediation_hub.reporting.service import report_for_scope

        cases = db.session.scalar(sa.text("SELECT count(*) FROM cases"))
        label = label or (f"{cases / 1e6:.1f}M" if cases >= 100_000 else f"{cases:,}")
        as_of = date.today()
        scope = Scope(region_code=PROVINCE)
        # the reference and the baseline take seconds each at 10M: a few runs of each are enough
        events_ms, event_totals = {}, {}
        for basis in BASES:
            events_ms[basis] = timed(
                lambda basis=basis: report_for_scope(scope, *YEAR, as_of, None, source="events", basis=basis), repeat=3
            )
            event_totals[basis] = report_for_scope(scope, *YEAR, as_of, None, source="events", basis=basis)["totals"]
        db.session.remove()
    engine = sa.create_engine(database_url)
    baseline_ms, baseline = {}, {}
    with engine.connect() as connection:
        for basis in BASES:
            baseline_ms[basis] = timed(
                lambda basis=basis: baseline_totals(connection, as_of, basis), repeat=min(10, max(3, requests // 20))
            )
            baseline[basis] = baseline_totals(connection, as_of, basis)
    engine.dispose()
    rows = []
    with serve("wsgi:app", server_env(database_url), workers=2) as (base, _pid):
        for basis, group_by in ((b, g) for b in BASES for g in (None, "month", "region")):
            query = f"region_code={PROVINCE}&from={YEAR[0]}&to={YEAR[1]}&basis={basis}"
            query += f"&group_by={group_by}" if group_by else ""
            url = f"{base}/api/v1/reports/rates?{query}"
            status, body = http_json("GET", url, token=token)
            if status != 200:
                raise RuntimeError(f"rates API answered {status}: {body}")
            api_ms = timed(lambda url=url: _ok(http_json("GET", url, token=token)), repeat=requests, warmup=3)
            row = {
                "cases": label,
                "basis": basis,
                "query": f"rates {PROVINCE} 2025" + (f" by {group_by}" if group_by else ""),
                "api_p50_ms": percentile(api_ms, 0.5),
                "api_p95_ms": percentile(api_ms, 0.95),
                "api_mean_ms": statistics.fmean(api_ms),
                "requests": requests,
            }
            if group_by is None:
                speedup = percentile(baseline_ms[basis], 0.5) / row["api_p50_ms"]
                row.update(
                    {
                        "baseline_p50_ms": percentile(baseline_ms[basis], 0.5),
                        "baseline_p95_ms": percentile(baseline_ms[basis], 0.95),
                        "speedup_p50": speedup,
                        "event_log_p50_ms": percentile(events_ms[basis], 0.5),
                        "received": body["totals"]["received"],
                        "baseline_received": baseline[basis]["received"],
                        "success_rate": body["totals"]["success_rate"],
                        "completion_rate": body["totals"]["completion_rate"],
                        "target_p95_50ms": "met" if row["api_p95_ms"] <= 50 else "MISSED",
                        "target_20x": "met" if speedup >= 20 else "MISSED",
                    }
                )
                assert body["totals"] == event_totals[basis], "aggregates and event log disagree"
            rows.append(row)
    return rows


def _ok(result):
    status, body = result
    if status != 200:
        raise RuntimeError(f"rates API answered {status}: {body}")


COLUMNS = [
    "cases",
    "basis",
    "query",
    "requests",
    "api_p50_ms",
    "api_p95_ms",
    "baseline_p50_ms",
    "baseline_p95_ms",
    "speedup_p50",
    "event_log_p50_ms",
    "received",
    "baseline_received",
    "success_rate",
    "completion_rate",
    "target_p95_50ms",
    "target_20x",
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", action="append", default=[], help="a generated database (repeatable)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")
    args = parser.parse_args(argv)
    urls = list(args.database_url)
    if args.smoke:
        from bench.generate import Spec, run

        if not urls:
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mh-bench-')) / 'rates.db'}"
            run(url, Spec(cases=1000, start=YEAR[0], end=YEAR[1]), log=lambda *_: None)
            urls = [url]
        args.requests = min(args.requests, 5)
    if not urls:
        parser.error("give --database-url (a database filled by bench.generate) or --smoke")
    started = time.perf_counter()
    rows = []
    for url in urls:
        rows += measure(url, args.requests)
    facts = {**machine(), "postgresql": pg_version(urls[0]), "wall_s": round(time.perf_counter() - started, 1)}
    write_results(
        "rates" + ("-smoke" if args.smoke else ""),
        "Rates API for a province-year vs the plain GROUP BY",
        rows,
        columns=COLUMNS,
        facts=facts,
        out_dir=args.out,
        notes=[
            "api: GET over HTTP to gunicorn (2 workers) on 127.0.0.1 with a coordinator's bearer token",
            "baseline: one GROUP BY over cases joined to the handler's region, psycopg in-process",
            "event_log: the reference query over case_events that the aggregates replaced, in-process",
            "baseline counts each case under its current handler; the API counts each event where it "
            "happened (DESIGN.md), so 'received' can differ by the transferred cases",
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
