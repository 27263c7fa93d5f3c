"""Every benchmark of docs/PERFORMANCE.md in one go (what ``make bench`` runs).

    python -m bench.run_all [--pg postgresql+psycopg://postgres@127.0.0.1:5432] [--sizes 1000000,10000000] [--keep]

Creates the dedicated databases mh_bench_<size> on the local PostgreSQL, fills them with bench.generate, runs
bench.rates (every size), bench.dashboard (the largest), bench.http_load (the smallest), bench.import_rate
(its own database), bench.documents (its own SQLite file), writes the tables to bench/results/, and drops the
databases unless ``--keep``.
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    names = {size: f"mh_bench_{size // 1_000_000}m" if size >= 1_000_000 else f"mh_bench_{size}" for size in sizes}
    urls = {size: f"{args.pg}/{name}" for size, name in names.items()}
    try:
        for size in sizes:
            create_pg_database(names[size])
            step("bench.generate", "--database-url", urls[size], "--cases", str(size))
        step("bench.rates", *(arg for size in sizes for arg in ("--database-url", urls[size])))
        step("bench.dashboard", "--database-url", urls[max(sizes)])
        step("bench.http_load", "--database-url", urls[min(sizes)])
        step("bench.import_rate")
        step("bench.documents")
    finally:
        if not args.keep:
            for name in names.values():
                drop_pg_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
