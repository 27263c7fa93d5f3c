"""Fault: PostgreSQL restarted under traffic. Requests fail cleanly with 503 while it is down (JSON under /api,
the error page elsewhere, never a 500 nor a dropped connection), the hub recovers by itself once it is back
(no gunicorn restart: pool_pre_ping replaces the dead connections), and no case is half written.

    python -m bench.faults.postgres_restart                     # 3 s warm-up, 3 s down, 6 s after
    python -m bench.faults.postgres_restart --down 10 --after 20

It never touches the machine's shared PostgreSQL: it runs its own throwaway server (pg_instance.py) on a free
port of 127.0.0.1, creates and seeds a database there, starts ``gunicorn -w 2`` on it and the mixed traffic of
bench/load (mediators, officers, officials), then ``pg_ctl stop -m fast`` (every connection is cut and open
transactions roll back), waits, ``pg_ctl start``, lets the traffic run on and checks:

- every answer was the expected one or a 503 with the right body; no 500, no other status, no connection error;
- after PostgreSQL is back, every request succeeds (recovery time = from ``pg_ctl start`` returning to the first
  success), without restarting gunicorn;
- every case the hub acknowledged with 201 is in the database with its parties, and no case, transfer or
  lifecycle step is half written (bench/load/traffic.case_integrity)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from bench.faults.pg_instance import ThrowawayPostgres
from bench.load.support import (
    Gunicorn,
    Recorder,
    bench_app,
    bench_keys,
    create_pg_database,
    machine_load,
    seed_database,
)
from bench.load.traffic import BROKEN_KEYS, Mediator, case_integrity, cast


def acknowledged_cases_present(app, case_ids: list[int]) -> dict:
    """How many of the cases the hub answered 201 for are missing, or lack two parties, after the restart."""
    from mediation_hub.extensions import db

    if not case_ids:
        return {"acknowledged": 0, "missing": 0, "without_both_parties": 0}
    with app.app_context():
        rows = dict(
            db.session.execute(
                sa.text(
                    "SELECT c.id, (SELECT COUNT(*) FROM parties p WHERE p.case_id = c.id) FROM cases c "
                    "WHERE c.id IN (" + ",".join(str(int(i)) for i in case_ids) + ")"
                )
            ).all()
        )
        db.session.remove()
    return {
        "acknowledged": len(case_ids),
        "missing": len(set(case_ids) - set(rows)),
        "without_both_parties": sum(1 for n in rows.values() if n != 2),
    }


def clean_503(sample) -> bool:
    """A 503 that says so: the JSON error under /api, the hub's error page (titled 503) elsewhere."""
    if sample.kind in ("dashboard_page", "page_login", "page_login_form"):
        return "<title>503 · " in sample.detail
    return '"code": 503' in sample.detail or '"code":503' in sample.detail


def run(
    *,
    warmup: float = 3.0,
    down: float = 3.0,
    after: float = 6.0,
    workdir: Path | None = None,
    mediators: int = 3,
    officers: int = 1,
    officials: int = 2,
) -> dict:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="mh-fault-pg-"))
    with ThrowawayPostgres() as pg:
        url = create_pg_database(pg.url(), "mh_restart")
        keys = bench_keys()
        app = bench_app(url, keys)
        seeded = seed_database(app, demo=False)
        integrity_before = case_integrity(app)
        with Gunicorn(url, keys, workers=2, log_path=workdir / "gunicorn.log") as server:
            pids_before = gunicorn_workers(server)
            recorder, stop = Recorder(), threading.Event()
            people = cast(
                seeded,
                server.base_url,
                recorder,
                stop,
                mediators=mediators,
                officers=officers,
                officials=officials,
                timeout=60,
            )
            for person in people:
                person.start()
            warm_up(recorder, warmup)
            down_at = time.monotonic()
            stop_took = pg.stop("fast")
            time.sleep(down)
            start_took = pg.start()
            up_at = time.monotonic()
            time.sleep(after)
            stop.set()
            for person in people:
                person.join(timeout=70)
            pids_after = gunicorn_workers(server)
        integrity_after = case_integrity(app)
        created = [i for p in people if isinstance(p, Mediator) for i in p.created]
        durable = acknowledged_cases_present(app, created)
        with app.app_context():
            from mediation_hub.extensions import db

            db.engine.dispose()  # before the server goes away
    samples = recorder.snapshot()
    return analyse(samples, down_at=down_at, up_at=up_at) | {
        "timeline": {
            "warmup_s": warmup,
            "down_s": round(up_at - down_at, 2),
            "after_s": after,
            "pg_stop_s": round(stop_took, 2),
            "pg_start_s": round(start_took, 2),
        },
        "gunicorn_workers_unchanged": pids_before == pids_after and bool(pids_before),
        "integrity_before": integrity_before,
        "integrity_after": integrity_after,
        "acknowledged": durable,
        "bench_errors": [f"{p.name}: {p.crashed!r}" for p in people if p.crashed or p.is_alive()],
        "machine": machine_load(),
        "workdir": str(workdir),
    }


WARM_KINDS = {"case_register", "transfer_list", "dashboard_page", "rates_api"}


def warm_up(recorder: Recorder, least: float, most: float = 60.0) -> None:
    """Run at least ``least`` seconds, and on until each kind of traffic (the signed-in dashboard above all) has
    succeeded once, so the outage hits every kind; at most ``most`` seconds."""
    began = time.monotonic()
    while time.monotonic() - began < most:
        done = {s.kind for s in recorder.snapshot() if s.ok}
        if time.monotonic() - began >= least and done >= WARM_KINDS:
            return
        time.sleep(0.1)


def gunicorn_workers(server: Gunicorn) -> list[int]:
    """The worker pids under the gunicorn master (the same pids after the restart: no worker was replaced)."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return sorted(int(pid) for pid in children.read_text().split()) if children.exists() else []


def analyse(samples, *, down_at: float, up_at: float) -> dict:
    started = [(s.at - s.ms / 1000, s) for s in samples]
    before = [s for t, s in started if s.at < down_at]
    after_up = [s for t, s in started if t >= up_at]
    unclean = [s for s in samples if not s.ok and not (s.status == 503 and clean_503(s))]
    first_success_after_up = min((s.at for t, s in started if t >= up_at and s.ok), default=None)
    outage = [s for s in samples if s.status == 503]
    return {
        "requests": len(samples),
        "statuses": dict(sorted(Counter(s.status for s in samples).items())),
        "before_down": {"requests": len(before), "errors": sum(1 for s in before if not s.ok)},
        "answered_503": len(outage),
        "answered_503_by_kind": dict(sorted(Counter(s.kind for s in outage).items())),
        "unclean": [f"{s.kind} {s.status} {s.detail[:200]}" for s in unclean][:20],
        "unclean_count": len(unclean),
        "after_up": {
            "requests": len(after_up),
            "errors": sum(1 for s in after_up if not s.ok),
            "error_samples": [f"{s.kind} {s.status} {s.detail[:200]}" for s in after_up if not s.ok][:5],
        },
        "recovery_s": round(first_success_after_up - up_at, 2) if first_success_after_up else None,
        "clients_saw_503_for_s": round(max(s.at for s in outage) - min(s.at - s.ms / 1000 for s in outage), 2)
        if outage
        else 0.0,
    }


def failures(result: dict) -> list[str]:
    broken = {k: result["integrity_after"][k] for k in BROKEN_KEYS if result["integrity_after"][k]}
    expected = [
        (
            "traffic ran cleanly before the restart",
            result["before_down"]["requests"] > 0 and result["before_down"]["errors"] == 0,
        ),
        (
            "the outage was seen: API calls and signed-in pages answered 503",
            result["answered_503_by_kind"].get("dashboard_page", 0) > 0
            and sum(n for k, n in result["answered_503_by_kind"].items() if not k.startswith("page")) > 0,
        ),
        (
            "every failure was a clean 503 (no 500, no other status, no dropped connection)",
            result["unclean_count"] == 0,
        ),
        (
            "every request after PostgreSQL came back succeeded",
            result["after_up"]["requests"] > 0 and result["after_up"]["errors"] == 0,
        ),
        ("the same gunicorn workers served before and after (no restart)", result["gunicorn_workers_unchanged"]),
        ("no half-written case or transfer", not broken),
        (
            "every acknowledged case is in the database with both parties",
            result["acknowledged"]["missing"] == 0 and result["acknowledged"]["without_both_parties"] == 0,
        ),
        ("the traffic threads ended normally", not result["bench_errors"]),
    ]
    return [what for what, held in expected if not held]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--down", type=float, default=3.0, help="seconds PostgreSQL stays stopped")
    parser.add_argument("--after", type=float, default=6.0, help="seconds of traffic after it is back")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    result = run(warmup=args.warmup, down=args.down, after=args.after)
    text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    problems = failures(result)
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    if problems:
        print(f"gunicorn log kept in {result['workdir']}", file=sys.stderr)
        return 1
    shutil.rmtree(result["workdir"], ignore_errors=True)
    print(
        f"survived: {result['answered_503']} clean 503s while down, recovered {result['recovery_s']} s after "
        "PostgreSQL was back, no half-written case"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
