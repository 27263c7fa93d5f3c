"""Settings read from the environment (``MEDIATION_HUB_*``), validated at start-up."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

PREFIX = "MEDIATION_HUB_"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the app refuses to start."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(PREFIX + name, default)


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from exc


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{PREFIX}{name} must be true or false, got {raw!r}")


def _days_by_kind(name: str, default: int) -> dict[str, int]:
    """``"30"`` or ``"default=30,commercial_mediation=45"`` -> ``{"default": 30, "commercial_mediation": 45}``."""
    raw = (_env(name) or "").strip()
    result = {"default": default}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, value = part.rpartition("=")
        try:
            days = int(value)
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}{name}: {part!r} is not DAYS or KIND=DAYS") from exc
        if not 1 <= days <= 366:
            raise ConfigError(f"{PREFIX}{name}: {days} days is outside 1..366")
        result[key.strip() if sep else "default"] = days
    return result


def _allowed_hosts(name: str) -> tuple[str, ...]:
    """``"gov-centre.local, 10.20.0.5, 10.30.0.0/16"`` -> the normalised entries (host names, IPs, CIDRs)."""
    from integrations.outbound import AllowList

    try:
        return AllowList.parse(_env(name) or "").entries
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name}: {exc}") from exc


class Config:
    """Production-shaped defaults; every value can be overridden from the environment."""

    def __init__(self, instance_path: str | Path):
        instance = Path(instance_path)
        self.SECRET_KEY = _env("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL") or f"sqlite:///{instance / 'mediation_hub.db'}"
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        # SQLite only: how long a writer waits its turn for the write lock before the request fails with 503
        self.SQLITE_BUSY_TIMEOUT_MS = _int("SQLITE_BUSY_TIMEOUT_MS", 20000)
        # SQLite only: refuse (instead of logging) a write in a GET request that did not declare it (tests set it)
        self.SQLITE_STRICT_WRITES = False
        self.PII_KEY = _env("PII_KEY")
        self.LOOKUP_KEY = _env("LOOKUP_KEY")
        self.TOKEN_TTL = timedelta(hours=_int("TOKEN_TTL_HOURS", 12))
        # argon2 cost; argon2-cffi's recommended defaults unless set (tests use a cheap one)
        self.PASSWORD_HASH_TIME_COST = _int("PASSWORD_HASH_TIME_COST", 3)
        self.PASSWORD_HASH_MEMORY_COST = _int("PASSWORD_HASH_MEMORY_KIB", 65536)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SECURE_COOKIES", False)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=_int("SESSION_HOURS", 10))
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
        # Sign-in budgets (auth/throttle.py): per account and address together, and a generous ceiling per address
        # (an office behind one NAT address signs in together; one person's mistakes spend only their own budget).
        self.LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute")
        self.LOGIN_ADDRESS_RATE_LIMIT = _env("LOGIN_ADDRESS_RATE_LIMIT", "100 per minute")
        # Per-account sign-in throttle (auth/throttle.py): after LOGIN_LOCK_AFTER failures for one username the
        # name is locked for LOGIN_LOCK_MINUTES, doubled at each further lock up to LOGIN_LOCK_MAX_MINUTES;
        # failures and backoff are forgotten after a success or LOGIN_LOCK_MEMORY_HOURS.
        self.LOGIN_LOCK_AFTER = _int("LOGIN_LOCK_AFTER", 5)
        self.LOGIN_LOCK_MINUTES = _int("LOGIN_LOCK_MINUTES", 1)
        self.LOGIN_LOCK_MAX_MINUTES = _int("LOGIN_LOCK_MAX_MINUTES", 30)
        self.LOGIN_LOCK_MEMORY_HOURS = _int("LOGIN_LOCK_MEMORY_HOURS", 24)
        self.RATELIMIT_HEADERS_ENABLED = True
        # Redis out of reach: the per-address limits go on counting in this process's memory instead of failing
        # every sign-in (the per-account lock answers 503 until the storage is back: auth/throttle.py).
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.BABEL_DEFAULT_LOCALE = _env("DEFAULT_LOCALE", "zh_Hans_CN")
        self.BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
        self.LANGUAGES = ["zh_Hans_CN", "en"]
        self.WTF_CSRF_TIME_LIMIT = None
        self.SCHEDULER_ENABLED = _bool("SCHEDULER_ENABLED", False)
        self.DEFAULT_PAGE_SIZE = 20
        # Case time limits in calendar days (人民调解工作若干规定 art. 33: one month from acceptance), per
        # organisation kind with a "default"; the judicial-confirmation window (People's Mediation Law art. 33)
        # and when the follow-up visit falls due, both counted from the conclusion.
        self.CASE_TIME_LIMIT_DAYS = _days_by_kind("CASE_TIME_LIMIT_DAYS", 30)
        self.CASE_CONFIRMATION_WINDOW_DAYS = _int("CASE_CONFIRMATION_WINDOW_DAYS", 30)
        self.CASE_FOLLOW_UP_DAYS = _int("CASE_FOLLOW_UP_DAYS", 30)
        self.CASE_REMINDER_DAYS = _int("CASE_REMINDER_DAYS", 5)
        # Personal data of a case concluded or declined (a legal-aid application closed or refused) this many
        # years ago is erased by the privacy.retention job; the statistics stay.
        self.RETENTION_YEARS = _int("RETENTION_YEARS", 3)
        # Report subscriptions may only point at public https addresses; these host names, IPs and CIDR networks
        # are allowed although private (and over http): a governance centre on a private network, tests.
        self.WEBHOOK_ALLOWED_HOSTS = _allowed_hosts("WEBHOOK_ALLOWED_HOSTS")
        # A PEM bundle of the CAs that sign receivers' certificates, when a governance centre uses its own CA.
        self.WEBHOOK_CA_BUNDLE = _env("WEBHOOK_CA_BUNDLE") or None
        # Federation (federation/, docs/FEDERATION.md): this hub's id among its peers (``hebei``) and the address
        # they reach it at; a message's signature is stale after FEDERATION_TOLERANCE_SECONDS; a peer that has not
        # answered for FEDERATION_UNREACHABLE_MINUTES is reported to the administrators.
        self.HUB_ID = _env("HUB_ID", "hub") or "hub"
        self.PUBLIC_URL = _env("PUBLIC_URL", "http://127.0.0.1:5000") or "http://127.0.0.1:5000"
        self.FEDERATION_TOLERANCE_SECONDS = _int("FEDERATION_TOLERANCE_SECONDS", 300)
        self.FEDERATION_TIMEOUT_SECONDS = _int("FEDERATION_TIMEOUT_SECONDS", 10)
        self.FEDERATION_UNREACHABLE_MINUTES = _int("FEDERATION_UNREACHABLE_MINUTES", 60)
        # The waits between attempts at a message (seconds; the last repeats) and how long it is tried before it is
        # set aside as undeliverable (hours). Fault tests shorten both.
        self.FEDERATION_BACKOFF_SECONDS = tuple(
            int(part) for part in (_env("FEDERATION_BACKOFF_SECONDS", "5,60,600,3600,21600") or "").split(",") if part
        )
        self.FEDERATION_GIVE_UP_HOURS = _int("FEDERATION_GIVE_UP_HOURS", 72)
        # Whether a message is sent at once after the commit that wrote it (a thread, or the RQ queue); the
        # scheduler's sweep sends what is left either way.
        self.FEDERATION_SEND_AT_ONCE = _bool("FEDERATION_SEND_AT_ONCE", True)
        # Request and upload sizes (core/limits.py, imports/limits.py; docs/IMPORT.md): a JSON or form body, an
        # import upload, and what an uploaded workbook may hold: rows (Excel's own maximum) and columns of csv and
        # xlsx, the bytes of an xlsx unpacked and its distinct texts (openpyxl keeps them all in memory).
        self.MAX_JSON_KB = _int("MAX_JSON_KB", 1024)
        self.MAX_UPLOAD_MB = _int("MAX_UPLOAD_MB", 20)
        self.IMPORT_MAX_ROWS = _int("IMPORT_MAX_ROWS", 1_048_576)
        self.IMPORT_MAX_COLUMNS = _int("IMPORT_MAX_COLUMNS", 256)
        self.XLSX_MAX_UNCOMPRESSED_MB = _int("XLSX_MAX_UNCOMPRESSED_MB", 500)
        self.XLSX_MAX_SHARED_STRINGS = _int("XLSX_MAX_SHARED_STRINGS", 1_000_000)
        self.MAX_PAGE_SIZE = 100
        # Case list exports (mediation_hub/exports): up to EXPORT_STREAM_ROWS cases the finished file is the answer
        # (built in the request: about 1.3 s for 5,000 rows as csv, 3 s as xlsx); a longer list is written by a
        # background job with a progress page. Its file stays downloadable EXPORT_KEEP_HOURS; a job without
        # progress for EXPORT_STALE_MINUTES is given up. Files go to EXPORT_DIR (default instance/exports; shared
        # storage when several hosts serve the hub).
        self.EXPORT_STREAM_ROWS = _int("EXPORT_STREAM_ROWS", 5000)
        self.EXPORT_KEEP_HOURS = _int("EXPORT_KEEP_HOURS", 24)
        self.EXPORT_STALE_MINUTES = _int("EXPORT_STALE_MINUTES", 15)
        self.EXPORT_DIR = _env("EXPORT_DIR") or None
        # Background work (core/background.py): with QUEUE_URL (redis://host:6379/0) imports and large exports are
        # queued in Redis and run by `mediation-hub worker` processes (RQ); unset, they run in a thread of the web
        # process that took the request (`make run` needs nothing else). QUEUE_PREFIX goes before the queue names
        # (two hubs sharing one Redis); a job running longer than QUEUE_JOB_TIMEOUT_MINUTES is stopped.
        self.QUEUE_URL = _env("QUEUE_URL") or None
        self.QUEUE_PREFIX = _env("QUEUE_PREFIX", "") or ""
        self.QUEUE_JOB_TIMEOUT_MINUTES = _int("QUEUE_JOB_TIMEOUT_MINUTES", 360)
        # The documents (mediation_hub/documents): the folders, colon-separated, the typesetter takes its fonts from
        # (nothing else on the system is used, so the same content prints the same bytes on every host)
        self.DOCUMENT_FONT_PATHS = _env(
            "DOCUMENT_FONT_PATHS", "/usr/share/fonts/opentype/noto:/usr/share/fonts/truetype/wqy"
        )
        # flask-smorest / OpenAPI, served from the hub's own static files.
        self.API_TITLE = "Mediation Hub API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api/v1"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "docs"
        self.OPENAPI_SWAGGER_UI_URL = "/static/vendor/swagger-ui/"
        self.API_SPEC_OPTIONS = {
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearerAuth": []}],
            "info": {"description": "调解协同中枢 — see DESIGN.md for the domain rules."},
        }
        self.TESTING = False

    def validate(self) -> None:
        """Refuse to start with settings that cannot work."""
        uri = self.SQLALCHEMY_DATABASE_URI
        if not (uri.startswith("sqlite") or uri.startswith("postgresql")):
            raise ConfigError(f"{PREFIX}DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL")
        if timedelta(0) >= self.TOKEN_TTL:
            raise ConfigError(f"{PREFIX}TOKEN_TTL_HOURS must be positive")
        if self.WEBHOOK_CA_BUNDLE and not Path(self.WEBHOOK_CA_BUNDLE).is_file():
            raise ConfigError(f"{PREFIX}WEBHOOK_CA_BUNDLE: no file at {self.WEBHOOK_CA_BUNDLE}")
        if not 1 <= self.RETENTION_YEARS <= 100:
            raise ConfigError(f"{PREFIX}RETENTION_YEARS must be between 1 and 100 years")
        if min(self.MAX_JSON_KB, self.MAX_UPLOAD_MB, self.XLSX_MAX_UNCOMPRESSED_MB) < 1:
            raise ConfigError(f"{PREFIX}MAX_JSON_KB, MAX_UPLOAD_MB and XLSX_MAX_UNCOMPRESSED_MB must be at least 1")
        if self.IMPORT_MAX_ROWS < 2 or self.XLSX_MAX_SHARED_STRINGS < 1000:
            raise ConfigError(f"{PREFIX}IMPORT_MAX_ROWS must be at least 2, XLSX_MAX_SHARED_STRINGS at least 1000")
        if not 26 <= self.IMPORT_MAX_COLUMNS <= 16384:  # the import layout's 26 columns .. Excel's last column
            raise ConfigError(f"{PREFIX}IMPORT_MAX_COLUMNS must be between 26 and 16384")
        if self.EXPORT_STREAM_ROWS < 0 or min(self.EXPORT_KEEP_HOURS, self.EXPORT_STALE_MINUTES) < 1:
            raise ConfigError(
                f"{PREFIX}EXPORT_STREAM_ROWS must be 0 or more, EXPORT_KEEP_HOURS and EXPORT_STALE_MINUTES at least 1"
            )
        if self.QUEUE_URL and not self.QUEUE_URL.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"{PREFIX}QUEUE_URL must be a redis://, rediss:// or unix:// URL")
        if not re.fullmatch(r"[A-Za-z0-9_-]*", self.QUEUE_PREFIX) or self.QUEUE_JOB_TIMEOUT_MINUTES < 1:
            raise ConfigError(f"{PREFIX}QUEUE_PREFIX may hold letters, digits, - and _; QUEUE_JOB_TIMEOUT_MINUTES >= 1")
        if min(self.LOGIN_LOCK_AFTER, self.LOGIN_LOCK_MINUTES, self.LOGIN_LOCK_MEMORY_HOURS) < 1:
            raise ConfigError(f"{PREFIX}LOGIN_LOCK_AFTER, _MINUTES and _MEMORY_HOURS must be at least 1")
        if self.LOGIN_LOCK_MAX_MINUTES < self.LOGIN_LOCK_MINUTES:
            raise ConfigError(f"{PREFIX}LOGIN_LOCK_MAX_MINUTES must not be below LOGIN_LOCK_MINUTES")
