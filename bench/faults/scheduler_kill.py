"""Fault: the scheduler process is killed after a governance centre received a report but before the hub recorded
the delivery. The report must be sent again, with the same ``webhook-id``, so the receiver can drop the copy.

    python -m bench.faults.scheduler_kill                       # a SQLite file in a temporary directory
    python -m bench.faults.scheduler_kill --database-url postgresql+psycopg://…/empty_db

What happens, with real processes and real HTTP on 127.0.0.1:

1. A subscription of a governance centre has a frozen snapshot whose delivery is due.
2. ``mediation-hub scheduler --once`` (only ``reporting.deliver``, in 2-second slots, with a short delivery claim)
   claims the delivery, commits the claim and POSTs the signed report to a local receiver, which stores it by
   its ``webhook-id`` and then holds its answer back.
3. While the receiver holds the answer, the scheduler is killed (SIGKILL): nothing recorded the attempt; the
   delivery is still pending with its claim, and the job's run for that slot stays "running".
4. While the claim lasts, a delivery pass sends nothing (the claim is what keeps two workers from sending at once).
5. Once the claim has expired and a new slot has begun, the scheduler runs again: it sends the same report with
   the same ``webhook-id``; the receiver answers 200 and counts a duplicate; the delivery is recorded delivered.

The script prints what it saw and exits 1 when any of it differs."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

from bench.load.support import BIN, ROOT, bench_app, bench_keys, cover_calendar_ahead, hub_environment

SLOT_SECONDS = 2
CLAIM_SECONDS = 5
JOB_ID = "reporting.deliver"
RECEIVER_HOSTS = "127.0.0.1"  # the receiver is local: the report delivery guard must allow it (WEBHOOK_ALLOWED_HOSTS)


class Receiver(ThreadingHTTPServer):
    """A governance centre's endpoint: verifies the signature, stores each report once by its ``webhook-id``
    and counts the copies; holds its first answer back until ``release`` is set."""

    daemon_threads = True

    def __init__(self, secret: str | None = None):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.secret = secret
        self.posts: list[dict] = []
        self.stored: dict[str, bytes] = {}
        self.duplicates = 0
        self.got_first = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/reports"


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self):
        from integrations.governance_reports import verify

        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        message_id = headers.get("webhook-id", "")
        with self.server.lock:
            first = not self.server.posts
            self.server.posts.append(
                {
                    "webhook_id": message_id,
                    "signature_valid": verify(self.server.secret, headers, body),
                    "bytes": len(body),
                }
            )
            if message_id in self.server.stored:
                self.server.duplicates += 1  # already have it: acknowledge, do not store twice
            else:
                self.server.stored[message_id] = body
        if first:
            self.server.got_first.set()
            self.server.release.wait(timeout=120)  # the sender is killed meanwhile
        try:
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
        except OSError:
            pass  # the sender is gone

    def log_message(self, *args):
        pass


def seed(app, receiver_url: str) -> tuple[str, int]:
    """A governance centre subscribed to 朝阳区's monthly report, with last month's snapshot frozen and its
    delivery due now. Returns the signing secret and the delivery id."""
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.core.db import utcnow
    from mediation_hub.core.shanghai import today_shanghai
    from mediation_hub.extensions import db
    from mediation_hub.registry.models import Organization, OrgKind
    from mediation_hub.reporting import subscriptions
    from mediation_hub.reporting.models import Frequency, ReportDelivery
    from mediation_hub.seed import seed_reference

    with app.app_context():
        db.create_all()
        seed_reference()
        cover_calendar_ahead()
        centre = Organization(
            name="朝阳区综治中心(故障测试)", kind=OrgKind.governance_centre, region_code="110105", specialties=[]
        )
        db.session.add(centre)
        db.session.flush()
        sub, secret = subscriptions.create_subscription(
            SYSTEM,
            {
                "organization_id": centre.id,
                "region_code": "110105",
                "endpoint_url": receiver_url,
                "frequency": Frequency.monthly.value,
            },
        )
        start, end = subscriptions.last_ended_period(Frequency.monthly, today_shanghai())
        snapshot = subscriptions.freeze_snapshot(sub, start, end, utcnow())
        delivery_id = db.session.scalar(sa.select(ReportDelivery.id).where(ReportDelivery.snapshot_id == snapshot.id))
        db.session.commit()
        db.session.remove()
    return secret, delivery_id


def delivery_state(app, delivery_id: int) -> dict:
    from mediation_hub.core.jobs import JobRun
    from mediation_hub.extensions import db
    from mediation_hub.reporting.models import DeliveryAttempt, ReportDelivery

    with app.app_context():
        delivery = db.session.get(ReportDelivery, delivery_id)
        attempts = db.session.scalars(
            sa.select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
        ).all()
        runs = db.session.scalars(sa.select(JobRun).where(JobRun.job_id == JOB_ID).order_by(JobRun.id)).all()
        state = {
            "status": delivery.status.value,
            "attempts": delivery.attempts,
            "claimed_until": delivery.claimed_until,
            "delivered_at": delivery.delivered_at,
            "attempt_log": [{"succeeded": a.succeeded, "status_code": a.status_code} for a in attempts],
            "runs": [{"slot": r.slot, "status": r.status.value} for r in runs],
        }
        db.session.remove()
    return state


def scheduler_once(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "mediation-hub"), "scheduler", "--once"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def pass_within_claim(app, state: dict) -> int | None:
    """A delivery pass while the claim lasts: the number of attempts it made (None when the claim has already run
    out on a slow machine, so the check would prove nothing)."""
    from mediation_hub.core.db import utcnow
    from mediation_hub.extensions import db
    from mediation_hub.reporting import subscriptions

    now = utcnow()
    if state["claimed_until"] is None or now >= state["claimed_until"] - timedelta(milliseconds=200):
        return None
    with app.app_context():
        made = subscriptions.deliver_due(now)
        db.session.remove()
    return made


def run(database_url: str | None = None, workdir: Path | None = None, *, startup_timeout: float = 120.0) -> dict:
    from mediation_hub.core.db import utcnow
    from mediation_hub.scheduler import JOBS

    workdir = workdir or Path(tempfile.mkdtemp(prefix="mh-fault-sched-"))
    url = database_url or f"sqlite:///{workdir / 'scheduler_kill.db'}"
    keys = bench_keys()
    app = bench_app(url, keys)
    app.config["WEBHOOK_ALLOWED_HOSTS"] = RECEIVER_HOSTS
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    first = second = None
    try:
        secret, delivery_id = seed(app, receiver.url)
        receiver.secret = secret
        env = hub_environment(
            url,
            keys,
            **{
                "MEDIATION_HUB_JOBS_DISABLED": ",".join(j.id for j in JOBS if j.id != JOB_ID),
                "MEDIATION_HUB_JOB_REPORTING_DELIVER_SECONDS": str(SLOT_SECONDS),
                "MEDIATION_HUB_REPORT_DELIVERY_CLAIM_SECONDS": str(CLAIM_SECONDS),
                "MEDIATION_HUB_REPORT_DELIVERY_TIMEOUT": "60",
                "MEDIATION_HUB_WEBHOOK_ALLOWED_HOSTS": RECEIVER_HOSTS,
            },
        )
        first = scheduler_once(env)
        if not receiver.got_first.wait(timeout=startup_timeout):
            raise RuntimeError(
                "the first scheduler run never posted the report: "
                + (first.communicate(timeout=5)[0] if first.poll() is not None else "still running")
            )
        first.kill()  # after the receiver has the report, before the scheduler records anything
        first_returncode = first.wait(timeout=30)
        killed_at = time.monotonic()
        receiver.release.set()
        after_kill = delivery_state(app, delivery_id)
        within_claim = pass_within_claim(app, after_kill)
        posts_before_restart = len(receiver.posts)
        # Wait for the claim to run out and for the next slot (the killed run keeps its slot claimed).
        while utcnow() <= after_kill["claimed_until"] or time.monotonic() - killed_at < SLOT_SECONDS:
            time.sleep(0.1)
        second = scheduler_once(env)
        second_output, _ = second.communicate(timeout=startup_timeout)
        recovered_s = time.monotonic() - killed_at
        final = delivery_state(app, delivery_id)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        receiver.release.set()
        receiver.shutdown()
        receiver.server_close()
    ids = [p["webhook_id"] for p in receiver.posts]
    return {
        "delivery_id": delivery_id,
        "first_returncode": first_returncode,
        "after_kill": {k: v for k, v in after_kill.items() if k not in ("claimed_until", "delivered_at")}
        | {"claimed": after_kill["claimed_until"] is not None},
        "attempts_within_claim": within_claim,
        "posts_before_restart": posts_before_restart,
        "second_returncode": second.returncode,
        "second_output": second_output.strip().splitlines()[-5:],
        "final": {k: v for k, v in final.items() if k not in ("claimed_until", "delivered_at")}
        | {"delivered_at_set": final["delivered_at"] is not None},
        "posts": receiver.posts,
        "distinct_ids": sorted(set(ids)),
        "receiver_stored": len(receiver.stored),
        "receiver_duplicates": receiver.duplicates,
        "recovery_s": round(recovered_s, 1),
        "workdir": str(workdir),
    }


def failures(result: dict) -> list[str]:
    """What differs from the expected story (empty when the fault was survived)."""
    expected = [
        ("the first run was killed by SIGKILL", result["first_returncode"] == -9),
        (
            "after the kill the delivery is pending, claimed, with no attempt recorded",
            (
                result["after_kill"]["status"],
                result["after_kill"]["attempts"],
                result["after_kill"]["claimed"],
                result["after_kill"]["attempt_log"],
            )
            == ("pending", 0, True, []),
        ),
        ("the killed run's slot stays 'running'", [r["status"] for r in result["after_kill"]["runs"]] == ["running"]),
        ("no delivery pass sends while the claim lasts", result["attempts_within_claim"] in (0, None)),
        ("nothing was sent between the kill and the second run", result["posts_before_restart"] == 1),
        ("the second run succeeded", result["second_returncode"] == 0),
        (
            "the receiver got the report twice under one webhook-id, both signed",
            len(result["posts"]) == 2
            and len(result["distinct_ids"]) == 1
            and all(p["signature_valid"] for p in result["posts"]),
        ),
        (
            "the receiver stored it once and dropped one duplicate",
            (result["receiver_stored"], result["receiver_duplicates"]) == (1, 1),
        ),
        (
            "the delivery is recorded delivered after one recorded attempt (HTTP 200)",
            (
                result["final"]["status"],
                result["final"]["attempts"],
                result["final"]["delivered_at_set"],
                result["final"]["attempt_log"],
            )
            == ("delivered", 1, True, [{"succeeded": True, "status_code": 200}]),
        ),
        (
            "the second slot's run succeeded, the killed one stays 'running'",
            [r["status"] for r in result["final"]["runs"]] == ["running", "succeeded"],
        ),
    ]
    return [what for what, held in expected if not held]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database (default: a SQLite file in a temporary dir)")
    args = parser.parse_args(argv)
    result = run(args.database_url)
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    problems = failures(result)
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    if problems:
        print(f"database kept in {result['workdir']}", file=sys.stderr)
        return 1
    shutil.rmtree(result["workdir"], ignore_errors=True)
    print(
        f"survived: the report was sent again under webhook-id {result['distinct_ids'][0]} and recorded "
        f"delivered {result['recovery_s']} s after the kill"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
