"""What the load and fault scripts share: a dedicated database (PostgreSQL or a SQLite file), seeded with the
reference data, the demo organisations and the bench's own accounts; gunicorn started and stopped on 127.0.0.1;
and a thread-safe recorder of request timings.

Run the scripts from the repository root as modules (``python -m bench.load.mixed_traffic``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Transfers go to organisations in Beijing and 保定 (every cross-region bench case has a party in one of them),
# where an officer answers; a handful of accounts, so each officer thread looks at its queues often.
ANSWERING_REGIONS = ("11", "1306")
BENCH_PASSWORD = "bench-load-password-2026"  # noqa: S105 - throwaway accounts in a throwaway database


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_keys() -> dict[str, str]:
    """Fresh keys for one run (the hub encrypts personal numbers with PII_KEY; every process needs the same)."""
    from mediation_hub.core.pii import generate_key

    return {"PII_KEY": generate_key(), "LOOKUP_KEY": generate_key(), "SECRET_KEY": generate_key()}


# --- databases --------------------------------------------------------------------------------------------


def pg_admin_url() -> str:
    """The maintenance database of the PostgreSQL server to create bench databases on: MEDIATION_HUB_BENCH_PG_URL,
    else the server of MEDIATION_HUB_TEST_DATABASE_URL, else postgres@127.0.0.1:5432."""
    explicit = os.environ.get("MEDIATION_HUB_BENCH_PG_URL")
    if explicit:
        return explicit
    test_url = os.environ.get("MEDIATION_HUB_TEST_DATABASE_URL")
    if test_url:
        return sa.engine.make_url(test_url).set(database="postgres").render_as_string(hide_password=False)
    return DEFAULT_PG_ADMIN_URL


def pg_reachable(admin_url: str) -> bool:
    engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def create_pg_database(admin_url: str, name: str) -> str:
    """CREATE DATABASE name (dropping a leftover of that name first); returns its URL."""
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, name: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def bench_app(url: str, keys: dict[str, str]):
    """The hub app in this process, on the bench database (for seeding and for checking afterwards)."""
    from mediation_hub import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_ENABLED": False, **keys})


@dataclass
class Account:
    username: str
    role: str
    organization_id: int | None = None
    organization_name: str | None = None
    region_code: str | None = None
    token: str | None = None


@dataclass
class Seeded:
    """What the traffic needs to know about the seeded database."""

    mediators: list[Account] = field(default_factory=list)  # one per mediating organisation: logs cases
    officers: list[Account] = field(default_factory=list)  # one per receiving organisation: answers transfers
    officials: list[Account] = field(default_factory=list)  # coordinators and an administrator
    organizations: dict[int, dict] = field(default_factory=dict)


def seed_database(app, *, demo: bool = True) -> Seeded:
    """Schema from the models (as the test suite builds it), reference data, the 京津冀 demo organisations (with
    ``demo``: ``seed demo`` in full, with its mediators, studios and activity; without: the organisations only,
    which takes a second) and, for every mediating organisation, a case-logging mediator and a
    transfer-answering officer, each with an API token issued directly (no sign-in per account: argon2 is
    deliberately slow). Officials get a token too; the dashboard traffic signs in through the page."""
    from mediation_hub.auth.models import User
    from mediation_hub.auth.service import hash_password, issue_token
    from mediation_hub.core.actor import Role
    from mediation_hub.extensions import db
    from mediation_hub.registry.models import MEDIATING_KINDS, Organization
    from mediation_hub.seed import seed_demo, seed_reference

    seeded = Seeded()
    with app.app_context():
        db.create_all()
        seed_reference()
        cover_calendar_ahead()
        seed_demo() if demo else seed_organizations()
        password_hash = hash_password(BENCH_PASSWORD)  # one hash for every bench account
        orgs = db.session.scalars(sa.select(Organization).order_by(Organization.id)).all()
        for org in orgs:
            seeded.organizations[org.id] = {"name": org.name, "region_code": org.region_code, "kind": org.kind.value}
        users = []
        for org in (o for o in orgs if o.kind in MEDIATING_KINDS):
            roles = [("med", seeded.mediators)]
            if org.region_code.startswith(ANSWERING_REGIONS):
                roles.append(("off", seeded.officers))
            for prefix, bucket in roles:
                user = User(
                    username=f"bench_{prefix}_{org.id}",
                    display_name=f"压测{prefix}{org.id}",
                    role=Role.mediator,
                    organization_id=org.id,
                    password_hash=password_hash,
                )
                db.session.add(user)
                users.append((user, bucket))
        for username, role, region in (
            ("bench_coord_hb", Role.coordinator, "130000"),
            ("bench_coord_bj", Role.coordinator, "110000"),
            ("bench_admin", Role.admin, None),
        ):
            user = User(
                username=username, display_name=username, role=role, region_code=region, password_hash=password_hash
            )
            db.session.add(user)
            users.append((user, seeded.officials))
        db.session.flush()
        for user, bucket in users:
            token, _ = issue_token(user, timedelta(hours=6), name="bench")
            org = seeded.organizations.get(user.organization_id) or {}
            bucket.append(
                Account(
                    user.username,
                    user.role.value,
                    user.organization_id,
                    org.get("name"),
                    user.region_code or org.get("region_code"),
                    token,
                )
            )
        db.session.commit()
        db.session.remove()
    return seeded


def seed_organizations() -> None:
    """The demo organisations alone (``seed demo`` also hashes passwords and writes months of activity)."""
    from mediation_hub.extensions import db
    from mediation_hub.registry.models import Organization
    from mediation_hub.seed import DEMO_ORGANIZATIONS, seed_demo_places

    seed_demo_places()  # a demo governance centre stands in a town
    ids: dict[str, int] = {}
    for key, name, kind, region, parent in DEMO_ORGANIZATIONS:
        org = Organization(name=name, kind=kind, region_code=region, parent_id=ids.get(parent), specialties=[])
        db.session.add(org)
        db.session.flush()
        ids[key] = org.id


def cover_calendar_ahead() -> None:
    """Deadlines a few weeks ahead reach next year: hold it now (provisional from the holiday law when no
    notice is loaded), as ``seed reference`` does, so the first requests under load do not race to make it."""
    from mediation_hub.core.calendar import ensure_years

    ensure_years(date.today().year, date.today().year + 1)


# --- gunicorn ---------------------------------------------------------------------------------------------


def hub_environment(url: str, keys: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment a hub process runs with: the bench database and keys, no embedded scheduler, and a
    sign-in limit the bench's few page sign-ins cannot trip."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIATION_HUB_")}
    env.update(
        {
            "MEDIATION_HUB_DATABASE_URL": url,
            "MEDIATION_HUB_SCHEDULER_ENABLED": "false",
            "MEDIATION_HUB_LOGIN_RATE_LIMIT": "600 per minute",
            "MEDIATION_HUB_LOGIN_ADDRESS_RATE_LIMIT": "600 per minute",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update({f"MEDIATION_HUB_{k}": v for k, v in keys.items()})
    env.update(extra)
    return env


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py -w N -b 127.0.0.1:PORT wsgi:app`` in its own process group, logging to a
    file."""

    def __init__(
        self,
        url: str,
        keys: dict[str, str],
        *,
        workers: int = 2,
        port: int | None = None,
        log_path: Path,
        timeout: int = 60,
    ):
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.command = [
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--timeout",
            str(timeout),
            "--graceful-timeout",
            "5",
            "wsgi:app",
        ]
        self.env = hub_environment(url, keys)
        self.process: subprocess.Popen | None = None

    def start(self, ready_within: float = 120.0) -> None:
        import requests

        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if requests.get(self.base_url + "/api/v1/openapi.json", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {ready_within:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()
        self.process = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class FlaskRun(Gunicorn):
    """``mediation-hub run`` (what ``make run`` starts: Flask's threaded server) on 127.0.0.1, in its own process
    group, logging to a file."""

    def __init__(self, url: str, keys: dict[str, str], *, port: int | None = None, log_path: Path, **_ignored):
        super().__init__(url, keys, port=port, log_path=log_path)
        self.command = [
            str(BIN / "mediation-hub"),
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-reload",
            "--no-debugger",
        ]
        self.env["FLASK_APP"] = "mediation_hub:create_app"


# --- recording --------------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    status: int  # 0 when no HTTP answer came (connection refused, reset, timeout)
    ms: float
    ok: bool
    at: float  # time.monotonic() when the request finished
    detail: str = ""


class Recorder:
    """Every request's kind, status, duration and whether it was the expected answer."""

    def __init__(self):
        self._lock = threading.Lock()
        self.samples: list[Sample] = []

    def add(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 200 values is the 198th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-round(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


def summarise(samples: list[Sample]) -> dict:
    """Counts, errors by status, and p50/p95/p99 per kind (milliseconds)."""
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_kind[s.kind].append(s)
    kinds = {}
    for kind, rows in sorted(by_kind.items()):
        ms = [r.ms for r in rows]
        kinds[kind] = {
            "requests": len(rows),
            "errors": sum(1 for r in rows if not r.ok),
            "p50": percentile(ms, 0.50),
            "p95": percentile(ms, 0.95),
            "p99": percentile(ms, 0.99),
            "max": max(ms),
        }
    all_ms = [s.ms for s in samples]
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if not s.ok),
        "errors_by_status": dict(sorted(Counter(s.status for s in samples if not s.ok).items())),
        "p50": percentile(all_ms, 0.50),
        "p95": percentile(all_ms, 0.95),
        "p99": percentile(all_ms, 0.99),
        "kinds": kinds,
    }


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} CPUs"
