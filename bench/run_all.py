"""Every benchmark of docs/PERFORMANCE.md in one go (what ``make bench`` and ``make bench-quick`` run).

    python -m bench.run_all [--pg postgresql+psycopg://postgres@127.0.0.1:5432] [--sizes 1000000,10000000] [--keep]
    python -m bench.run_all --quick          # 100,000 cases, in under 15 minutes on a 2-core machine

Creates the dedicated databases mh_bench_<size> on the local PostgreSQL, fills them with bench.generate, and
runs: bench.rates (every size), bench.dashboard (the largest), bench.http_load (the smallest: the hub's GET,
registration and acceptance beside hello-world and the bare endpoint, with wrk), bench.memory_soak (the
smallest: 100,000 mixed requests, each worker's memory every 10,000), bench.scale (size per million cases of
every size; cases/s written and reports/s on the largest), bench.import_rate (its own database), and
bench.documents (its own SQLite file). Each writes its table to bench/results/; the databases are dropped
unless ``--keep``.

``--quick``: one database of 100,000 cases; wrk 5 s per endpoint in http_load; a memory soak of
``--soak-requests`` (default 30,000 with --quick: three readings, the fewest the verdict needs, as 100,000
would take about ten minutes on their own); an import of 100,000 rows; fewer documents.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.common import ROOT, create_pg_database, drop_pg_database


def step(*args: str) -> None:
    started = time.perf_counter()
    print("$ python -m " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", *args], cwd=str(ROOT), check=True)
    print(f"  ({time.perf_counter() - started:,.0f} s)", flush=True)


def has_option(module: str, option: str) -> bool:
    """Whether ``python -m module`` takes ``option`` (its --help names it)."""
    completed = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=str(ROOT), capture_output=True, text=True, check=False
    )
    return option in completed.stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--sizes", default=None, help="cases per database (default 1000000,10000000; --quick 100000)")
    parser.add_argument("--quick", action="store_true", help="100,000 cases and shorter runs (make bench-quick)")
    parser.add_argument("--soak-requests", type=int, default=None, help="default 100,000 (--quick 30,000)")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in (args.sizes or ("100000" if args.quick else "1000000,10000000")).split(",")]
    soak_requests = args.soak_requests or (30_000 if args.quick else 100_000)
    names = {size: f"mh_bench_{size // 1_000_000}m" if size >= 1_000_000 else f"mh_bench_{size}" for size in sizes}
    urls = {size: f"{args.pg}/{name}" for size, name in names.items()}
    started = time.perf_counter()
    try:
        for size in sizes:
            create_pg_database(names[size])
            step("bench.generate", "--database-url", urls[size], "--cases", str(size))
        step("bench.rates", *(arg for size in sizes for arg in ("--database-url", urls[size])))
        step("bench.dashboard", "--database-url", urls[max(sizes)])
        http = ("--duration", "5") if args.quick else ()
        step("bench.http_load", "--database-url", urls[min(sizes)], *http)
        step("bench.memory_soak", "--database-url", urls[min(sizes)], "--requests", str(soak_requests))
        # sizes first (the write runs add cases), the throughput on the largest, which it is given last
        scale = ("--duration", "10") if args.quick else ()
        step("bench.scale", *(arg for size in sorted(sizes) for arg in ("--database-url", urls[size])), *scale)
        if args.quick:
            rows = ("--rows", "100000") if has_option("bench.import_rate", "--rows") else ()
            if not rows:
                print("(bench.import_rate takes no --rows: its default sizes)", flush=True)
            step("bench.import_rate", *rows)
            step("bench.documents", "--agreements", "60", "--files", "15")
        else:
            step("bench.import_rate")
            step("bench.documents")
    finally:
        if not args.keep:
            for name in names.values():
                drop_pg_database(name)
    print(f"all benchmarks: {time.perf_counter() - started:,.0f} s; tables in bench/results/", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
