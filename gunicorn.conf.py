"""gunicorn settings of the hub: ``gunicorn -c gunicorn.conf.py -w 4 -b 0.0.0.0:8000 wsgi:app``.

gunicorn also reads this file by itself when started from the repository root. Options on the command line
(-w, -b, --timeout …) and WEB_CONCURRENCY still choose the values; this file adds the start-up check below.
It imports nothing of the hub: the master stays light and the workers load the app."""

import os

STORAGE_SETTING = "MEDIATION_HUB_RATELIMIT_STORAGE_URI"  # the hub's RATELIMIT_STORAGE_URI (config.py)


def per_worker_warning(workers: int, storage_uri: str | None) -> str | None:
    """The warning when several worker processes would each count sign-in attempts in their own memory, or
    None when the limits hold as configured (one process, or a shared storage such as redis://)."""
    uri = storage_uri or "memory://"
    if workers <= 1 or not uri.startswith("memory://"):
        return None
    return (
        f"RATELIMIT_STORAGE_URI is {uri} and {workers} workers run: the sign-in limits (LOGIN_RATE_LIMIT per "
        f"account and address, LOGIN_ADDRESS_RATE_LIMIT per address, LOGIN_LOCK_AFTER per account) are "
        f"counted per worker, so up to {workers} times as many "
        f"attempts get through; set {STORAGE_SETTING}=redis://… to share them"
    )


def when_ready(server):
    """Warn once, in the master, before the workers start."""
    warning = per_worker_warning(server.cfg.workers, os.environ.get(STORAGE_SETTING))
    if warning:
        server.log.warning(warning)
