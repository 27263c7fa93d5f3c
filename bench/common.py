"""What the benchmark scripts share: the bench app and its keys, timing statistics, the results table
(printed, and written to bench/results/<name>-<date>.md and .json), machine facts, and a local server."""

from __future__ import annotations

import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
# Fixed keys so generated parties can be searched and revealed by the bench app (never production keys).
BENCH_KEYS = {
    "PII_KEY": "YmVuY2gtcGlpLWtleS0wMTIzNDU2Nzg5YWJjZGVmZ2g=",
    "LOOKUP_KEY": "YmVuY2gtbG9va3VwLWtleS0wMTIzNDU2Nzg5YWJjZGU=",
    "SECRET_KEY": "bench-secret",
}
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def bench_app(database_url: str, **extra):
    """The hub app on ``database_url`` with the bench keys."""
    import logging

    from mediation_hub import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **BENCH_KEYS, **extra})
    logging.getLogger("mediation_hub").setLevel(logging.WARNING)  # no access line per in-process request
    return app


def server_env(database_url: str) -> dict:
    """Environment for a gunicorn/werkzeug process serving the bench app."""
    env = dict(os.environ)
    env.update(
        {
            "MEDIATION_HUB_DATABASE_URL": database_url,
            "MEDIATION_HUB_PII_KEY": BENCH_KEYS["PII_KEY"],
            "MEDIATION_HUB_LOOKUP_KEY": BENCH_KEYS["LOOKUP_KEY"],
            "MEDIATION_HUB_SECRET_KEY": "bench-secret",
            "MEDIATION_HUB_SCHEDULER_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p50, p95) of a list of numbers."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def timed(fn, repeat: int, warmup: int = 1) -> list[float]:
    """Milliseconds of ``repeat`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def machine() -> dict:
    """The facts a reader needs to weigh the figures: cores, memory, load, PostgreSQL version."""
    facts = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }
    try:
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()
        facts["memory_gb"] = round(int(mem[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return facts


def pg_version(database_url: str) -> str | None:
    if not database_url.startswith("postgresql"):
        return None
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SHOW server_version"))
    finally:
        engine.dispose()


def write_results(
    name: str,
    title: str,
    rows: list[dict],
    *,
    columns: list[str],
    facts: dict,
    notes: list[str] = (),
    out_dir: Path | None = None,
) -> Path:
    """Print the table and write it as markdown and JSON under bench/results/ (or ``out_dir``)."""
    out_dir = out_dir or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [f"# {title}", "", f"run {datetime.now(UTC).isoformat(timespec='seconds')}", ""]
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(col)) for col in columns) + " |")
    lines += ["", "machine: " + ", ".join(f"{k}={v}" for k, v in facts.items())]
    lines += [f"- {note}" for note in notes]
    text = "\n".join(lines) + "\n"
    print(text)
    path = out_dir / f"{name}-{stamp}.md"
    path.write_text(text, encoding="utf-8")
    (out_dir / f"{name}-{stamp}.json").write_text(
        json.dumps(
            {"name": name, "title": title, "rows": rows, "machine": facts, "notes": list(notes)},
            ensure_ascii=False,
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    return path


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int) -> float | None:
    """Current resident memory of a process, from /proc (None if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def child_pids(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - 127.0.0.1 only
                return
        except urllib.error.HTTPError:
            return  # the server answered (an error status is an answer)
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server at {url} did not start within {timeout} s") from None
            time.sleep(0.2)


@contextmanager
def serve(
    app_spec: str, env: dict, *, workers: int = 2, server: str = "gunicorn", ready_path: str = "/api/v1/openapi.json"
):
    """Serve ``module:app`` on 127.0.0.1 with gunicorn (``workers``) or werkzeug (threaded); yields
    (base_url, master pid). The process is stopped by its own pid afterwards."""
    port = free_port()
    if server == "gunicorn":
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
            app_spec,
        ]
    else:
        cmd = [
            sys.executable,
            "-c",
            "import importlib,sys; from werkzeug.serving import run_simple; "
            "m,a=sys.argv[1].split(':'); app=getattr(importlib.import_module(m),a); "
            "run_simple('127.0.0.1', int(sys.argv[2]), app, threaded=True)",
            app_spec,
            str(port),
        ]
    # The server's log (a JSON line per request on stderr) goes to a file: a pipe nobody reads would fill up
    # and block the workers mid-benchmark.
    log = tempfile.NamedTemporaryFile(prefix="mh-bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for(base + ready_path, timeout=300)  # a busy 2-core machine starts workers slowly
        except RuntimeError:
            proc.terminate()
            raise RuntimeError("server failed: " + Path(log.name).read_text(errors="replace")[-2000:]) from None
        yield base, proc.pid
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)


def http_json(
    method: str, url: str, *, token: str | None = None, body: dict | None = None, timeout: float = 60.0
) -> tuple[int, dict | bytes]:
    """One request with urllib (no extra dependency); returns (status, parsed JSON or bytes)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - 127.0.0.1 only
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload


def create_pg_database(name: str) -> str:
    """(Re)create a dedicated PostgreSQL database and return its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def pg_database_exists(name: str) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}))
    finally:
        engine.dispose()


BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 - local benchmark accounts on throw-away databases


def ensure_user(app, username: str, role: str, *, region_code: str | None = None, organization_id: int | None = None):
    """A bench account (created once) and a fresh bearer token for it."""
    from datetime import timedelta

    import sqlalchemy as sa

    from mediation_hub.auth.models import User
    from mediation_hub.auth.service import create_user, issue_token
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.extensions import db

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            user = create_user(
                SYSTEM,
                username=username,
                password=BENCH_PASSWORD,
                role=role,
                region_code=region_code,
                organization_id=organization_id,
            )
        token, _ = issue_token(user, timedelta(hours=4), name="bench")
        db.session.commit()
        return token
