"""Import rate (cases per second) and peak memory of the import at 100k and 1M rows, into PostgreSQL.

    python -m bench.import_rate                       # 100k rows in 1 process, 100k and 1M with 2 workers
    python -m bench.import_rate --run 100000:1 --run 1000000:2 --database-url postgresql+psycopg://…/mh_bench_import
    python -m bench.import_rate --rows 100000         # 100k rows only, in 1 process and with 2 workers
    python -m bench.import_rate --smoke               # 50 rows in 1 process, 200 with 2 workers, SQLite

A csv in the documented layout (docs/IMPORT.md, Chinese headers) is written first: one case per row with an
applicant and a respondent (valid ID numbers, phones), most rows concluded, some declined or still open.
Each import runs ``mediation_hub.imports.service.import_file`` in a child process of its own, so its peak
resident memory (``ru_maxrss``) is the import's alone (and its workers', as the largest worker's peak); with
``:2`` the rows are checked in two worker processes (``import_file(workers=2)``, the command line's
``--workers 2``). The rate counts imported rows over the whole call
(reading, checking, bulk inserts, commits per batch, the statistics it refreshes as the tables grow, the
aggregate rebuild at the end). Two baselines, in the same run and database: on PostgreSQL, after each import,
a raw ``COPY`` of the very rows it wrote (its cases, parties and events dumped with ``COPY TO`` into a spooled
file, then copied, timed, into empty tables made ``LIKE`` the real ones with the same indexes, checks and
foreign keys, in one transaction): the floor of what writing those rows costs, the import's rate as a share of
it is the ratio the target asks for (≥ 25 %); and the same kind of rows registered one at a time through the
cases service (``register_case`` + ``accept_case`` + ``conclude_case``), i.e. an import without batching.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import (
    ROOT,
    bench_app,
    create_pg_database,
    drop_pg_database,
    machine,
    peak_rss_mb,
    pg_version,
    write_results,
)
from bench.generate import CATEGORY_SHARES, SOURCE_SHARES, ric_number

COLUMNS = [
    "rows",
    "workers",
    "imported",
    "failed",
    "seconds",
    "cases_per_s",
    "raw_copy_s",
    "raw_copy_cases_per_s",
    "import_vs_raw",
    "peak_rss_mb",
    "worker_rss_mb",
    "target",
]
TARGET_RATE = 5_000  # cases per second
TARGET_SHARE = 0.25  # of a raw COPY of the same rows
COPIED_TABLES = ("cases", "parties", "case_events")
STATUS = (("办结", 0.93), ("不予受理", 0.02), ("受理", 0.05))
OUTCOME = (("达成协议", 0.97), ("未达成协议", 0.02), ("撤回", 0.01))
REGIONS = ("130602", "130606", "130607", "130681", "130629")


def write_csv(path: Path, rows: int, seed: int, tag: str) -> None:
    """``rows`` cases in the import layout, deterministic for the seed; source numbers carry ``tag``."""
    from mediation_hub.imports.layout import COLUMNS as LAYOUT

    rng = random.Random(seed)
    headers = {column.key: column.header for column in LAYOUT}
    keys = [
        "source_number",
        "received_on",
        "category",
        "source",
        "summary",
        "occurred_region_code",
        "status",
        "accepted_on",
        "concluded_on",
        "outcome",
        "terms",
        "declined_on",
        "decline_reason",
        "applicant_name",
        "applicant_id_number",
        "applicant_phone",
        "applicant_region_code",
        "respondent_name",
        "respondent_id_number",
        "respondent_region_code",
    ]
    categories, sources = list(CATEGORY_SHARES), list(SOURCE_SHARES)
    first = date(2024, 1, 1).toordinal()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([headers[k] for k in keys])
        for n in range(rows):
            received = date.fromordinal(first + rng.randrange(330))
            region = rng.choice(REGIONS)
            status = rng.choices([s for s, _ in STATUS], [w for _, w in STATUS])[0]
            accepted = received + timedelta(days=rng.randint(0, 2)) if status != "不予受理" else None
            concluded = accepted + timedelta(days=rng.randint(1, 25)) if status == "办结" else None
            outcome = rng.choices([o for o, _ in OUTCOME], [w for _, w in OUTCOME])[0] if concluded else ""
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
            writer.writerow(
                [
                    f"{tag}-{n:08d}",
                    received.isoformat(),
                    rng.choice(categories),
                    rng.choice(sources),
                    f"历史纠纷导入 {n}",
                    region,
                    status,
                    accepted.isoformat() if accepted else "",
                    concluded.isoformat() if concluded else "",
                    outcome,
                    "被申请人赔偿维修费" if outcome == "达成协议" else "",  # an agreement needs its terms
                    received.isoformat() if status == "不予受理" else "",
                    "不属于人民调解受理范围" if status == "不予受理" else "",
                    f"申请人{n % 997}",
                    ric_number(region, born, n % 1000),
                    f"139{rng.randrange(10**8):08d}",
                    region,
                    f"被申请人{n % 991}",
                    ric_number(region, born + timedelta(days=400), (n + 7) % 1000),
                    region,
                ]
            )


def prepare_database(url: str) -> int:
    """Schema, reference data and the organisations; returns the id of the organisation imported into."""
    from bench.generate import Spec, run

    run(url, Spec(cases=0, start=date(2024, 1, 1), end=date(2024, 12, 31)), log=lambda *_: None)
    app = bench_app(url)
    with app.app_context():
        import sqlalchemy as sa

        from mediation_hub.extensions import db
        from mediation_hub.registry.models import Organization

        return db.session.scalar(
            sa.select(Organization.id)
            .where(Organization.region_code == REGIONS[0], Organization.kind == "people_mediation_committee")
            .order_by(Organization.id)
            .limit(1)
        )


def child(url: str, path: str, organization_id: int, workers: int) -> None:
    """Run one import in this process and print its figures as JSON (the parent reads the last line)."""
    app = bench_app(url)
    with app.app_context():
        from mediation_hub.core.actor import SYSTEM
        from mediation_hub.imports.service import import_file

        summary = import_file(
            path,
            organization_id,
            SYSTEM,
            source_system="bench",
            errors_path=Path(path).with_suffix(".errors.csv"),
            workers=workers,
        )
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if workers > 1 else None
    print(
        json.dumps(
            {
                "rows": summary.total,
                "imported": summary.imported,
                "failed": summary.failed,
                "skipped": summary.skipped,
                "seconds": summary.seconds,
                "peak_rss_mb": peak_rss_mb(),
                "worker_rss_mb": children,
                "first_failures": [str(f) for f in summary.failures[:3]],
            }
        )
    )


def run_child(url: str, path: Path, organization_id: int, workers: int) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.import_rate",
            "--child",
            str(path),
            "--database-url",
            url,
            "--organization",
            str(organization_id),
            "--workers",
            str(workers),
        ],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"import failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def raw_copy(url: str, tag: str) -> dict:
    """Time a raw COPY of the rows an import wrote (its cases: source numbers ``tag-…``, their parties and events)
    into empty tables with the same columns, indexes, checks and foreign keys; return the rows and seconds."""
    import psycopg
    import sqlalchemy as sa

    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    of_run = f"SELECT id FROM cases WHERE source_system = 'bench' AND source_number LIKE '{tag}-%'"
    selects = {
        "cases": f"SELECT * FROM cases WHERE id IN ({of_run}) ORDER BY id",
        "parties": f"SELECT * FROM parties WHERE case_id IN ({of_run}) ORDER BY id",
        "case_events": f"SELECT * FROM case_events WHERE case_id IN ({of_run}) ORDER BY id",
    }
    counts: dict[str, int] = {}
    with psycopg.connect(dsn, autocommit=True) as conn, contextlib.ExitStack() as spools:
        dumps = {}
        for table, select in selects.items():
            spool = spools.enter_context(tempfile.SpooledTemporaryFile(max_size=64 * 2**20))
            counts[table] = 0
            with conn.cursor() as cursor, cursor.copy(f"COPY ({select}) TO STDOUT") as copy:
                for block in copy:
                    spool.write(block)
                    counts[table] += bytes(block).count(b"\n")  # one line a row (text format escapes newlines)
            spool.seek(0)
            dumps[table] = spool
        try:
            for table in COPIED_TABLES:
                conn.execute(f"DROP TABLE IF EXISTS raw_{table}")
            for table in COPIED_TABLES:
                conn.execute(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING ALL)")
            for table in COPIED_TABLES:  # the same foreign keys, those to the cases pointing to the copy's
                for (definition,) in conn.execute(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                    "AND contype = 'f'",
                    (table,),
                ).fetchall():
                    definition = definition.replace("REFERENCES cases(", "REFERENCES raw_cases(")
                    conn.execute(f"ALTER TABLE raw_{table} ADD {definition}")
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cursor:
                for table in COPIED_TABLES:
                    with cursor.copy(f"COPY raw_{table} FROM STDIN") as copy:
                        while block := dumps[table].read(1 << 20):
                            copy.write(block)
            seconds = time.perf_counter() - started
        finally:
            for table in reversed(COPIED_TABLES):
                conn.execute(f"DROP TABLE IF EXISTS raw_{table}")
    return {"seconds": seconds, **counts}


def baseline(url: str, organization_id: int, rows: int) -> dict:
    """The same rows through the cases service one at a time (register, accept, conclude; a commit each)."""
    from bench.http_load import case_body

    app = bench_app(url)
    with app.app_context():
        from mediation_hub.cases import service
        from mediation_hub.core.actor import SYSTEM
        from mediation_hub.extensions import db

        started = time.perf_counter()
        for n in range(rows):
            body = case_body(organization_id, 900_000 + n, REGIONS[0])
            body["received_on"] = date(2024, 3, 1) + timedelta(days=n % 200)
            case, _ = service.register_case(SYSTEM, body)
            service.accept_case(SYSTEM, case.id, accepted_on=body["received_on"])
            service.conclude_case(
                SYSTEM,
                case.id,
                outcome="agreement",
                terms="被申请人赔偿维修费",
                concluded_on=body["received_on"] + timedelta(days=5),
            )
            db.session.commit()
        seconds = time.perf_counter() - started
    return {"rows": rows, "imported": rows, "failed": 0, "seconds": seconds, "cases_per_s": rows / seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh PostgreSQL database mh_bench_import (dropped after)")
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="ROWS:WORKERS",
        help="an import of ROWS rows checked in WORKERS processes (repeatable)",
    )
    parser.add_argument(
        "--rows", type=int, help="one size only: ROWS rows in 1 process and with 2 workers (instead of --run)"
    )
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--baseline-rows", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--organization", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.database_url, args.child, args.organization, args.workers)
        return 0
    runs = [tuple(int(part) for part in run.split(":")) for run in args.run] or (
        [(args.rows, 1), (args.rows, 2)]
        if args.rows
        else [(50, 1), (200, 2)]
        if args.smoke
        else [(100_000, 1), (100_000, 2), (1_000_000, 2)]
    )
    work = Path(tempfile.mkdtemp(prefix="mh-bench-import-"))
    url, own_database = args.database_url, False
    if args.smoke:
        url = url or f"sqlite:///{work / 'import.db'}"
        args.baseline_rows = min(args.baseline_rows, 5)
    elif not url:
        url, own_database = create_pg_database("mh_bench_import"), True
    started = time.perf_counter()
    try:
        organization_id = prepare_database(url)
        rows = []
        results = []
        for index, (size, workers) in enumerate(runs):
            path = work / f"cases-{size}.csv"
            write_csv(path, size, seed=index, tag=f"R{index}")
            result = run_child(url, path, organization_id, workers)
            result["cases_per_s"] = result["imported"] / result["seconds"] if result["seconds"] else None
            result["workers"] = workers
            results.append(result)
            path.unlink()
            rate = result["cases_per_s"] or 0
            target = "rate met (≥5,000/s)" if rate >= TARGET_RATE else "rate MISSED (<5,000/s)"
            copied: dict = {}
            if url.startswith("postgresql") and result["imported"]:
                raw = raw_copy(url, f"R{index}")
                share = raw["seconds"] / result["seconds"]  # = the import's rate ÷ the raw COPY's, same cases
                copied = {
                    "raw_copy_s": raw["seconds"],
                    "raw_copy_cases_per_s": raw["cases"] / raw["seconds"],
                    "import_vs_raw": f"{share:.1%}",
                }
                target += "; ratio " + ("met (≥25%)" if share >= TARGET_SHARE else "MISSED (<25%)")
                result["raw_copy"] = raw
            rows.append(
                {
                    "rows": f"{size:,}",
                    "workers": workers,
                    **{
                        k: result[k]
                        for k in ("imported", "failed", "seconds", "cases_per_s", "peak_rss_mb", "worker_rss_mb")
                    },
                    **copied,
                    "target": target,
                }
            )
        # memory: the smallest and the largest import made with the same number of workers
        for workers in sorted({w for _, w in runs}):
            same = sorted((size, result) for (size, w), result in zip(runs, results, strict=True) if w == workers)
            if len(same) >= 2 and same[0][0] < same[-1][0]:
                (small, first), (large, last) = same[0], same[-1]
                growth = (
                    max(last["peak_rss_mb"], last["worker_rss_mb"] or 0)
                    / max(first["peak_rss_mb"], first["worker_rss_mb"] or 0)
                    - 1
                )
                rows.append(
                    {
                        "rows": f"memory {large:,} vs {small:,}",
                        "workers": workers,
                        "peak_rss_mb": f"{growth:+.0%}",
                        "target": "met (within 20%)" if abs(growth) <= 0.20 else "MISSED (>20%)",
                    }
                )
        base = baseline(url, organization_id, args.baseline_rows)
        rows.append(
            {
                "rows": f"baseline: {base['rows']:,} via the service, one at a time",
                "imported": base["imported"],
                "failed": 0,
                "seconds": base["seconds"],
                "cases_per_s": base["cases_per_s"],
                "target": f"import is {results[-1]['cases_per_s'] / base['cases_per_s']:.0f}× faster",
            }
        )
        facts = {**machine(), "postgresql": pg_version(url), "wall_s": round(time.perf_counter() - started, 1)}
        write_results(
            "import_rate" + ("-smoke" if args.smoke else ""),
            "Import rate and peak memory",
            rows,
            columns=COLUMNS,
            facts=facts,
            out_dir=args.out,
            notes=[
                "import: mediation_hub.imports.service.import_file in its own process (csv, batches of "
                "500, commits per batch, aggregate rebuild at the end); workers: processes checking rows",
                "peak_rss_mb: ru_maxrss of the import process; worker_rss_mb: the largest worker's",
                "memory row: growth of the larger of the two peaks between the smallest and the largest "
                "import with the same workers",
                "raw_copy_s: COPY of the very rows the import wrote (cases, parties, events, dumped with COPY TO) "
                "into empty tables LIKE the real ones (same indexes, checks, foreign keys), one transaction; "
                "import_vs_raw: the import's rate as a share of the raw COPY's (target ≥ 25%; PostgreSQL only)",
                "raw COPY rows: "
                + (
                    "; ".join(
                        f"run {i}: " + ", ".join(f"{t} {r['raw_copy'][t]:,}" for t in COPIED_TABLES)
                        for i, r in enumerate(results)
                        if "raw_copy" in r
                    )
                    or "none (PostgreSQL only)"
                ),
                "first failures: " + "; ".join(results[-1].get("first_failures") or ["none"]),
            ],
        )
    finally:
        if own_database:
            drop_pg_database("mh_bench_import")
    return 0


if __name__ == "__main__":
    sys.exit(main())
