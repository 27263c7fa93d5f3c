"""Hubs as real servers on 127.0.0.1, each with a database of its own (a SQLite file or a PostgreSQL database),
its own keys and its own hub id, joined as peers through the CLI: what the federation tests
(tests/test_federation_hubs.py) and the benchmark (bench/federation.py) run against.

Each hub: reference data, the organisations of its province that take cross-region work, one account per role
(``admin``, ``mediator``, ``officer``, ``coordinator``), then gunicorn (one worker, threads) with the embedded
scheduler at one-second slots for the federation sweep and the transfer expiry."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import PG_ADMIN_URL, ROOT, free_port, http_json, wait_for

BIN = Path(sys.executable).parent
PASSWORD = "federation-test-password-2026"  # noqa: S105 - throw-away accounts on throw-away databases

# hub id -> (province code, organisations: key, name, kind, region)
PROVINCES: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {
    "beijing": (
        "110000",
        [
            ("committee", "朝阳区劲松街道人民调解委员会", "people_mediation_committee", "110105"),
            ("legal_aid", "北京市朝阳区法律援助中心", "legal_aid_centre", "110105"),
        ],
    ),
    "tianjin": (
        "120000",
        [
            ("committee", "天津市劳动争议人民调解委员会", "professional_mediation_org", "120101"),
            ("legal_aid", "天津市和平区法律援助中心", "legal_aid_centre", "120101"),
        ],
    ),
    "hebei": (
        "130000",
        [
            ("committee", "竞秀区先锋街道人民调解委员会", "people_mediation_committee", "130602"),
            ("legal_aid", "保定市法律援助中心", "legal_aid_centre", "130602"),
        ],
    ),
}
ROLES = (("admin", "admin", None), ("mediator", "mediator", "committee"), ("officer", "legal_aid_officer", "legal_aid"))


def fresh_keys() -> dict[str, str]:
    """Keys of one hub: every hub encrypts personal numbers with its own."""
    return {
        "PII_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "LOOKUP_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SECRET_KEY": secrets.token_hex(16),
    }


def shared_secret() -> str:
    from integrations.webhook_signing import generate_secret

    return generate_secret()


@dataclass
class Hub:
    hub_id: str
    database_url: str
    workdir: Path
    port: int = field(default_factory=free_port)
    keys: dict[str, str] = field(default_factory=fresh_keys)
    org_ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def province(self) -> str:
        return PROVINCES[self.hub_id][0]

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "MEDIATION_HUB_DATABASE_URL": self.database_url,
                "MEDIATION_HUB_PII_KEY": self.keys["PII_KEY"],
                "MEDIATION_HUB_LOOKUP_KEY": self.keys["LOOKUP_KEY"],
                "MEDIATION_HUB_SECRET_KEY": self.keys["SECRET_KEY"],
                "MEDIATION_HUB_HUB_ID": self.hub_id,
                "MEDIATION_HUB_PUBLIC_URL": self.url,
                "MEDIATION_HUB_SCHEDULER_ENABLED": "true",
                "MEDIATION_HUB_JOB_FEDERATION_DELIVER_SECONDS": "1",
                "MEDIATION_HUB_JOB_TRANSFERS_EXPIRE_SECONDS": "2",
                "MEDIATION_HUB_JOB_FEDERATION_UNREACHABLE_SECONDS": "2",
                "MEDIATION_HUB_FEDERATION_BACKOFF_SECONDS": "1",
                "MEDIATION_HUB_LOGIN_RATE_LIMIT": "1000 per minute",
                "MEDIATION_HUB_LOGIN_ADDRESS_RATE_LIMIT": "1000 per minute",
                "MEDIATION_HUB_PASSWORD_HASH_TIME_COST": "1",
                "MEDIATION_HUB_PASSWORD_HASH_MEMORY_KIB": "64",
                "PYTHONPATH": str(ROOT),
            }
        )
        env.update(self.extra_env)
        env.update(overrides)
        return env

    # --- set-up ------------------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Schema, reference data, organisations and accounts (in this process, on the hub's database)."""
        self.cli("db", "upgrade")
        self.cli("seed", "reference")
        from mediation_hub import create_app

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.database_url,
                "HUB_ID": self.hub_id,
                "PASSWORD_HASH_TIME_COST": 1,
                "PASSWORD_HASH_MEMORY_COST": 64,
                **self.keys,
            }
        )
        with app.app_context():
            from mediation_hub.auth.service import create_user, issue_token
            from mediation_hub.core.actor import SYSTEM
            from mediation_hub.extensions import db
            from mediation_hub.registry.models import Organization, OrgKind

            for key, name, kind, region in PROVINCES[self.hub_id][1]:
                org = Organization(name=name, kind=OrgKind(kind), region_code=region, specialties=[], active=True)
                db.session.add(org)
                db.session.flush()
                self.org_ids[key] = org.id
            for username, role, org_key in (*ROLES, ("coordinator", "coordinator", None)):
                user = create_user(
                    SYSTEM,
                    username=f"{self.hub_id}_{username}",
                    password=PASSWORD,
                    role=role,
                    organization_id=self.org_ids[org_key] if org_key else None,
                    region_code=self.province if role == "coordinator" else None,
                )
                token, _ = issue_token(user, timedelta(hours=4), name="federation-test")
                self.tokens[username] = token
            db.session.commit()
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()

    def cli(
        self, *args: str, stdin: str | None = None, check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "mediation-hub"), *args],
            input=stdin,
            env=self.env(**env),
            cwd=str(ROOT),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{self.hub_id}: mediation-hub {' '.join(args)}: {result.stderr[-2000:]}")
        return result

    # --- the server --------------------------------------------------------------------------------------------

    def start(self, **env: str) -> None:
        log = self.workdir / f"{self.hub_id}.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "-w",
                "1",
                "--threads",
                "8",
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--timeout",
                "120",
                "wsgi:app",
            ],
            env=self.env(**env),
            cwd=str(ROOT),
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
        )
        try:
            wait_for(self.url + "/api/v1/federation/types", timeout=120)
        except RuntimeError:
            self.stop()
            raise RuntimeError(log.read_text(errors="replace")[-3000:]) from None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL the master and its worker: nothing runs after the signal."""
        if self.process is None:
            return
        from bench.common import child_pids

        for pid in [*child_pids(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    # --- calls -------------------------------------------------------------------------------------------------

    def api(self, method: str, path: str, as_: str = "admin", body: dict[str, Any] | None = None) -> tuple[int, Any]:
        return http_json(method, self.url + path, token=self.tokens[as_], body=body, timeout=60)

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Rows of one read on the hub's database (what the checks look at besides the API)."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(statement), params))
        finally:
            engine.dispose()

    def remote_org(self, peer: str, key: str, peer_hubs: dict[str, Hub]) -> int:
        """This hub's id of a peer's organisation (brought by the peer's directory snapshot)."""
        remote_id = peer_hubs[peer].org_ids[key]
        rows = wait_until(
            lambda: self.sql(
                "SELECT id FROM organizations WHERE hub_id = :hub AND remote_id = :rid", hub=peer, rid=remote_id
            ),
            f"{self.hub_id} knows {peer}'s {key}",
        )
        return int(rows[0][0])


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(interval)


def join(hubs: dict[str, Hub]) -> dict[tuple[str, str], str]:
    """Each pair of hubs adds the other with one shared secret (``mediation-hub peers add … --secret-stdin``)."""
    pair_secrets: dict[tuple[str, str], str] = {}
    names = sorted(hubs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            secret = shared_secret()
            pair_secrets[(a, b)] = pair_secrets[(b, a)] = secret
            hubs[a].cli("peers", "add", b, hubs[b].url, "--secret-stdin", stdin=secret + "\n")
            hubs[b].cli("peers", "add", a, hubs[a].url, "--secret-stdin", stdin=secret + "\n")
    return pair_secrets


def sqlite_url(workdir: Path, hub_id: str) -> str:
    return f"sqlite:///{workdir / f'{hub_id}.db'}"


def pg_url(name: str) -> str:
    from bench.common import create_pg_database

    return create_pg_database(name)


def start_hubs(backend: str, workdir: Path | None = None, names: tuple[str, ...] = ("beijing", "tianjin", "hebei")):
    """Prepare, start and join hubs; returns (hubs, secrets). Stop them with ``stop_hubs``."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="mh-federation-"))
    hubs: dict[str, Hub] = {}
    for name in names:
        url = sqlite_url(workdir, name) if backend == "sqlite" else pg_url(f"mh_fed_{name}_{os.getpid()}")
        hubs[name] = Hub(name, url, workdir)
    for hub in hubs.values():
        hub.prepare()
    pair_secrets = join(hubs)
    for hub in hubs.values():
        hub.start()
    return hubs, pair_secrets


def stop_hubs(hubs: dict[str, Hub], backend: str) -> None:
    for hub in hubs.values():
        hub.stop()
    if backend != "sqlite":
        from bench.common import drop_pg_database

        for name in hubs:
            drop_pg_database(f"mh_fed_{name}_{os.getpid()}")


def signed_post(
    url: str, secret: str, envelope: dict[str, Any], *, timestamp: int | None = None, body: bytes | None = None
) -> tuple[int, Any]:
    """POST an envelope to a hub's inbox signed with ``secret`` (the tests' forged, replayed and stale messages)."""
    import urllib.error
    import urllib.request

    from integrations.webhook_signing import sign

    raw = body if body is not None else json.dumps(envelope, ensure_ascii=False).encode()
    stamp = timestamp if timestamp is not None else int(time.time())
    request = urllib.request.Request(url + "/api/v1/federation/inbox", data=raw, method="POST")  # noqa: S310
    request.add_header("content-type", "application/json")
    request.add_header("webhook-id", envelope["id"])
    request.add_header("webhook-timestamp", str(stamp))
    request.add_header(
        "webhook-signature", sign(secret, envelope["id"], stamp, json.dumps(envelope, ensure_ascii=False).encode())
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - 127.0.0.1 only
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


PG_ADMIN = PG_ADMIN_URL
