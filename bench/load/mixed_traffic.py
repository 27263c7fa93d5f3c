"""Mixed traffic against gunicorn (2 workers) on 127.0.0.1 and a dedicated database, with zero errors required.

    python -m bench.load.mixed_traffic                 # 60 s on a new PostgreSQL database, report in bench/results
    python -m bench.load.mixed_traffic --short         # ~8 s (the test suite); SQLite when PostgreSQL is absent
    python -m bench.load.mixed_traffic --sqlite --workers 4 --mediators 12 --officers 4 --officials 4
                                                       # 20 people on the embedded default (make load)
    python -m bench.load.mixed_traffic --duration 300 --mediators 8 --database-url postgresql+psycopg://…

The script creates the database ``mh_load_<pid>`` on MEDIATION_HUB_BENCH_PG_URL (else the server of
MEDIATION_HUB_TEST_DATABASE_URL, else postgres@127.0.0.1:5432), builds the schema, loads the reference and demo
data and its own accounts, starts ``gunicorn -w 2 -b 127.0.0.1:PORT wsgi:app`` on it, runs a bounded number
of client threads (mediators, officers, officials; see traffic.py) for the duration, stops them, checks that
no case was half written, prints requests, errors by status and p50/p95/p99 per kind, writes a Markdown report,
drops the database and exits 1 on any error. A watchdog ends the whole run at a hard time limit (exit 2)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from .support import (
    ROOT,
    Gunicorn,
    Recorder,
    bench_app,
    bench_keys,
    create_pg_database,
    drop_pg_database,
    machine_load,
    pg_admin_url,
    pg_reachable,
    seed_database,
    summarise,
)
from .traffic import BROKEN_KEYS, case_integrity, cast

SHORT_SECONDS = 8.0
SHORT_EXTENSION_SECONDS = 40.0
# Every part of the mix: a short run goes on (up to SHORT_EXTENSION_SECONDS) until each has succeeded once, so a
# slow machine still answers a transfer; "zero errors" over a partial mix would prove little.
MIX_KINDS = {
    "case_register",
    "case_accept",
    "case_session",
    "case_conclude",
    "case_routes",
    "transfer_request",
    "transfer_list",
    "dashboard_page",
    "rates_api",
}
ANSWER_KINDS = {"transfer_accept", "transfer_decline"}


def mix_complete(recorder: Recorder) -> bool:
    done = {s.kind for s in recorder.snapshot() if s.ok}
    return done >= MIX_KINDS and bool(done & ANSWER_KINDS)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of traffic (default 60)")
    parser.add_argument(
        "--short",
        action="store_true",
        help=f"{SHORT_SECONDS:g} s, for the test suite (longer, "
        f"up to {SHORT_EXTENSION_SECONDS:g} s more, until every part of the mix has happened)",
    )
    parser.add_argument("--mediators", type=int, default=4, help="mediator threads (default 4)")
    parser.add_argument("--officers", type=int, default=2, help="officer threads (default 2)")
    parser.add_argument("--officials", type=int, default=2, help="official threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--database-url", help="use this (empty) database instead of creating one")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--results", type=Path, help="report path (default bench/results/load-<date>.md)")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")
    parser.add_argument(
        "--hard-limit", type=float, help="end everything after this many seconds (default: duration + 240)"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the created database")
    args = parser.parse_args(argv)
    if args.short:
        args.duration = SHORT_SECONDS
    args.hard_limit = args.hard_limit or args.duration + 240
    return args


def choose_database(args, workdir: Path) -> tuple[str, str, callable]:
    """(url, label, cleanup): the given URL, a new PostgreSQL database, or — only in short mode or when asked —
    a SQLite file when no PostgreSQL server answers."""
    if args.database_url:
        return args.database_url, "given database", lambda: None
    admin = pg_admin_url()
    if not args.sqlite and pg_reachable(admin):
        name = f"mh_load_{os.getpid()}"
        url = create_pg_database(admin, name)
        return (
            url,
            f"PostgreSQL database {name}",
            (lambda: None) if args.keep_db else (lambda: drop_pg_database(admin, name)),
        )
    if not (args.short or args.sqlite):
        raise SystemExit(f"no PostgreSQL server answers at {admin} (set MEDIATION_HUB_BENCH_PG_URL, or --sqlite)")
    # SQLite: writers queue for the file's one write lock (BEGIN IMMEDIATE and a busy timeout, mediation_hub.core.db),
    # so several workers share it as an office's server would.
    return f"sqlite:///{workdir / 'load.db'}", "SQLite file", lambda: None


def start_watchdog(seconds: float, on_expiry) -> None:
    def expire():
        print(f"hard time limit of {seconds:.0f}s reached: stopping", file=sys.stderr, flush=True)
        on_expiry()
        os._exit(2)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="mh-load-"))
    url, label, cleanup = choose_database(args, workdir)
    server = None
    try:
        keys = bench_keys()
        started = time.monotonic()
        app = bench_app(url, keys)
        seeded = seed_database(app, demo=not args.short)
        seeding_s = time.monotonic() - started
        print(f"{label} seeded in {seeding_s:.1f}s; starting gunicorn", file=sys.stderr, flush=True)
        server = Gunicorn(url, keys, workers=args.workers, log_path=workdir / "gunicorn.log")
        start_watchdog(args.hard_limit, server.stop)
        server.start()
        load_before = machine_load()
        recorder, stop = Recorder(), threading.Event()
        people = cast(
            seeded,
            server.base_url,
            recorder,
            stop,
            mediators=args.mediators,
            officers=args.officers,
            officials=args.officials,
        )
        began = time.monotonic()
        for person in people:
            person.start()
        stop.wait(args.duration)
        while (
            args.short
            and not mix_complete(recorder)
            and time.monotonic() - began < args.duration + SHORT_EXTENSION_SECONDS
        ):
            time.sleep(0.2)
        stop.set()
        for person in people:
            person.join(timeout=40)
        elapsed = time.monotonic() - began
        load_after = machine_load()
        server.stop()
        samples = recorder.snapshot()
        summary = summarise(samples)
        summary.update(
            {
                "database": label,
                "workers": args.workers,
                "duration_s": round(elapsed, 1),
                "seeding_s": round(seeding_s, 1),
                "threads": {"mediators": args.mediators, "officers": args.officers, "officials": args.officials},
                "throughput_rps": round(len(samples) / elapsed, 1) if elapsed else 0.0,
                "load_before": load_before,
                "load_after": load_after,
                "transfers_sent": sum(getattr(p, "transfers_sent", 0) for p in people),
                "transfers_answered": sum(getattr(p, "answered", 0) for p in people),
                "integrity": case_integrity(app),
                "bench_errors": [f"{p.name}: {p.crashed!r}" for p in people if p.crashed or p.is_alive()],
                "error_samples": [f"{s.kind} {s.status} {s.detail}" for s in samples if not s.ok][:10],
                "log": str(workdir / "gunicorn.log"),
                "workdir": str(workdir),
            }
        )
        return summary
    finally:
        if server is not None:
            server.stop()
        cleanup()


def failures(summary: dict) -> list[str]:
    """Why the run failed (empty when it passed)."""
    problems = []
    if summary["errors"]:
        problems.append(f"{summary['errors']} errors by status {summary['errors_by_status']}")
    broken = {k: summary["integrity"][k] for k in BROKEN_KEYS if summary["integrity"][k]}
    if broken:
        problems.append(f"half-written records: {broken}")
    if summary["bench_errors"]:
        problems.append(f"traffic threads failed or hung: {summary['bench_errors']}")
    if not summary["requests"]:
        problems.append("no request was made")
    return problems


def report_text(summary: dict) -> str:
    lines = [
        f"# Mixed load — {datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"- gunicorn {summary['workers']} workers on 127.0.0.1, {summary['database']}",
        f"- threads: {summary['threads']['mediators']} mediators, {summary['threads']['officers']} officers, "
        f"{summary['threads']['officials']} officials (closed loop, no think time)",
        f"- {summary['duration_s']} s, {summary['requests']} requests ({summary['throughput_rps']}/s), "
        f"**{summary['errors']} errors** {summary['errors_by_status'] or ''}",
        f"- overall p50 {summary['p50']:.0f} ms, p95 {summary['p95']:.0f} ms, **p99 {summary['p99']:.0f} ms**",
        f"- transfers sent {summary['transfers_sent']}, answered {summary['transfers_answered']}",
        f"- machine before: {summary['load_before']}; after: {summary['load_after']}",
        f"- integrity: {summary['integrity']['cases']} cases, {summary['integrity']['parties']} parties, "
        f"{summary['integrity']['transfers']} transfers; half-written: "
        f"{sum(summary['integrity'][k] for k in BROKEN_KEYS)}",
        "",
        "| kind | requests | errors | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, row in summary["kinds"].items():
        lines.append(
            f"| {kind} | {row['requests']} | {row['errors']} | {row['p50']:.0f} | {row['p95']:.0f} | "
            f"{row['p99']:.0f} | {row['max']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = parse_args(argv)
    summary = run(args)
    text = report_text(summary)
    print(text)
    problems = failures(summary)
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    for line in summary["error_samples"]:
        print("  ", line, file=sys.stderr)
    results = args.results or ROOT / "bench" / "results" / f"load-{datetime.now():%Y-%m-%d}.md"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(text)
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    print(f"report: {results}")
    if problems:
        print(f"gunicorn log kept: {summary['log']}", file=sys.stderr)
        return 1
    shutil.rmtree(summary["workdir"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
