"""GET and POST of a case through gunicorn (2 workers) under load, against a bare Flask-SQLAlchemy +
marshmallow endpoint doing the same read / insert (bench/bare_app.py); and the workers' memory.

    python -m bench.http_load --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mh_bench_1m
    python -m bench.http_load --smoke

Both apps run under gunicorn with 2 sync workers on 127.0.0.1 against the same database. A bounded number of
requests (``--get`` and ``--post``) is sent by ``--clients`` client processes at once (Python's http.client,
a new connection per request as gunicorn's sync workers close them; ``wrk`` is not used so GET and POST are
driven the same way). Both apps are up at once and the load alternates between them in ``--rounds``, so a
change in the machine's background load hits both alike. Throughput = requests / wall time. The hub's calls
carry a mediator's bearer token; GET reads cases of the mediator's organisation; POST registers a case with two
parties (valid ID numbers, distinct per request). Worker memory: resident set of each gunicorn worker before
and after the load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from bench.common import (
    bench_app,
    child_pids,
    ensure_user,
    machine,
    percentile,
    pg_version,
    rss_mb,
    serve,
    server_env,
    write_results,
)
from bench.generate import ric_number

COLUMNS = [
    "endpoint",
    "requests",
    "clients",
    "hub_rps",
    "bare_rps",
    "hub_vs_bare",
    "target",
    "hub_p50_ms",
    "hub_p95_ms",
    "bare_p50_ms",
    "bare_p95_ms",
    "errors",
]
MEMORY_COLUMNS = ["app", "workers", "rss_before_mb", "rss_after_mb", "growth_mb"]


def _send(job: tuple) -> tuple[list[float], int]:
    """One client process: its share of requests, one after another; returns latencies and error count."""
    port, method, paths, bodies, token = job
    latencies, errors = [], 0
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for i, path in enumerate(paths):
        body = json.dumps(bodies[i]).encode() if bodies else None
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status >= 400:
                errors += 1
        except OSError:
            errors += 1
        finally:
            connection.close()
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies, errors


def case_body(organization_id: int, n: int, region: str) -> dict:
    day = date(1970, 1, 1).toordinal() + n % 15000
    return {
        "organization_id": organization_id,
        "category": "neighbour",
        "source": "party_application",
        "summary": f"压测登记纠纷 {n}",
        "received_on": date.today().isoformat(),
        "occurred_region_code": region,
        "parties": [
            {
                "role": "applicant",
                "kind": "person",
                "name": "压测申请人",
                "region_code": region,
                "phone": f"139{n % 10**8:08d}",
                "id_number": ric_number(region, date.fromordinal(day), n % 1000),
            },
            {
                "role": "respondent",
                "kind": "person",
                "name": "压测被申请人",
                "region_code": region,
                "id_number": ric_number(region, date.fromordinal(day + 7), (n + 500) % 1000),
            },
        ],
    }


def workers_rss(master_pid: int) -> list[float]:
    return [rss_mb(pid) or 0.0 for pid in child_pids(master_pid)]


def _merge(parts: list[dict]) -> dict:
    """Rounds of one kind of request: total requests over total wall time; latencies pooled."""
    requests = sum(p["requests"] for p in parts)
    latencies = [ms for p in parts for ms in p["latencies"]]
    return {
        "rps": requests / sum(p["wall"] for p in parts),
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
        "errors": sum(p["errors"] for p in parts),
    }


def _timed_load(port: int, method: str, paths: list[str], bodies, token, clients: int) -> dict:
    jobs = [(port, method, paths[i::clients], bodies[i::clients] if bodies else None, token) for i in range(clients)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(_send, jobs))
    return {
        "requests": len(paths),
        "wall": time.perf_counter() - started,
        "latencies": [ms for part, _ in results for ms in part],
        "errors": sum(e for _, e in results),
    }


def run_both(database_url: str, plans: dict, rounds: int) -> dict:
    """Both apps served at once; the load alternates between them in ``rounds`` so that a change in the
    machine's background load affects both alike."""
    env = server_env(database_url)
    results = {name: {"GET": [], "POST": []} for name in plans}
    with (
        serve("wsgi:app", env, workers=2) as (hub_base, hub_pid),
        serve("bench.bare_app:app", env, workers=2) as (bare_base, bare_pid),
    ):
        ports = {"hub": int(hub_base.rsplit(":", 1)[1]), "bare": int(bare_base.rsplit(":", 1)[1])}
        masters = {"hub": hub_pid, "bare": bare_pid}
        for name, plan in plans.items():  # warm both workers (imports, pools)
            _timed_load(ports[name], "GET", plan["get_paths"][:20], None, plan["token"], 2)
        before = {name: workers_rss(masters[name]) for name in plans}
        for r in range(rounds):
            for method in ("GET", "POST"):
                for name, plan in plans.items():
                    paths = plan["get_paths" if method == "GET" else "post_paths"][r::rounds]
                    bodies = plan["post_bodies"][r::rounds] if method == "POST" else None
                    results[name][method].append(
                        _timed_load(ports[name], method, paths, bodies, plan["token"], plan["clients"])
                    )
        after = {name: workers_rss(masters[name]) for name in plans}
    return {
        name: {
            "GET": _merge(results[name]["GET"]),
            "POST": _merge(results[name]["POST"]),
            "memory": {"workers": len(after[name]), "before": sum(before[name]), "after": sum(after[name])},
        }
        for name in plans
    }


def measure(
    database_url: str, gets: int, posts: int, clients: int, rounds: int = 4, seed: int = 0
) -> tuple[list[dict], list[dict]]:
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
    run_tag = int(time.time()) % 100000 * 1000 + seed
    hub_plan = {
        "clients": clients,
        "token": token,
        "get_paths": [f"/api/v1/cases/{case_ids[i % len(case_ids)]}" for i in range(gets)],
        "post_paths": ["/api/v1/cases"] * posts,
        "post_bodies": [case_body(org_id, run_tag + i, region) for i in range(posts)],
    }
    bare_plan = {
        **hub_plan,
        "token": None,
        "get_paths": [p.replace("/api/v1", "") for p in hub_plan["get_paths"]],
        "post_paths": ["/cases"] * posts,
        "post_bodies": [case_body(org_id, run_tag + posts + i, region) for i in range(posts)],
    }
    measured = run_both(database_url, {"hub": hub_plan, "bare": bare_plan}, rounds)
    hub, bare = measured["hub"], measured["bare"]
    rows = []
    for method, count, target in (("GET", gets, 0.70), ("POST", posts, 0.40)):
        ratio = hub[method]["rps"] / bare[method]["rps"]
        rows.append(
            {
                "endpoint": f"{method} case",
                "requests": count,
                "clients": clients,
                "hub_rps": hub[method]["rps"],
                "bare_rps": bare[method]["rps"],
                "hub_vs_bare": f"{ratio:.0%}",
                "target": f"{'met' if ratio >= target else 'MISSED'} (≥{target:.0%})",
                "hub_p50_ms": hub[method]["p50"],
                "hub_p95_ms": hub[method]["p95"],
                "bare_p50_ms": bare[method]["p50"],
                "bare_p95_ms": bare[method]["p95"],
                "errors": hub[method]["errors"] + bare[method]["errors"],
            }
        )
    memory = [
        {
            "app": name,
            "workers": result["memory"]["workers"],
            "rss_before_mb": result["memory"]["before"],
            "rss_after_mb": result["memory"]["after"],
            "growth_mb": result["memory"]["after"] - result["memory"]["before"],
        }
        for name, result in (("hub (wsgi:app)", hub), ("bare (bench.bare_app:app)", bare))
    ]
    return rows, memory


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--get", type=int, default=2000)
    parser.add_argument("--post", type=int, default=600)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=4, help="alternations between the two apps")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    url = args.database_url
    if args.smoke:
        from bench.generate import Spec, run

        if not url:
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mh-bench-')) / 'http.db'}"
            run(url, Spec(cases=300, start=date(2025, 1, 1), end=date(2025, 12, 31)), log=lambda *_: None)
        # SQLite takes one writer at a time: one client, so the smoke run measures requests, not lock waits
        args.get, args.post, args.clients = min(args.get, 12), min(args.post, 3), 1
    if not url:
        parser.error("give --database-url (a database filled by bench.generate) or --smoke")
    started = time.perf_counter()
    rows, memory = measure(url, args.get, args.post, args.clients, args.rounds if not args.smoke else 1)
    facts = {**machine(), "postgresql": pg_version(url), "wall_s": round(time.perf_counter() - started, 1)}
    notes = [
        "hub: wsgi:app (auth, scope, rules, numbering, duplicate check, aggregates, audit where due)",
        "bare: bench/bare_app.py (marshmallow + Flask-SQLAlchemy, same rows written/read, nothing else)",
        "clients are processes on the same 2-core machine as the servers and PostgreSQL",
    ]
    suffix = "-smoke" if args.smoke else ""
    write_results(
        "http_load" + suffix,
        "GET/POST a case under load: hub vs bare endpoint",
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
