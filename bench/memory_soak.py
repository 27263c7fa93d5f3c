"""Memory under a long mixed load: does each gunicorn worker's resident set settle?

    python -m bench.memory_soak --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mh_bench_1m
    python -m bench.memory_soak --requests 40000          # a fresh database of its own (bench.generate)
    python -m bench.memory_soak --smoke

The hub runs under gunicorn with 2 sync workers; wrk (bench/wrk.py, 8 connections) sends ``--requests`` mixed
requests in chunks of about ``--chunk`` (wrk runs for a time, so each chunk lasts the previous chunk's pace),
and after every chunk each worker's VmRSS is read from /proc/<pid>/status. The mix is an office's day, mostly
reads (MIX): a mediator's case detail, worklist and timeline through the API and the same pages in a signed-in
browser session, the rates report of the organisation for last year, registrations of new disputes and the
acceptance (受理) of registered cases (each chunk accepts those registered before it).

Verdict: "settles" when, over the last three readings, no worker grew by 2 MB or more per 10,000 requests;
otherwise the growth per 10,000 requests of the worst worker.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from bench.common import (
    BENCH_PASSWORD,
    bench_app,
    child_pids,
    create_pg_database,
    drop_pg_database,
    ensure_user,
    machine,
    pg_version,
    rss_mb,
    serve,
    server_env,
    write_results,
)
from bench.http_load import Bodies, register_through_service, registered_ids
from bench.wrk import Req, run_wrk

# requests out of 100 (an office: mostly reads, some registrations and acceptances)
MIX = {
    "api case detail": 30,
    "api worklist": 15,
    "api case timeline": 10,
    "page case detail": 15,
    "page worklist": 10,
    "api rates report": 5,
    "api register": 7,
    "api accept": 8,
}
SETTLED_MB_PER_10K = 2.0


def sign_in(base: str, username: str) -> str:
    """The Cookie header of a signed-in browser session (the login form, with its CSRF token)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    data = urllib.parse.urlencode({"csrf_token": token.group(1), "username": username, "password": BENCH_PASSWORD})
    opener.open(base + "/login", data=data.encode(), timeout=30).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if not cookie:
        raise RuntimeError("signing in set no cookie")
    return cookie


def one_request(kind: str, case: int, registrations, accepts, rates: str) -> Req:
    """A request of the MIX kind ``kind``; an accept for which no registered case is left reads a case."""
    if kind == "api accept":
        accept = next(accepts, None)
        return Req("POST", f"/api/v1/cases/{accept}/accept", {}) if accept else Req("GET", f"/api/v1/cases/{case}")
    if kind == "api register":
        return Req("POST", "/api/v1/cases", next(registrations))
    if kind == "api case timeline":
        return Req("GET", f"/api/v1/cases/{case}/events")
    if kind == "page case detail":
        return Req("GET", f"/cases/{case}", auth="cookie")
    if kind == "page worklist":
        return Req("GET", "/cases/worklist", auth="cookie")
    if kind == "api rates report":
        return Req("GET", rates)
    if kind == "api worklist":
        return Req("GET", f"/api/v1/cases?per_page=20&page={case % 5 + 1}")
    return Req("GET", f"/api/v1/cases/{case}")


def chunk_requests(
    rng: random.Random, count: int, case_ids: list[int], waiting: list[int], bodies: Bodies, rates: str
) -> list[Req]:
    """``count`` requests in the proportions of MIX, shuffled; accepts use ``waiting`` (each case once)."""
    kinds = [kind for kind, weight in MIX.items() for _ in range(weight)]
    picked = [rng.choice(kinds) for _ in range(count)]
    registrations, accepts = iter(bodies.take(picked.count("api register"))), iter(waiting)
    return [one_request(kind, rng.choice(case_ids), registrations, accepts, rates) for kind in picked]


def preflight(base: str, token: str, cookie: str, requests: dict[str, Req]) -> None:
    """One request of each kind, checked, so a kind the hub refuses is named instead of counted as errors."""
    for kind, req in requests.items():
        url = urllib.request.Request(base + req.path, method=req.method)  # noqa: S310 - 127.0.0.1 only
        if req.auth == "cookie":
            url.add_header("Cookie", cookie)
        else:
            url.add_header("Authorization", f"Bearer {token}")
            url.add_header("Accept", "application/json")
        if req.body is not None:
            url.add_header("Content-Type", "application/json")
            url.data = json.dumps(req.body).encode()
        try:
            with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310
                answer.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{kind} ({req.method} {req.path}) answered {exc.code}: {exc.read()[:500]!r}") from None


def soak(database_url: str, *, total: int, chunk: int, connections: int, threads: int, seed: int = 16) -> dict:
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
        case_ids = list(
            db.session.scalars(sa.select(Case.id).where(Case.organization_id == org_id).order_by(Case.id).limit(2000))
        )
        db.session.remove()
    username = f"bench-mediator-{org_id}"
    token = ensure_user(app, username, "mediator", organization_id=org_id)
    engine = sa.create_engine(database_url)
    bodies = Bodies(engine, org_id, region)
    year = date.today().year - 1
    rates = f"/api/v1/reports/rates?from={year}-01-01&to={year}-12-31"  # a mediator's: its organisation's
    rng = random.Random(seed)
    # the first chunk's acceptances: registered cases made beforehand through the service
    first_accepts = chunk * MIX["api accept"] // 100 + 50
    missing = first_accepts - len(registered_ids(engine, org_id))
    if missing > 0:
        register_through_service(app, bodies.take(missing))
    readings, done, errors, pace, seconds, statuses = [], 0, 0, None, 0.0, {}

    def count(result: dict) -> None:
        nonlocal done, errors, seconds
        done, errors, seconds = done + result["requests"], errors + result["errors"], seconds + result["seconds"]
        for code, n in result["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n

    offered: set[int] = set()

    def build(count: int) -> list[Req]:
        """A list of ``count`` requests whose acceptances are of cases no earlier list carried: when wrk stops, the
        acceptances it had in flight may still be running, and their cases still look registered to the next list."""
        waiting = [case_id for case_id in registered_ids(engine, org_id) if case_id not in offered]
        requests = chunk_requests(rng, count, case_ids, waiting, bodies, rates)
        offered.update(int(req.path.split("/")[4]) for req in requests if req.path.endswith("/accept"))
        return requests

    with serve("wsgi:app", server_env(database_url), workers=2) as (base, master):
        cookie = sign_in(base, username)
        waiting = iter(registered_ids(engine, org_id))
        registrations = iter(bodies.take(1))
        preflight(
            base, token, cookie, {kind: one_request(kind, case_ids[0], registrations, waiting, rates) for kind in MIX}
        )
        workers = child_pids(master)
        readings.append({"requests": 0, "rss": [rss_mb(pid) or 0.0 for pid in workers]})
        # wrk runs for a time: stop when less than a quarter chunk is left, but not before three chunks have been
        # read (the verdict compares the last three readings; a fast machine's 2-second probe may send nearly all a
        # short run asks for, and a chunk then runs its one-second minimum past the total)
        while total - done > chunk // 4 or len(readings) < 4:
            size = max(min(chunk, total - done), chunk // 4)
            if pace is None:  # the first chunk: learn the pace from a short run, counted like the others
                probe = run_wrk(
                    # a probe list long enough for 2 s at any pace this machine reaches
                    base,
                    build(3000),
                    duration=2,
                    connections=connections,
                    threads=threads,
                    token=token,
                    cookie=cookie,
                )
                pace = probe["rps"]
                count(probe)
                size = max(0, size - probe["requests"])
            # one-use requests for twice what the chunk should send, and some: wrk runs for whole seconds (one at
            # least) and the pace moves between chunks; a list sent twice would answer its repeated acceptances 409
            if size:
                result = run_wrk(
                    base,
                    build(_list_length(size, pace)),
                    duration=max(1.0, size / pace),
                    connections=connections,
                    threads=threads,
                    token=token,
                    cookie=cookie,
                )
                pace = result["rps"] or pace
                count(result)
            now = child_pids(master)
            if sorted(now) != sorted(workers):
                raise RuntimeError(f"a gunicorn worker was replaced during the soak ({workers} → {now})")
            readings.append({"requests": done, "rss": [rss_mb(pid) or 0.0 for pid in workers]})
    engine.dispose()
    pace = done / seconds if seconds else 0.0
    return {"readings": readings, "errors": errors, "statuses": statuses, "pace": pace, "workers": len(workers)}


def _list_length(size: int, pace: float | None) -> int:
    """How many one-use requests a chunk of ``size`` needs: twice what it should send in the time wrk runs (at
    least one second at the pace), and some."""
    expected = max(size, (pace or 0.0) * max(1.0, size / pace) if pace else size)
    return int(2 * expected) + 100


def verdict(readings: list[dict]) -> str:
    """The soak's verdict: "settles" when, over the last three readings, every worker grew less than 2 MB per
    10,000 requests; otherwise the worst worker's growth per 10,000 requests."""
    last = readings[1:][-3:]  # not the reading before any request: the first chunk warms the workers up
    if len(last) < 3 or last[-1]["requests"] <= last[0]["requests"]:
        return "too few readings to judge"
    per_10k = [
        (last[-1]["rss"][w] - last[0]["rss"][w]) / (last[-1]["requests"] - last[0]["requests"]) * 10_000
        for w in range(len(last[0]["rss"]))
    ]
    if max(per_10k) < SETTLED_MB_PER_10K:
        return f"settles (last three readings: at most {max(per_10k):+.2f} MB per 10k requests a worker)"
    return f"GROWS: {max(per_10k):+.2f} MB per 10k requests (worst worker, last three readings)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh PostgreSQL database mh_bench_soak (dropped after)")
    parser.add_argument("--cases", type=int, default=20_000, help="cases generated into the fresh database")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="requests between two readings")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    url, own = args.database_url, None
    if args.smoke:  # SQLite takes one writer at a time: one connection
        args.requests, args.chunk, args.connections, args.threads = 240, 60, 1, 1
        args.cases = min(args.cases, 300)
    if not url:
        from bench.generate import Spec, run

        if args.smoke:
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='mh-bench-')) / 'soak.db'}"
        else:
            own = "mh_bench_soak"
            url = create_pg_database(own)
        year = date.today().year - 1
        run(url, Spec(cases=args.cases, start=date(year, 1, 1), end=date(year, 12, 31)), log=lambda *_: None)
    started = time.perf_counter()
    try:
        result = soak(url, total=args.requests, chunk=args.chunk, connections=args.connections, threads=args.threads)
    finally:
        if own:
            drop_pg_database(own)
    readings = result["readings"]
    columns = ["requests"] + [f"worker_{i + 1}_rss_mb" for i in range(result["workers"])] + ["total_rss_mb"]
    rows = [
        {
            "requests": r["requests"],
            **{f"worker_{i + 1}_rss_mb": mb for i, mb in enumerate(r["rss"])},
            "total_rss_mb": sum(r["rss"]),
        }
        for r in readings
    ]
    facts = {
        **machine(),
        "postgresql": pg_version(url),
        "wall_s": round(time.perf_counter() - started, 1),
        "requests_per_s": round(result["pace"] or 0, 1),
        "errors": result["errors"],
        "errors_by_status": result["statuses"],
    }
    notes = [
        "verdict: " + verdict(readings),
        "mix per 100 requests: " + ", ".join(f"{kind} {weight}" for kind, weight in MIX.items()),
        f"gunicorn 2 sync workers (wsgi:app); wrk -t{args.threads} -c{args.connections}; "
        f"a reading (VmRSS from /proc) after about every {args.chunk:,} requests",
        "errors: answers ≥ 400 and socket errors over the whole run",
    ]
    if args.requests < 100_000 and not args.smoke:
        notes.append(f"{args.requests:,} requests, not the 100,000 of the full run (make bench-quick)")
    write_results(
        "memory_soak" + ("-smoke" if args.smoke else ""),
        "Worker memory over a long mixed load",
        rows,
        columns=columns,
        facts=facts,
        notes=notes,
        out_dir=args.out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
