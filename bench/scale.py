"""What one hub on one PostgreSQL holds (docs/SCALE.md): database size per million cases, cases written per
second through the API, rate reports per second.

    python -m bench.scale --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mh_bench_1m
    python -m bench.scale --smoke

On a database filled by bench.generate:

* size: ``pg_database_size`` and ``pg_total_relation_size`` (table, indexes, TOAST) of the largest tables,
  each divided by the cases, per million cases (on SQLite, the smoke run: the file's pages);
* cases/s written: wrk (bench/wrk.py, 8 connections, ``--duration`` s) on ``POST /api/v1/cases`` with a
  mediator's token, each request a new dispute with two parties (bench.http_load's bodies), through gunicorn with
  2 sync workers; the cases it writes are measured again by the next run's size;
* reports/s: wrk on ``GET /api/v1/reports/rates`` for a province and a year (bench.rates' query) with a
  coordinator's token, totals and by month.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench.common import bench_app, ensure_user, http_json, machine, pg_version, serve, server_env, write_results
from bench.http_load import Bodies
from bench.rates import PROVINCE, YEAR
from bench.wrk import Req, run_wrk

COLUMNS = ["database", "figure", "value", "unit", "per_million_cases", "note"]
LARGEST = 8  # tables listed by name; the rest are summed


def sizes(engine: sa.Engine) -> tuple[int, int, list[tuple[str, int]]]:
    """(cases, database bytes, [(table, bytes)] largest first)."""
    with engine.connect() as conn:
        cases = conn.scalar(sa.text("SELECT count(*) FROM cases")) or 0
        if engine.dialect.name == "postgresql":
            total = conn.scalar(sa.text("SELECT pg_database_size(current_database())"))
            tables = conn.execute(
                sa.text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 2 DESC"
                )
            ).all()
        else:  # SQLite: the pages of each table and its indexes (dbstat may be missing: the file's pages then)
            total = conn.scalar(sa.text("PRAGMA page_count")) * conn.scalar(sa.text("PRAGMA page_size"))
            try:
                tables = conn.execute(
                    sa.text(
                        "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
                        "LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY 1 ORDER BY 2 DESC"
                    )
                ).all()
            except sa.exc.OperationalError:
                tables = []
    return cases, int(total), [(name, int(size)) for name, size in tables]


def size_rows(engine: sa.Engine) -> list[dict]:
    cases, total, tables = sizes(engine)
    label = engine.url.database.rsplit("/", 1)[-1] if engine.url.database else "?"
    per_m = 1_000_000 / cases if cases else 0.0
    rows = [
        {
            "database": label,
            "figure": "cases",
            "value": cases,
            "unit": "",
            "per_million_cases": None,
            "note": "in the database",
        },
        {
            "database": label,
            "figure": "database size",
            "value": total / 2**20,
            "unit": "MiB",
            "per_million_cases": f"{total * per_m / 2**30:.2f} GiB",
            "note": "pg_database_size" if engine.dialect.name == "postgresql" else "SQLite pages",
        },
    ]
    for name, size in tables[:LARGEST]:
        rows.append(
            {
                "database": label,
                "figure": f"  {name}",
                "value": size / 2**20,
                "unit": "MiB",
                "per_million_cases": f"{size * per_m / 2**30:.2f} GiB",
                "note": f"{size / cases:,.0f} bytes a case" if cases else "",
            }
        )
    rest = sum(size for _, size in tables[LARGEST:])
    if rest:
        rows.append(
            {
                "database": label,
                "figure": f"  {len(tables) - LARGEST} other tables",
                "value": rest / 2**20,
                "unit": "MiB",
                "per_million_cases": f"{rest * per_m / 2**30:.2f} GiB",
                "note": "",
            }
        )
    return rows


def throughput_rows(database_url: str, *, duration: float, connections: int, threads: int) -> list[dict]:
    app = bench_app(database_url)
    with app.app_context():
        from mediation_hub.cases.models import Case
        from mediation_hub.extensions import db
        from mediation_hub.registry.models import Organization

        org_id = db.session.scalar(
            sa.select(Case.organization_id)
            .group_by(Case.organization_id)
            .order_by(sa.func.count().desc(), Case.organization_id)
            .limit(1)
        )
        region = db.session.get(Organization, org_id).region_code
        db.session.remove()
    mediator = ensure_user(app, f"bench-mediator-{org_id}", "mediator", organization_id=org_id)
    coordinator = ensure_user(app, "bench-coordinator-hebei", "coordinator", region_code=PROVINCE)
    engine = sa.create_engine(database_url)
    bodies = Bodies(engine, org_id, region)
    engine.dispose()
    load = {"duration": duration, "connections": connections, "threads": threads}
    query = f"/api/v1/reports/rates?region_code={PROVINCE}&from={YEAR[0]}&to={YEAR[1]}"
    with serve("wsgi:app", server_env(database_url), workers=2) as (base, _pid):
        run_wrk(base, [Req("GET", query)], token=coordinator, **{**load, "duration": 1})  # warm the workers
        for body in bodies.take(4):  # and their first registrations
            http_json("POST", base + "/api/v1/cases", token=mediator, body=body)
        reports = run_wrk(base, [Req("GET", query)], token=coordinator, **load)
        by_month = run_wrk(base, [Req("GET", query + "&group_by=month")], token=coordinator, **load)
        # no write is quicker than 400 a second on this hardware: one-use bodies for that pace, and more
        posts = [Req("POST", "/api/v1/cases", body) for body in bodies.take(int(400 * duration) + 100)]
        written = run_wrk(base, posts, token=mediator, **load)
    wrk_note = f"wrk -t{threads} -c{connections} {duration:g} s, gunicorn 2 sync workers"

    label = (sa.engine.make_url(database_url).database or "?").rsplit("/", 1)[-1]

    def row(figure: str, result: dict, unit: str, what: str) -> dict:
        return {
            "database": label,
            "figure": figure,
            "value": result["rps"],
            "unit": unit,
            "per_million_cases": None,
            "note": f"{what}; p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"{result['errors']} errors; {wrk_note}",
        }

    return [
        row("cases written", written, "cases/s", "POST /api/v1/cases, two parties each"),
        row("rate reports", reports, "reports/s", f"rates {PROVINCE} {YEAR[0].year}"),
        row("rate reports by month", by_month, "reports/s", f"rates {PROVINCE} {YEAR[0].year} by month"),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", action="append", default=[], help="repeatable: the sizes of each, the throughput on the last"
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of wrk per figure")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    urls = list(args.database_url)
    if args.smoke:
        from bench.generate import Spec, run

        if not urls:
            urls = [f"sqlite:///{Path(tempfile.mkdtemp(prefix='mh-bench-')) / 'scale.db'}"]
            run(urls[0], Spec(cases=300, start=YEAR[0], end=YEAR[1]), log=lambda *_: None)
        args.duration, args.connections, args.threads = 3, 1, 1  # SQLite: one writer at a time
    if not urls:
        parser.error("give --database-url (a database filled by bench.generate) or --smoke")
    started = time.perf_counter()
    rows = []
    for url in urls:
        engine = sa.create_engine(url)
        rows += size_rows(engine)
        engine.dispose()
    rows += throughput_rows(urls[-1], duration=args.duration, connections=args.connections, threads=args.threads)
    facts = {**machine(), "postgresql": pg_version(urls[-1]), "wall_s": round(time.perf_counter() - started, 1)}
    write_results(
        "scale" + ("-smoke" if args.smoke else ""),
        "What one hub on one PostgreSQL holds",
        rows,
        columns=COLUMNS,
        facts=facts,
        notes=[
            "sizes before the write run; per million cases = size ÷ cases × 10^6 "
            "(generated data: docs/PERFORMANCE.md); "
            "the reference tables (regions, calendar, organisations, mediators) do not grow with the cases, so the "
            "figure means something from a million cases up",
            "the API and PostgreSQL share the same 2-core machine with wrk",
        ],
        out_dir=args.out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
