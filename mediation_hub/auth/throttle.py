"""Brute-force protection of sign-in: a per-account throttle with doubling backoff, and two budgets that
``/login`` and ``POST /api/v1/auth/token`` share: ``LOGIN_RATE_LIMIT`` per account and address together, and a
generous ``LOGIN_ADDRESS_RATE_LIMIT`` ceiling per address (issue 13: an office behind one NAT address must not
lock itself out because one person mistypes). Every refusal says when to try again.

Per account: after ``LOGIN_LOCK_AFTER`` failed attempts for one username (from any address, whether the account
exists or not, so the answers cannot tell names apart) the name is locked for ``LOGIN_LOCK_MINUTES``; each
further lock doubles that, up to ``LOGIN_LOCK_MAX_MINUTES``. While locked every attempt is refused (429) without
checking the password, so even the right one is not accepted. A success forgets the failures and the backoff;
so does ``LOGIN_LOCK_MEMORY_HOURS`` without a new lock. Each lock is audited (``sign_in_throttled``) and told to
every active administrator once.

The counters live in the rate-limit storage (``RATELIMIT_STORAGE_URI``): with ``redis://`` every worker and host
shares them; with the default ``memory://`` each process counts alone, which is why a gunicorn start with several
workers on ``memory://`` logs a warning (``when_ready`` in ``gunicorn.conf.py``).

Other password checks (the password change's current password) count through :func:`check`, :func:`failed` and
:func:`succeeded` the same way."""

from __future__ import annotations

import contextlib
import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from werkzeug.exceptions import TooManyRequests

from ..audit import service as audit
from ..core.actor import Role
from ..core.messages import Coded, coded
from ..core.shanghai import SHANGHAI
from ..errors import DomainError, Unavailable
from ..extensions import db, limiter

EXTENSION = "mediation_hub.sign_in_throttle"
KEY_PREFIX = "mh-sign-in"
NOTICE_LINK = "/audit?action=sign_in_throttled"
_storage_lock = threading.Lock()


def _attempted_username() -> str:
    """The account a sign-in attempt is for: the form's or the JSON body's ``username``; for a password change
    (no username sent) the signed-in account or the bearer token's."""
    if request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    if isinstance(name, str) and name:
        return name
    actor = g.get("actor") if g.get("api_token") else None  # a bearer call: the token's account
    if actor is not None:
        return f"#{actor.user_id}"
    return f"#{current_user.get_id()}" if current_user and current_user.is_authenticated else ""


def account_and_address() -> str:
    """The key of the per-account-and-address budget: the address and a digest of the account (no name is
    stored), so one person's mistakes spend their own budget, not the whole office's behind one address."""
    return f"{get_remote_address()}/{_digest(_attempted_username())}"


# Two budgets, shared by /login, POST /api/v1/auth/token and the password changes (one scope each):
# LOGIN_RATE_LIMIT per account and address together, and LOGIN_ADDRESS_RATE_LIMIT per address, a generous
# ceiling against one address spraying many names. The per-account lock below stays per account whatever the
# address (80 guesses from 8 addresses must not get through): it locks the person who failed, never the others.
_per_account_and_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], scope="sign-in", key_func=account_and_address, methods=["POST"]
)
_per_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], scope="sign-in-address", methods=["POST"]
)


def sign_in_limit(view: Callable) -> Callable:
    """Both sign-in budgets on a view (Flask-Limiter evaluates stacked limits once, from the inner one)."""
    return _per_address(_per_account_and_address(view))


def locked_message(seconds: int) -> Coded:
    """When a locked account may try again: in N seconds under a minute, else the time of day (Asia/Shanghai,
    rounded up to the minute) with the minutes left."""
    if seconds < 60:
        return coded("sign_in_locked", "登录失败次数过多，该账号已暂时锁定，请 %(seconds)s 秒后再试", seconds=seconds)
    until = datetime.now(SHANGHAI) + timedelta(seconds=seconds)
    if until.second or until.microsecond:
        until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return coded(
        "sign_in_locked",
        "登录失败次数过多，该账号已暂时锁定，请在 %(time)s 后再试（约 %(minutes)s 分钟）",
        time=until.strftime("%H:%M"),
        minutes=math.ceil(seconds / 60),
    )


class SignInThrottled(DomainError):
    """The username is locked after too many failed attempts; ``retry_after`` seconds remain."""

    status = 429
    title = "Too Many Requests"

    def __init__(self, retry_after: int):
        self.retry_after = max(1, retry_after)
        self.minutes = math.ceil(self.retry_after / 60)
        super().__init__(locked_message(self.retry_after))

    def http_error(self) -> TooManyRequests:
        """The refusal as an HTTP 429 with Retry-After (the one JSON error shape under /api)."""
        return _LockedOut(self.message, self.retry_after)  # a Coded message: its code sign_in_locked is kept


class _LockedOut(TooManyRequests):
    """A 429 whose ``data`` carries the Retry-After header, in the shape ``handle_http_error`` answers."""

    def __init__(self, description: str, retry_after: int) -> None:
        super().__init__(description=description)
        self.data = {"headers": {"Retry-After": str(retry_after)}}


# --- the three calls every password check makes ---------------------------------------------------------


def check(username: str, *, remote_addr: str | None = None) -> None:
    """Raise SignInThrottled while ``username`` is locked (the refused attempt is audited as a failed sign-in);
    call it before looking at the password."""
    with _storage() as storage:
        keys = _Keys(username)
        if storage.get(keys.lock) <= 0:
            return
        retry_after = math.ceil(storage.get_expiry(keys.lock) - time.time())
    audit.record(None, "sign_in_failed", username=username[:60], remote_addr=remote_addr, detail={"throttled": True})
    raise SignInThrottled(retry_after)


def failed(username: str, *, remote_addr: str | None = None) -> None:
    """Count one failed attempt for ``username``; the attempt that reaches LOGIN_LOCK_AFTER locks the name."""
    with _storage() as storage:
        keys = _Keys(username)
        failures = storage.incr(keys.failures, _memory_seconds())
        if failures < current_app.config["LOGIN_LOCK_AFTER"]:
            return
        level = storage.get(keys.level) + 1
        minutes = lock_minutes(level)
        if storage.incr(keys.lock, minutes * 60) != 1:  # atomic: of attempts failing together, one locks
            return
        storage.clear(keys.level)
        storage.incr(keys.level, _memory_seconds(), amount=level)  # remembered from this lock on
        storage.clear(keys.failures)
    _announce_lock(username, failures=failures, minutes=minutes, level=level, remote_addr=remote_addr)


def succeeded(username: str) -> None:
    """The right password: forget the failures and the backoff of ``username``."""
    with _storage() as storage:
        keys = _Keys(username)
        for key in (keys.failures, keys.level, keys.lock):
            storage.clear(key)


def lock_minutes(level: int) -> int:
    """How long the ``level``-th lock in a row lasts: LOGIN_LOCK_MINUTES doubled per lock, capped."""
    config = current_app.config
    return min(config["LOGIN_LOCK_MINUTES"] * 2 ** min(level - 1, 20), config["LOGIN_LOCK_MAX_MINUTES"])


# --- the lock's audit row and the administrators' notice ------------------------------------------------


def _announce_lock(username: str, *, failures: int, minutes: int, level: int, remote_addr: str | None) -> None:
    from ..notifications.service import notify
    from .models import User

    user_id = db.session.scalar(sa.select(User.id).where(User.username == username))
    audit.record(
        None,
        "sign_in_throttled",
        username=username[:60],
        remote_addr=remote_addr,
        target_type="user" if user_id else None,
        target_id=user_id,
        detail={"failures": failures, "locked_minutes": minutes, "lock": level},
    )
    if user_id is None:  # a name nobody has: audited, but no notice (guessed names must not flood the admins)
        return
    longest = current_app.config["LOGIN_LOCK_MAX_MINUTES"]
    message = (
        f"账户 {username} 连续 {failures} 次登录失败，已锁定 {minutes} 分钟（第 {level} 次锁定，"
        f"再次锁定时间加倍，最长 {longest} 分钟）；尝试的来源地址见审计日志。"
    )
    admins = db.session.scalars(sa.select(User.id).where(User.role == Role.admin, User.active.is_(True))).all()
    for admin_id in admins:
        notify(kind="sign_in_throttled", user_id=admin_id, message=message, link=NOTICE_LINK)


# --- storage --------------------------------------------------------------------------------------------


class _Keys:
    """Storage keys of one username: hashed, so any name typed is a short, safe key and none is stored."""

    def __init__(self, username: str):
        digest = _digest(username)
        self.failures = f"{KEY_PREFIX}/{digest}/failures"
        self.level = f"{KEY_PREFIX}/{digest}/level"
        self.lock = f"{KEY_PREFIX}/{digest}/lock"


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def _memory_seconds() -> int:
    return current_app.config["LOGIN_LOCK_MEMORY_HOURS"] * 3600


@contextlib.contextmanager
def _storage() -> Iterator[Storage]:
    """This app's throttle storage; an unreachable one refuses the sign-in (503) rather than letting it through
    unthrottled."""
    try:
        yield storage_for(current_app)
    except StorageError as exc:
        current_app.logger.warning("sign-in throttle storage unavailable: %s", type(exc.storage_error).__name__)
        raise Unavailable(coded("sign_in_protection_unavailable", "登录保护暂时不可用，请稍后再试")) from None


def storage_for(app: Flask) -> Storage:
    """The storage of ``app``'s counters, made once from RATELIMIT_STORAGE_URI (one per app: Flask-Limiter's own
    storage belongs to the process-wide limiter, which every create_app re-binds)."""
    storage = app.extensions.get(EXTENSION)
    if storage is None:
        with _storage_lock:
            storage = app.extensions.get(EXTENSION)
            if storage is None:
                options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
                storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"], wrap_exceptions=True, **options)
                assert isinstance(storage, Storage), "a synchronous storage (no async+ scheme)"
                app.extensions[EXTENSION] = storage
    return storage
