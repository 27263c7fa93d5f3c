"""Brute-force protection of sign-in (issue 12, item 7): a per-account lock with doubling backoff, counted in
the rate-limit storage (shared by every worker with redis://), one per-address budget for /login and the token
endpoint, a notice to the administrators once per lock, and the start-up warning for several workers on
memory://.

The issue: 80 wrong passwords against one account from 8 addresses, then the right one was accepted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from argon2 import PasswordHasher
from limits.storage import storage_from_string

from mediation_hub import create_app
from mediation_hub.audit.models import AuditEntry
from mediation_hub.auth import throttle
from mediation_hub.auth.models import ApiToken
from mediation_hub.config import Config, ConfigError
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db, limiter
from mediation_hub.notifications.models import Notification
from tests.conftest import TEST_KEYS
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/15"
ADDRESSES = [f"127.0.1.{n}" for n in range(1, 9)]  # eight client addresses (only ever written into the environ)
TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture
def lock_rules(app, monkeypatch):
    """The production defaults of the account lock (the suite's app sets LOGIN_LOCK_AFTER high)."""
    for key, value in {
        "LOGIN_LOCK_AFTER": 5,
        "LOGIN_LOCK_MINUTES": 1,
        "LOGIN_LOCK_MAX_MINUTES": 30,
        "LOGIN_LOCK_MEMORY_HOURS": 24,
    }.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def clock():
    """The clock stopped on a whole second (the memory storage and Flask-Limiter count with time.time); the
    per-address windows are emptied before and after, so none outlives the travel into another test."""
    limiter.reset()
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False) as traveller:
        yield traveller
    limiter.reset()


def attempt(client, via: str, username: str, password: str, address: str = "127.0.1.99"):
    environ = {"REMOTE_ADDR": address}
    if via == "page":
        return client.post("/login", data={"username": username, "password": password}, environ_base=environ)
    return client.post(TOKEN_URL, json={"username": username, "password": password}, environ_base=environ)


def refused_for(seconds: int) -> str:
    """The lock's message with ``seconds`` left: the seconds under a minute, else the Shanghai time it ends
    (rounded up to the minute; the clock stands on a whole second) and the minutes (issue 13 point 8)."""
    if seconds < 60:
        return f"登录失败次数过多，该账号已暂时锁定，请 {seconds} 秒后再试"
    until = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(seconds=seconds)
    if until.second:
        until += timedelta(seconds=60 - until.second)
    return f"登录失败次数过多，该账号已暂时锁定，请在 {until:%H:%M} 后再试（约 {-(-seconds // 60)} 分钟）"


def waits(response, seconds: int) -> bool:
    """Retry-After says ``seconds``; Flask-Limiter raises it to the end of the per-address window when that is
    later (a minute window ends up to 61 s after its first request)."""
    return seconds <= int(response.headers["Retry-After"]) <= max(seconds, 61)


def audit_count(action: str, username: str, **detail) -> int:
    rows = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == action, AuditEntry.username == username)
    ).all()
    return sum(all(row.detail.get(k) == v for k, v in detail.items()) for row in rows)


def lock_notices(admin) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Notification.message)
            .where(Notification.user_id == admin.id, Notification.kind == "sign_in_throttled")
            .order_by(Notification.id)
        )
    )


FAILED = {"page": 422, "api": 401}
SIGNED_IN = {"page": 302, "api": 201}


@pytest.mark.parametrize("via", ["page", "api"])
def test_eighty_wrong_passwords_from_eight_addresses_then_the_right_one_is_refused(
    client, make_user, lock_rules, clock, via
):
    user = make_user()
    db.session.commit()
    statuses = [attempt(client, via, user.username, f"guess-{n}", ADDRESSES[n % 8]).status_code for n in range(80)]
    # the first five are checked and wrong; the fifth locks the name for 1 minute; the other 75 are refused
    assert statuses == [FAILED[via]] * 5 + [429] * 75
    right = attempt(client, via, user.username, PASSWORD, "127.0.1.9")
    assert right.status_code == 429 and waits(right, 60)
    text = right.get_data(as_text=True)
    assert refused_for(60) in (right.json["message"] if via == "api" else text)
    if via == "api":
        assert set(right.json) == {"code", "status", "error", "message"} and right.json["code"] == 429
        assert right.json["error"] == "sign_in_locked"
        assert "access_token" not in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)) == 0
    assert client.get("/registry/studios").status_code == 302  # no session either
    assert audit_count("sign_in", user.username) == 0
    assert audit_count("sign_in_failed", user.username) == 81  # every attempt, the 76 refused ones marked
    assert audit_count("sign_in_failed", user.username, throttled=True) == 76
    assert audit_count("sign_in_throttled", user.username, failures=5, locked_minutes=1, lock=1) == 1
    # once the minute is over, the right password works (and is not refused again)
    clock.shift(60)
    assert attempt(client, via, user.username, PASSWORD).status_code == SIGNED_IN[via]


def test_each_further_lock_doubles_up_to_the_cap(client, make_user, lock_rules, clock):
    user = make_user()
    db.session.commit()
    for minutes in (1, 2, 4, 8, 16, 30, 30):
        assert [attempt(client, "api", user.username, "wrong").status_code for _ in range(5)] == [401] * 5
        locked = attempt(client, "api", user.username, PASSWORD)
        assert locked.status_code == 429 and waits(locked, minutes * 60)
        assert locked.json["message"] == refused_for(minutes * 60)
        clock.shift(minutes * 60 - 1)
        last_second = attempt(client, "api", user.username, PASSWORD)
        assert last_second.status_code == 429 and last_second.json["message"] == refused_for(1)
        clock.shift(1)
    locks = db.session.scalars(
        sa.select(AuditEntry.detail)
        .where(AuditEntry.action == "sign_in_throttled", AuditEntry.username == user.username)
        .order_by(AuditEntry.id)
    )
    assert [d["locked_minutes"] for d in locks] == [1, 2, 4, 8, 16, 30, 30]
    # the right password after the last lock: accepted, and the backoff starts again at 1 minute
    assert attempt(client, "api", user.username, PASSWORD).status_code == 201
    assert [attempt(client, "api", user.username, "wrong").status_code for _ in range(6)] == [401] * 5 + [429]
    assert waits(attempt(client, "api", user.username, PASSWORD), 60)


def test_the_backoff_is_forgotten_after_the_memory_period(client, make_user, lock_rules, clock):
    user = make_user()
    db.session.commit()
    for _ in range(2):  # two locks: 1 and 2 minutes
        [attempt(client, "api", user.username, "wrong") for _ in range(5)]
        clock.shift(timedelta(minutes=2))
    clock.shift(timedelta(hours=24))
    [attempt(client, "api", user.username, "wrong") for _ in range(5)]
    locked = attempt(client, "api", user.username, "wrong")
    assert locked.status_code == 429 and waits(locked, 60)  # 1 minute again, not 4


def test_a_success_resets_the_failure_count(client, make_user, lock_rules, clock):
    user = make_user()
    db.session.commit()
    assert [attempt(client, "api", user.username, "wrong").status_code for _ in range(4)] == [401] * 4
    assert attempt(client, "api", user.username, PASSWORD).status_code == 201
    # counting starts again: four more failures do not lock; five do, and the sixth attempt is refused
    assert [attempt(client, "api", user.username, "wrong").status_code for _ in range(6)] == [401] * 5 + [429]


@pytest.mark.parametrize("last", ["page", "api"])
def test_login_page_and_token_endpoint_share_one_ceiling_per_address(client, make_user, app, monkeypatch, last):
    # the per-address ceiling (the per-account-and-address budget: tests/test_signin_limits.py)
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_RATE_LIMIT", "3 per minute")
    limiter.reset()
    try:
        names = [make_user().username for _ in range(5)]
        db.session.commit()
        first = [
            attempt(client, "page", names[0], "wrong-1", "127.0.2.1").status_code,
            attempt(client, "api", names[1], "wrong-2", "127.0.2.1").status_code,
            attempt(client, "page", names[2], "wrong-3", "127.0.2.1").status_code,
        ]
        assert first == [422, 401, 422]
        over = attempt(client, last, names[3], PASSWORD, "127.0.2.1")
        assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
        # another address has its own budget
        assert attempt(client, last, names[4], PASSWORD, "127.0.2.2").status_code == SIGNED_IN[last]
    finally:
        limiter.reset()


def test_administrators_are_told_once_per_lock(client, make_user, lock_rules, clock):
    user = make_user()
    admins = [make_user(role=Role.admin), make_user(role=Role.admin)]
    retired = make_user(role=Role.admin, active=False)
    db.session.commit()
    for _ in range(12):  # 5 failures lock the name, 7 more are refused: still one lock
        attempt(client, "api", user.username, "wrong")
    for admin in admins:
        [message] = lock_notices(admin)
        assert user.username in message and "连续 5 次登录失败，已锁定 1 分钟" in message and "wrong" not in message
    assert lock_notices(retired) == []
    clock.shift(60)
    for _ in range(5):
        attempt(client, "api", user.username, "wrong")
    for admin in admins:
        assert len(lock_notices(admin)) == 2 and "已锁定 2 分钟（第 2 次锁定" in lock_notices(admin)[1]
    note = db.session.scalars(sa.select(Notification).where(Notification.user_id == admins[0].id)).first()
    assert note.link == "/audit?action=sign_in_throttled"


def test_a_name_nobody_has_is_audited_but_not_announced(client, make_user, lock_rules, clock):
    admin = make_user(role=Role.admin)
    db.session.commit()
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    for _ in range(6):
        attempt(client, "api", ghost, "wrong")
    assert audit_count("sign_in_throttled", ghost, failures=5, locked_minutes=1) == 1
    assert lock_notices(admin) == []


@pytest.mark.parametrize("via", ["page", "api"])
def test_an_unknown_name_gets_the_same_answers_and_the_same_work(
    client, make_user, lock_rules, clock, monkeypatch, via
):
    """Same statuses, bodies and Retry-After for a real account and a made-up name, and the same number of
    argon2 verifications (the timing): five checked attempts, none while locked."""
    verifications = []
    real_verify = PasswordHasher.verify

    def counting_verify(self, hash, password):
        verifications.append(password)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    real = make_user(username=f"real-{uuid.uuid4().hex[:8]}")
    db.session.commit()
    ghost = f"fake-{uuid.uuid4().hex[:8]}"

    def answers(name):
        verifications.clear()
        seen = []
        for n in range(7):
            response = attempt(client, via, name, f"guess-{n}")
            body = response.get_data(as_text=True).replace(name, "NAME")
            seen.append((response.status_code, response.headers.get("Retry-After"), body))
        return seen, len(verifications)

    real_answers, real_checks = answers(real.username)
    ghost_answers, ghost_checks = answers(ghost)
    assert [a[0] for a in real_answers] == [FAILED[via]] * 5 + [429] * 2
    assert real_answers == ghost_answers
    assert real_checks == ghost_checks == 5


def test_the_three_calls_other_password_checks_use(app, lock_rules, clock):
    """check/failed/succeeded, as the password change's current-password check calls them."""
    name = f"changer-{uuid.uuid4().hex[:8]}"
    for _ in range(4):
        throttle.failed(name)
    throttle.check(name)  # four failures: not locked
    throttle.failed(name)
    with pytest.raises(throttle.SignInThrottled) as refused:
        throttle.check(name)
    assert refused.value.retry_after == 60 and refused.value.status == 429
    throttle.succeeded(name)
    throttle.check(name)


def test_an_unreachable_storage_refuses_with_503_not_500(client, app, make_user, lock_rules, monkeypatch):
    user = make_user()
    db.session.commit()
    dead = storage_from_string("redis://127.0.0.1:1/15", wrap_exceptions=True, socket_connect_timeout=1)
    monkeypatch.setitem(app.extensions, throttle.EXTENSION, dead)
    response = attempt(client, "api", user.username, PASSWORD)
    assert response.status_code == 503 and response.json["code"] == 503
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)) == 0


# --- shared storage: two app instances (two workers) ----------------------------------------------------


@pytest.fixture
def two_workers(app, tmp_path):
    """``two_workers(storage_uri)``: two apps (as two gunicorn workers) on one database, each with its own
    throttle storage made from ``storage_uri``; afterwards the Redis keys are cleared and the process-wide
    limiter is bound to the suite's app again (every create_app re-binds it)."""
    made = []

    def build(storage_uri: str):
        url = f"sqlite:///{tmp_path / 'workers.db'}"
        config = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": storage_uri,
            "LOGIN_LOCK_AFTER": 5,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_COST": 64,
            "WTF_CSRF_ENABLED": False,
            **TEST_KEYS,
        }
        apps = [create_app(config), create_app(config)]
        with apps[0].app_context():
            db.create_all()
        made.extend(apps)
        return apps

    yield build
    if made and made[0].config["RATELIMIT_STORAGE_URI"] == REDIS_URL:
        limiter.reset()  # the per-address counters this test wrote to Redis database 15
    limiter.init_app(app)
    for worker in made:
        with worker.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(("storage_uri", "shared"), [(REDIS_URL, True), ("memory://", False)])
def test_the_count_is_shared_by_workers_on_redis_only(two_workers, storage_uri, shared):
    first, second = two_workers(storage_uri)
    name = f"spread-{uuid.uuid4().hex[:8]}"
    try:
        a, b = first.test_client(), second.test_client()
        statuses = [attempt(a if n % 2 else b, "api", name, "wrong").status_code for n in range(5)]
        assert statuses == [401] * 5
        # the fifth failure (two in one worker, three in the other) locked the name for both, or for none
        expected = 429 if shared else 401
        assert [attempt(a, "api", name, "wrong").status_code, attempt(b, "api", name, "wrong").status_code] == [
            expected,
            expected,
        ]
    finally:
        for worker in (first, second):
            with worker.app_context():
                throttle.succeeded(name)


# --- the start-up warning ---------------------------------------------------------------------------------

TINY_APP = """
def app(environ, start_response):
    start_response("204 No Content", [])
    return []
"""


def gunicorn_log(tmp_path, *args: str, env_extra: dict[str, str]) -> str:
    """Start gunicorn with the repository's config until its workers boot, stop it, and return its log. The
    warning comes from the master, before any worker loads an app: the workers serve a tiny app, so they boot
    and stop at once."""
    (tmp_path / "tiny_wsgi.py").write_text(TINY_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIATION_HUB_") and k != "WEB_CONCURRENCY"}
    env.update({"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]), **env_extra})
    log_path = tmp_path / f"gunicorn-{uuid.uuid4().hex[:6]}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "-b",
                "127.0.0.1:0",
                "--log-level",
                "info",
                *args,
                "tiny_wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while "Booting worker" not in log_path.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGINT)  # quick shutdown
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return log_path.read_text()


@pytest.mark.parametrize(
    ("args", "env", "warning"),
    [
        ((), {"WEB_CONCURRENCY": "2"}, "memory:// and 2 workers run"),  # the default storage; workers from the env
        (("-w", "3"), {"MEDIATION_HUB_RATELIMIT_STORAGE_URI": "memory://"}, "memory:// and 3 workers run"),
        (("-w", "1"), {}, None),  # one process counts for the whole hub (make run's is not even gunicorn)
        (("-w", "3"), {"MEDIATION_HUB_RATELIMIT_STORAGE_URI": REDIS_URL}, None),  # shared by every worker
    ],
)
def test_gunicorn_warns_at_start_when_workers_would_count_alone(tmp_path, args, env, warning):
    log = gunicorn_log(tmp_path, *args, env_extra=env)
    assert "Booting worker" in log  # the hook runs before the first worker starts
    warnings = [line for line in log.splitlines() if "counted per worker" in line]
    if warning is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and "[WARNING]" in warnings[0] and warning in warnings[0]
        assert "MEDIATION_HUB_RATELIMIT_STORAGE_URI=redis://" in warnings[0]


# --- settings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LOGIN_LOCK_AFTER": "0"}, "must be at least 1"),
        ({"LOGIN_LOCK_MINUTES": "10", "LOGIN_LOCK_MAX_MINUTES": "5"}, "LOGIN_LOCK_MAX_MINUTES must not be below"),
    ],
)
def test_lock_settings_that_cannot_work_refuse_to_start(tmp_path, monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(f"MEDIATION_HUB_{key}", value)
    with pytest.raises(ConfigError, match=message):
        Config(tmp_path).validate()


def test_redis_out_of_reach_is_a_503_on_both_sign_in_doors_never_a_500(two_workers):
    """With the rate-limit storage unreachable, the per-address limit falls back to the process's memory
    (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) and the per-account lock answers 503: the page and the token call
    tell the user to retry, never a bare 500."""
    worker, _ = two_workers("redis://127.0.0.1:1/15?socket_connect_timeout=1")
    browser = worker.test_client()
    page = browser.post("/login", data={"username": "nobody-here", "password": "wrong-password-1"})
    api = browser.post("/api/v1/auth/token", json={"username": "nobody-here", "password": "wrong-password-1"})
    assert (page.status_code, api.status_code) == (503, 503)
    assert api.json["code"] == 503
