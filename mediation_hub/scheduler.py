"""The one list of periodic jobs, and how they are scheduled with APScheduler.

Each job is a plain ``(now) -> count`` function in a domain's ``tasks.py``, named by its dotted path.
Settings can move or switch off any job:

- ``MEDIATION_HUB_JOBS_DISABLED=transfers.expire,cases.reminders`` switches jobs off;
- ``MEDIATION_HUB_JOB_<ID>_MINUTES=30`` runs a job every 30 minutes, ``MEDIATION_HUB_JOB_<ID>_CRON="0 9 * * 1-5"``
  on a crontab schedule (Asia/Shanghai), where ``<ID>`` is the job id in capitals with ``.`` as ``_``
  (``TRANSFERS_EXPIRE``); ``MEDIATION_HUB_JOB_<ID>_SECONDS=5`` gives sub-minute slots (fault tests, benches);
- the app setting ``SCHEDULER_JOBS = {"transfers.expire": {"enabled": False} | {"minutes": 30} | {"cron": "…"}}``
  does the same and wins over the environment.

Every run is claimed in the database (core.jobs), so any number of processes may schedule the jobs."""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from .config import PREFIX, ConfigError
from .core.jobs import RunStatus, run_job
from .core.shanghai import SHANGHAI

log = logging.getLogger("mediation_hub.scheduler")
# Interval slots are counted from this instant, so every process computes the same slots.
INTERVAL_ANCHOR = datetime(2000, 1, 1, tzinfo=SHANGHAI)
EXTENSION_KEY = "mediation_hub_scheduler"


@dataclass(frozen=True)
class Job:
    """A periodic job: ``func`` is "package.module:function"; ``trigger`` is "interval" (params such as
    ``{"minutes": 15}``) or "cron" (CronTrigger fields such as ``{"hour": 8, "minute": 0}``, or
    ``{"crontab": "0 8 * * *"}``), in Asia/Shanghai."""

    id: str
    func: str
    trigger: str
    params: dict = field(default_factory=dict)
    enabled: bool = True
    description: str = ""

    def build_trigger(self) -> BaseTrigger:
        if self.trigger == "interval":
            return IntervalTrigger(**self.params, start_date=INTERVAL_ANCHOR, timezone=SHANGHAI)
        if self.trigger == "cron":
            params = dict(self.params)
            if "crontab" in params:
                return crontab_trigger(params.pop("crontab"))
            return CronTrigger(**params, timezone=SHANGHAI)
        raise ConfigError(f"job {self.id}: unknown trigger {self.trigger!r} (interval or cron)")

    def slot(self, now: datetime) -> str:
        """The scheduled fire time this run belongs to (the latest one at or before ``now``), UTC text."""
        fired = previous_fire_time(self.build_trigger(), now)
        return fired.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def load(self) -> Callable | None:
        """The task function, or None (with a warning) when its module or function does not exist yet."""
        module_name, _, attr = self.func.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            log.warning("job %s skipped: %s cannot be loaded (%s)", self.id, self.func, exc)
            return None


def crontab_trigger(expression: str) -> CronTrigger:
    """A CronTrigger from a standard crontab line (minute hour day month weekday, Sunday = 0 or 7).

    APScheduler 3 counts weekdays from Monday = 0, so numeric weekdays are translated first."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab line has 5 fields, got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=",".join(_weekday_part(p) for p in weekday.split(",")),
        timezone=SHANGHAI,
    )


def _weekday_part(part: str) -> str:
    match = re.fullmatch(r"(\d)(?:-(\d))?(/\d+)?", part)
    if match is None:
        return part  # "*", "*/2", names such as "mon-fri" mean the same to both
    first, last, step = int(match[1]), match[2], match[3] or ""
    if not 0 <= first <= 7 or (last is not None and not first <= int(last) <= 7):
        raise ValueError(f"weekday {part!r} out of range 0-7")
    if last is None:
        return str((first - 1) % 7)
    last = int(last)
    if first in (0, 7) or last == 7:  # a range through Sunday: Sunday alone plus Monday..Saturday part
        if step:
            raise ValueError(f"weekday range with a step through Sunday is not supported: {part!r}")
        days = {(d - 1) % 7 for d in range(first, last + 1)}
        return ",".join(str(d) for d in sorted(days))
    return f"{first - 1}-{last - 1}{step}"


JOBS: list[Job] = [
    Job(
        "transfers.expire",
        "mediation_hub.transfers.tasks:expire_overdue_transfers",
        "interval",
        {"minutes": 15},
        description="到期未答复的转办：置为过期并上报两地协调人员",
    ),
    Job(
        "legal_aid.overdue",
        "mediation_hub.legal_aid.tasks:flag_overdue_legal_aid",
        "interval",
        {"hours": 1},
        description="法律援助 7 日审查 / 3 日指派期限逾期标记",
    ),
    Job(
        "cases.reminders",
        "mediation_hub.cases.tasks:send_case_reminders",
        "cron",
        {"hour": 8, "minute": 0},
        description="每日 08:00 案件期限提醒",
    ),
    Job(
        "reporting.deliver",
        "mediation_hub.reporting.tasks:deliver_due_reports",
        "interval",
        {"minutes": 5},
        description="向综治中心推送到期的统计报表",
    ),
    Job(
        "reporting.snapshots",
        "mediation_hub.reporting.tasks:freeze_due_snapshots",
        "interval",
        {"hours": 1},
        description="冻结到期的统计快照",
    ),
    Job(
        "scheduler.prune",
        "mediation_hub.core.jobs:prune_job_runs",
        "cron",
        {"hour": 3, "minute": 30},
        description="清理 30 天前的定时任务运行记录",
    ),
    Job(
        "privacy.retention",
        "mediation_hub.privacy.tasks:erase_expired_personal_data",
        "cron",
        {"hour": 2, "minute": 30},
        description="每日 02:30 删除超过保存期限的当事人个人信息",
    ),
    Job(
        "calendar.watch",
        "mediation_hub.calendars.tasks:watch_calendar",
        "cron",
        {"hour": 6, "minute": 0},
        description="每日 06:00 准备本年和下一年的工作日历（未公布的为暂定），自 10 月 1 日起提醒管理员载入下一年安排",
    ),
    Job(
        "imports.abandoned",
        "mediation_hub.imports.tasks:fail_abandoned_imports",
        "interval",
        {"minutes": 10},
        description="进程中断的案件导入标记为失败（可重新上传，已导入的行会跳过）",
    ),
    Job(
        "exports.cleanup",
        "mediation_hub.exports.tasks:clean_up_exports",
        "interval",
        {"minutes": 10},
        description="删除过期的导出文件；进程中断的导出标记为失败",
    ),
    Job(
        "federation.deliver",
        "mediation_hub.federation.tasks:deliver_outbox",
        "interval",
        {"minutes": 1},
        description="向对端平台发送到期的联邦消息（提交后即发，此处补发与重试）",
    ),
    Job(
        "federation.directory",
        "mediation_hub.federation.tasks:share_directory",
        "interval",
        {"hours": 1},
        description="向对端平台发送有变化的组织目录",
    ),
    Job(
        "federation.unreachable",
        "mediation_hub.federation.tasks:report_unreachable_peers",
        "interval",
        {"minutes": 5},
        description="对端平台超过一小时无法连接时通知管理员",
    ),
    Job(
        "auth.sessions",
        "mediation_hub.auth.tasks:prune_sessions",
        "cron",
        {"hour": 3, "minute": 40},
        description="清理一天前已过期或已退出的登录会话",
    ),
]


# --- slots ------------------------------------------------------------------------------------------------

_LOOKBACKS = (timedelta(hours=2), timedelta(days=2), timedelta(days=32), timedelta(days=367), timedelta(days=3000))


def previous_fire_time(trigger: BaseTrigger, now: datetime) -> datetime:
    """The latest fire time of ``trigger`` at or before ``now``."""
    now = now.astimezone(SHANGHAI)
    if isinstance(trigger, IntervalTrigger):
        upcoming = trigger.get_next_fire_time(None, now)
        return upcoming if upcoming <= now else upcoming - trigger.interval
    for lookback in _LOOKBACKS:  # the smallest window holding a fire time keeps the walk short
        fired = trigger.get_next_fire_time(None, now - lookback)
        if fired is None or fired > now:
            continue
        while True:
            following = trigger.get_next_fire_time(fired, fired + timedelta(seconds=1))
            if following is None or following > now:
                return fired
            fired = following
    raise ConfigError(f"trigger {trigger} never fired before {now:%Y-%m-%d %H:%M}")


# --- settings ---------------------------------------------------------------------------------------------


def env_name(job_id: str) -> str:
    """``transfers.expire`` -> ``TRANSFERS_EXPIRE`` (the <ID> in MEDIATION_HUB_JOB_<ID>_CRON)."""
    return re.sub(r"[^A-Z0-9]+", "_", job_id.upper()).strip("_")


def _override(job: Job, setting: dict, source: str) -> Job:
    unknown = set(setting) - {"enabled", "minutes", "seconds", "cron"}
    if unknown or len({"minutes", "seconds", "cron"} & set(setting)) > 1:
        raise ConfigError(f"{source}: use one of minutes / seconds / cron, and enabled (got {sorted(setting)})")
    if "enabled" in setting:
        job = replace(job, enabled=bool(setting["enabled"]))
    if "minutes" in setting:
        try:
            minutes = int(setting["minutes"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: minutes must be a whole number") from exc
        if minutes < 1:
            raise ConfigError(f"{source}: minutes must be at least 1")
        job = replace(job, trigger="interval", params={"minutes": minutes})
    if "seconds" in setting:
        try:
            seconds = int(setting["seconds"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: seconds must be a whole number") from exc
        if seconds < 1:
            raise ConfigError(f"{source}: seconds must be at least 1")
        job = replace(job, trigger="interval", params={"seconds": seconds})
    if "cron" in setting:
        job = replace(job, trigger="cron", params={"crontab": str(setting["cron"]).strip()})
        try:
            job.build_trigger()
        except ValueError as exc:
            raise ConfigError(f"{source}: not a crontab expression ({exc})") from exc
    return job


def _env_settings(job_id: str, environ) -> dict:
    disabled = {j.strip() for j in environ.get(PREFIX + "JOBS_DISABLED", "").split(",") if j.strip()}
    setting: dict = {"enabled": False} if job_id in disabled else {}
    name = env_name(job_id)
    for key in ("MINUTES", "SECONDS", "CRON"):
        value = environ.get(f"{PREFIX}JOB_{name}_{key}")
        if value:
            setting[key.lower()] = value
    return setting


def effective_jobs(app: Flask, jobs: Iterable[Job] | None = None, environ=None) -> list[Job]:
    """The job list with the environment's and the app's overrides applied (disabled jobs included)."""
    environ = os.environ if environ is None else environ
    overrides = app.config.get("SCHEDULER_JOBS") or {}
    jobs = list(JOBS if jobs is None else jobs)
    unknown = set(overrides) - {j.id for j in jobs}
    if unknown:
        raise ConfigError(f"SCHEDULER_JOBS names unknown jobs: {', '.join(sorted(unknown))}")
    disabled = {j.strip() for j in environ.get(PREFIX + "JOBS_DISABLED", "").split(",") if j.strip()}
    if disabled - {j.id for j in jobs}:
        log.warning(
            "%sJOBS_DISABLED names unknown jobs: %s", PREFIX, ", ".join(sorted(disabled - {j.id for j in jobs}))
        )
    result = []
    for job in jobs:
        job = _override(job, _env_settings(job.id, environ), f"{PREFIX}JOB_{env_name(job.id)}_*")
        job = _override(job, dict(overrides.get(job.id, {})), f"SCHEDULER_JOBS[{job.id!r}]")
        result.append(job)
    return result


def enabled_jobs(app: Flask, jobs: Iterable[Job] | None = None) -> list[Job]:
    """The jobs to schedule: enabled, and whose task can be loaded (the others are logged and skipped)."""
    return [job for job in effective_jobs(app, jobs) if job.enabled and job.load() is not None]


# --- running ----------------------------------------------------------------------------------------------


def run_due_jobs(app: Flask, now: datetime | None = None, jobs: Iterable[Job] | None = None) -> dict[str, str]:
    """Run, once, every enabled job for the slot ``now`` falls in (skipping slots claimed elsewhere).
    Returns ``{job_id: "succeeded" | "failed" | "skipped"}``."""
    from .core.db import utcnow

    now = now or utcnow()
    outcome = {}
    for job in enabled_jobs(app, jobs):
        status = run_job(app, job, now)
        outcome[job.id] = status.value if isinstance(status, RunStatus) else "skipped"
    return outcome


def build_scheduler(app: Flask, scheduler: BaseScheduler, jobs: Iterable[Job] | None = None) -> BaseScheduler:
    """Add one APScheduler job per enabled job; each fire calls run_job, which claims the slot."""
    for job in enabled_jobs(app, jobs):
        scheduler.add_job(
            run_job,
            trigger=job.build_trigger(),
            args=(app, job),
            id=job.id,
            name=job.description or job.id,
            replace_existing=True,
        )
    return scheduler


def new_scheduler(cls: type[BaseScheduler] = BackgroundScheduler) -> BaseScheduler:
    # A late run is still worth doing once (coalesced); the claim makes a second process's copy a no-op.
    return cls(timezone=SHANGHAI, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600})


def start_scheduler(app: Flask, jobs: Iterable[Job] | None = None) -> BackgroundScheduler:
    """Start the jobs in a background thread of this process (the embedded default)."""
    scheduler = build_scheduler(app, new_scheduler(), jobs)
    scheduler.start()
    app.extensions[EXTENSION_KEY] = scheduler
    atexit.register(lambda: scheduler.running and scheduler.shutdown(wait=False))
    log.info("scheduler started with jobs: %s", ", ".join(j.id for j in scheduler.get_jobs()) or "none")
    return scheduler


def is_serving_process() -> bool:
    """Whether this process serves requests: a WSGI server's worker, ``flask run`` without the reloader,
    or the reloader's child. Not other CLI commands, nor the reloader's watching parent."""
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        return True
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return True
    if ctx.command.name != "run":
        return False
    reload = ctx.params.get("reload")
    if reload is None:
        reload = ctx.params.get("debug") or app_debug_flag()
    return not reload


def app_debug_flag() -> bool:
    from flask.helpers import get_debug_flag

    return get_debug_flag()


def init_app(app: Flask) -> None:
    """Start the embedded scheduler when MEDIATION_HUB_SCHEDULER_ENABLED is set, never under tests and
    only in the process that serves requests."""
    if not app.config.get("SCHEDULER_ENABLED") or app.config.get("TESTING") or not is_serving_process():
        return
    effective_jobs(app)  # malformed overrides stop the start-up, like any other bad setting
    start_scheduler(app)
