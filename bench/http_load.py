"""The hub's API under load beside its baselines from the same run: the hello-world of the same stack, and a
bare Flask-SQLAlchemy + marshmallow endpoint doing the same read / insert (bench/bare_app.py); and the workers'
memory.

    python -m bench.http_load --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mh_bench_1m
    python -m bench.http_load --smoke

Both apps run under gunicorn with 2 sync workers on 127.0.0.1 against the same database, and wrk (Debian's
package; bench/wrk.py) drives them with 8 connections for ``--duration`` seconds per endpoint. The endpoints,
in this order in each of ``--rounds`` rounds (so a change in the machine's background load hits all alike):

* hello:      ``GET /hello`` of the bare app: plain text, no database, the ceiling of gunicorn + Flask here;
* bare GET:   ``GET /cases/<id>`` of the bare app: the same rows loaded and dumped as the hub's case detail;
* hub GET:    ``GET /api/v1/cases/<id>`` with a mediator's bearer token, 1,000 cases of its organisation;
* bare POST:  ``POST /cases`` of the bare app: the same case, parties and event rows inserted;
* hub POST:   ``POST /api/v1/cases``: registration (two parties with valid ID numbers, never registered before);
* hub accept: ``POST /api/v1/cases/<id>/accept`` (受理): each request accepts a different registered case of
  the organisation (those the POST rounds registered, topped up through the service before the round).

Throughput = requests / wrk's wall time, summed over the rounds; p50 is the median of the rounds' p50s, p99 the
worst round's. Targets (issue 16): hub GET ≥ 25 % of hello's req/s, a transition (accept) ≥ 10 %.
Worker memory: resident set of each gunicorn worker before and after the load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.common import (
    bench_app,
    child_pids,
    ensure_user,
    machine,
    pg_version,
    rss_mb,
    serve,
    server_env,
    write_results,
)
from bench.generate import ric_number
from bench.wrk import Req, run_wrk

COLUMNS = [
    "endpoint",
    "app",
    "requests",
    "rps",
    "p50_ms",
    "p99_ms",
    "errors",
    "vs_hello",
    "vs_bare",
    "target",
]
MEMORY_COLUMNS = ["app", "workers", "rss_before_mb", "rss_after_mb", "growth_mb"]
# (key, app, what) in the order each round runs them
ENDPOINTS = (
    ("hello", "bare", "GET /hello (hello world)"),
    ("bare_get", "bare", "GET /cases/ID (bare read)"),
    ("hub_get", "hub", "GET /api/v1/cases/ID"),
    ("bare_post", "bare", "POST /cases (bare insert)"),
    ("hub_post", "hub", "POST /api/v1/cases (register)"),
    ("hub_accept", "hub", "POST /api/v1/cases/ID/accept"),
)
TARGETS = {"hub_get": 0.25, "hub_accept": 0.10}  # of hello's req/s (issue 16)
BASELINES = {"hub_get": "bare_get", "hub_post": "bare_post"}
SUMMARY = "压测登记纠纷"
APPLICANTS_BORN, RESPONDENTS_BORN = date(1935, 1, 1), date(1976, 1, 1)


def case_body(organization_id: int, n: int, region: str) -> dict:
    """A registration whose two parties no other ``n`` shares (15 million distinct ID numbers per role), so
    the duplicate check never stops it."""
    day, sequence = timedelta(days=(n // 1000) % 15000), n % 1000
    return {
        "organization_id": organization_id,
        "category": "neighbour",
        "source": "party_application",
        "summary": f"{SUMMARY} {n}",
        "received_on": date.today().isoformat(),
        "occurred_region_code": region,
        "parties": [
            {
                "role": "applicant",
                "kind": "person",
                "name": "压测申请人",
                "region_code": region,
                "phone": f"139{n % 10**8:08d}",
                "id_number": ric_number(region, APPLICANTS_BORN + day, sequence),
            },
            {
                "role": "respondent",
                "kind": "person",
                "name": "压测被申请人",
                "region_code": region,
                "id_number": ric_number(region, RESPONDENTS_BORN + day, sequence),
            },
        ],
    }


class Bodies:
    """Registration bodies numbered on from the last one any earlier run left in the organisation (its parties
    are then new: a registration with a party of an open case of the last 90 days would be answered 409)."""

    def __init__(self, engine: sa.Engine, organization_id: int, region: str):
        from mediation_hub.cases.models import Case

        with engine.connect() as conn:
            last = conn.scalar(
                sa.select(sa.func.max(sa.cast(sa.func.substr(Case.summary, len(SUMMARY) + 2), sa.Integer))).where(
                    Case.organization_id == organization_id, Case.summary.like(f"{SUMMARY} %")
                )
            )
        self.next, self.organization_id, self.region = (last or 0) + 1, organization_id, region

    def take(self, count: int) -> list[dict]:
        start, self.next = self.next, self.next + count
        return [case_body(self.organization_id, n, self.region) for n in range(start, start + count)]


def registered_ids(engine: sa.Engine, organization_id: int) -> list[int]:
    from mediation_hub.cases.models import Case, CaseStatus

    with engine.connect() as conn:
        return list(
            conn.scalars(
                sa.select(Case.id)
                .where(Case.organization_id == organization_id, Case.status == CaseStatus.registered)
                .order_by(Case.id)
            )
        )


def register_through_service(app, bodies: list[dict], batch: int = 200) -> None:
    """Register cases in-process through the service (what the API does, without HTTP), a batch per commit."""
    from mediation_hub.cases.schemas import CaseIn
    from mediation_hub.cases.service import register_case
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.core.uow import transaction
    from mediation_hub.extensions import db

    with app.app_context():
        schema = CaseIn()
        for start in range(0, len(bodies), batch):
            with transaction():
                for body in bodies[start : start + batch]:
                    register_case(SYSTEM, schema.load(body))
        db.session.remove()


def workers_rss(master_pid: int) -> list[float]:
    return [rss_mb(pid) or 0.0 for pid in child_pids(master_pid)]


def measure(database_url: str, *, duration: float, rounds: int, connections: int, threads: int) -> tuple[list, list]:
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
        case_ids = db.session.scalars(
            sa.select(Case.id).where(Case.organization_id == org_id).order_by(Case.id).limit(1000)
        ).all()
        db.session.remove()
    token = ensure_user(app, f"bench-mediator-{org_id}", "mediator", organization_id=org_id)
    engine = sa.create_engine(database_url)
    bodies = Bodies(engine, org_id, region)
    load = {"duration": duration, "connections": connections, "threads": threads}
    runs: dict[str, list[dict]] = {key: [] for key, _, _ in ENDPOINTS}
    topped_up = 0
    env = server_env(database_url)
    with (
        serve("wsgi:app", env, workers=2) as (hub, hub_pid),
        serve("bench.bare_app:app", env, workers=2, ready_path="/hello") as (bare, bare_pid),
    ):
        gets = {
            "bare_get": [Req("GET", f"/cases/{i}", auth="none") for i in case_ids],
            "hub_get": [Req("GET", f"/api/v1/cases/{i}") for i in case_ids],
        }
        # warm both apps' workers (imports, pools, caches) before the memory reading and the first round
        run_wrk(bare, [Req("GET", "/hello", auth="none"), *gets["bare_get"][:50]], **{**load, "duration": 1})
        run_wrk(hub, gets["hub_get"][:50], token=token, **{**load, "duration": 1})
        before = {"hub": workers_rss(hub_pid), "bare": workers_rss(bare_pid)}
        for _ in range(rounds):
            runs["hello"].append(run_wrk(bare, [Req("GET", "/hello", auth="none")], **load))
            runs["bare_get"].append(run_wrk(bare, gets["bare_get"], **load))
            runs["hub_get"].append(run_wrk(hub, gets["hub_get"], token=token, **load))
            # a write is no faster than the read of the same app: enough one-use requests for that pace, and more
            budget = {app: int(runs[f"{app}_get"][-1]["rps"] * duration * 1.3) + 100 for app in ("bare", "hub")}
            bare_posts = [Req("POST", "/cases", body, auth="none") for body in bodies.take(budget["bare"])]
            runs["bare_post"].append(run_wrk(bare, bare_posts, **load))
            hub_posts = [Req("POST", "/api/v1/cases", body) for body in bodies.take(budget["hub"])]
            runs["hub_post"].append(run_wrk(hub, hub_posts, token=token, **load))
            waiting = registered_ids(engine, org_id)
            if len(waiting) < budget["hub"]:
                missing = budget["hub"] - len(waiting)
                register_through_service(app, bodies.take(missing))
                topped_up += missing
                waiting = registered_ids(engine, org_id)
            accepts = [Req("POST", f"/api/v1/cases/{i}/accept", {}) for i in waiting]
            runs["hub_accept"].append(run_wrk(hub, accepts, token=token, **load))
        after = {"hub": workers_rss(hub_pid), "bare": workers_rss(bare_pid)}
    engine.dispose()
    merged = {key: _merge(parts) for key, parts in runs.items()}
    hello = merged["hello"]["rps"]
    rows = []
    for key, app_name, what in ENDPOINTS:
        result = merged[key]
        ratio = result["rps"] / hello if hello else 0.0
        baseline = merged.get(BASELINES.get(key, ""))
        target = TARGETS.get(key)
        rows.append(
            {
                "endpoint": what,
                "app": app_name,
                "requests": result["requests"],
                "rps": result["rps"],
                "p50_ms": result["p50_ms"],
                "p99_ms": result["p99_ms"],
                "errors": f"{result['errors']} ({', '.join(result['statuses'])})" if result["errors"] else 0,
                "vs_hello": f"{ratio:.1%}",
                "vs_bare": f"{result['rps'] / baseline['rps']:.0%}" if baseline and baseline["rps"] else "—",
                "target": f"{'met' if ratio >= target else 'MISSED'} (≥{target:.0%} of hello)" if target else "—",
            }
        )
    memory = [
        {
            "app": name,
            "workers": len(after[key]),
            "rss_before_mb": sum(before[key]),
            "rss_after_mb": sum(after[key]),
            "growth_mb": sum(after[key]) - sum(before[key]),
        }
        for key, name in (("hub", "hub (wsgi:app)"), ("bare", "bare (bench.bare_app:app)"))
    ]
    if topped_up:
        print(f"(registered {topped_up:,} more cases through the service for the accept rounds)")
    return rows, memory


def _merge(parts: list[dict]) -> dict:
    """Rounds of one endpoint: total requests over total time; the median p50 and the worst p99."""
    return {
        "requests": sum(p["requests"] for p in parts),
        "rps": sum(p["requests"] for p in parts) / sum(p["seconds"] for p in parts),
        "p50_ms": statistics.median(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "errors": sum(p["errors"] for p in parts),
        "statuses": sorted({code for p in parts for code in p["statuses"]}),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of wrk per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all the endpoints")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    url = args.database_url
    if args.smoke:
        from bench.generate import Spec, run

        if not url:
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mh-bench-')) / 'http.db'}"
            run(url, Spec(cases=300, start=date(2025, 1, 1), end=date(2025, 12, 31)), log=lambda *_: None)
        # SQLite takes one writer at a time: one connection, so the smoke run measures requests, not lock waits
        args.duration, args.rounds, args.connections, args.threads = 3, 1, 1, 1
    if not url:
        parser.error("give --database-url (a database filled by bench.generate) or --smoke")
    started = time.perf_counter()
    rows, memory = measure(
        url, duration=args.duration, rounds=args.rounds, connections=args.connections, threads=args.threads
    )
    facts = {**machine(), "postgresql": pg_version(url), "wall_s": round(time.perf_counter() - started, 1)}
    notes = [
        f"wrk -t{args.threads} -c{args.connections}, {args.duration:g} s per endpoint and round, {args.rounds} rounds "
        "(hello, bare GET, hub GET, bare POST, hub POST, hub accept in each); gunicorn 2 sync workers per app",
        "hub: wsgi:app (auth, scope, rules, numbering, duplicate check, aggregates, audit where due)",
        "bare: bench/bare_app.py (marshmallow + Flask-SQLAlchemy, same rows written/read, nothing else; /hello: text)",
        "p50: median of the rounds' p50; p99: the worst round's; errors: answers ≥ 400 and socket errors",
        "wrk runs on the same 2-core machine as the servers and PostgreSQL",
    ]
    suffix = "-smoke" if args.smoke else ""
    write_results(
        "http_load" + suffix,
        "The API under load beside hello-world and the bare endpoint (wrk)",
        rows,
        columns=COLUMNS,
        facts=facts,
        notes=notes,
        out_dir=args.out,
    )
    write_results(
        "worker_memory" + suffix,
        "gunicorn worker memory before/after the load",
        memory,
        columns=MEMORY_COLUMNS,
        facts=facts,
        out_dir=args.out,
        notes=["resident set (VmRSS) summed over the 2 workers, from /proc"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
