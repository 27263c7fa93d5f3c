"""Federation: sends 10,000 transfers between two hubs: messages per second and p95 from commit to applied, beside
a baseline of the same number of plain signed POSTs to a bare endpoint.

    python -m bench.federation                          # 10,000 transfers 河北 → 北京, each hub on a SQLite file
    python -m bench.federation --database postgresql    # the same, each hub on a PostgreSQL database of its own
    python -m bench.federation --quick                  # 200 transfers
    python -m bench.federation --count 20 --out DIR     # the smoke test's run (tests/test_bench_smoke.py)

Set-up (bench/federation_hubs.py): two hubs, ``hebei`` and ``beijing``, each with its own database, keys and hub id,
joined as peers through the CLI, served by gunicorn (one worker, eight threads, the embedded scheduler at one-second
slots) on 127.0.0.1. Before the servers start, N accepted cases are imported into 河北's committee in-process
through the import service (``imports.service.import_file``, the bulk path: one csv in the documented layout, one
applicant in 保定 and one respondent in 北京 per case, so each may be sent to 北京 under JJJ-MEDIATION).

What is measured: N ``transfer.offered`` messages. This process asks for the N transfers through the transfers
service (``transfers.service.request_transfer`` as 河北's mediator, to 北京's committee as 河北 knows it),
BATCH requests per commit, on 河北's database. Each commit writes the messages to 河北's outbox (the federation
listener, in the same transaction). The app of this process has ``FEDERATION_SEND_AT_ONCE`` off, so it never sends:
the sender is the 河北 server itself, with the hub's own sending code, ``federation.delivery.deliver_due`` →
``send_one`` (claim, signed POST with the hub's client, record), run by its scheduler's ``federation.deliver``
job every second. That job drains batch after batch until nothing is due, so while messages wait it is one
sender sending without pause, as the thread a commit wakes in a worker would be (same function, only the trigger
differs); it picks up a message within a second when the outbox had run empty. 北京's inbox stores and applies
each one (a case copy with the minimum view, the pending transfer, its event) in the request that answers 2xx.

Flow: at most WINDOW messages wait in the outbox; the next batch is committed once WINDOW − BATCH or fewer are
pending, so the sender does not run dry (``sender_idle_batches`` counts the batches that found the outbox empty)
and the latency is that of a bounded queue, not of a 10,000-message backlog (``--window 0`` commits every request
up front: then the latency is the backlog's).

On SQLite the requests and the sender take turns for the write lock: a hub's database has one writer at a time and
a batch of requests holds it while it is built; ``send_one`` takes it for its claim and for recording the outcome,
never across the POST to the peer (it ends its reading transaction before the call). The messages/s then count the
requests' time as well; the sender's own pace is the median gap between two deliveries
(``send_cycle_ms_median``, split into the sender's side and the receiver's). On PostgreSQL they run side by side.

Figures (both hubs on this machine, so their UTC clocks are one clock):

* messages/s: N / (last applied on 北京 − first commit on 河北);
* commit → applied: 北京's ``federation_inbox.applied_at`` (stamped when the message arrives, in the transaction
  that applies it) minus the moment this process's COMMIT of the message's batch returned (the outbox's
  ``created_at`` is stamped when the request is built, up to one batch earlier; its p95 is in the JSON as well);
* commit → 2xx: 河北's ``federation_outbox.delivered_at``, recorded once 北京 answered (after its COMMIT);
* applied once: every message in 北京's inbox, applied, and exactly N transfers there from 河北, one per case;
* beside them (machine facts): the send cycle and its split, the CPU milliseconds per message of each hub's server
  (gunicorn's master and worker, from /proc) and per request of this process, retries, tracebacks in the logs.

Baseline, in the same run once the hubs are stopped (so the two do not share the two cores): the very N message
bodies (the outbox envelopes, serialised as the sender does), POSTed one after another from one thread, as the
sender does, with the same client (``integrations.governance_reports.GovernanceReportClient`` with a
``DestinationGuard`` allowing 127.0.0.1, signed by ``integrations.webhook_signing``) to a bare WSGI endpoint served
by gunicorn (``bare_inbox`` below) that only verifies the signature and answers 200: its messages/s and latency
per POST."""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

AGREEMENT = "JJJ-MEDIATION"
SENDER, RECEIVER = "hebei", "beijing"
SECRET_ENV = "BENCH_FEDERATION_SECRET"  # noqa: S105 - the name of the variable, not a secret
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
COLUMNS = [
    "what",
    "database",
    "messages",
    "seconds",
    "msgs_per_s",
    "p50_ms",
    "p95_ms",
    "max_ms",
    "to_2xx_p95_ms",
    "body_bytes",
    "applied_once",
    "vs_baseline",
]


# --- the baseline's endpoint (served by gunicorn: keep this module's imports light) --------------------------------


def bare_inbox(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Verify the Standard Webhooks signature of a POSTed body against BENCH_FEDERATION_SECRET; 200 or 401. GET
    answers 200 (the server's readiness check)."""
    from integrations.webhook_signing import verify

    if environ["REQUEST_METHOD"] != "POST":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ready"]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    headers = {name: environ.get("HTTP_" + name.upper().replace("-", "_"), "") for name in SIGNATURE_HEADERS}
    if verify(os.environ[SECRET_ENV], headers, body):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status":"ok"}']
    start_response("401 Unauthorized", [("Content-Type", "application/json")])
    return [b'{"error":"bad_signature"}']


# --- helpers -----------------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[federation {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def ms(seconds: list[float]) -> dict[str, float]:
    from bench.common import percentile

    values = [s * 1000 for s in seconds]
    return {"p50_ms": percentile(values, 0.5), "p95_ms": percentile(values, 0.95), "max_ms": max(values)}


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of a process and its children, from /proc (a hub: gunicorn's master and worker)."""
    from bench.common import child_pids

    if pid is None:
        return 0.0
    total = 0.0
    for each in (pid, *child_pids(pid)):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def split(sent: list[Any], taken: dict[str, Any]) -> tuple[float, float, float]:
    """Median milliseconds of one message, from consecutive deliveries of the one sender: the whole cycle (one
    delivery to the next), the sender's part (the previous message recorded, the next one claimed, signed and posted,
    until 北京 stamps its arrival) and the receiver's (from that stamp to the 2xx the sender records). Gaps of a
    second or more (an empty outbox, the sender waiting for the database) are left out: the sender's own pace."""
    order = sorted((as_utc(row.delivered_at), row.id) for row in sent if row.id in taken and row.delivered_at)
    cycle, sender, receiver = [], [], []
    for (before, _), (delivered, message_id) in itertools.pairwise(order):
        arrived = as_utc(taken[message_id].received_at)
        if before <= arrived and (delivered - before).total_seconds() < 1:
            cycle.append((delivered - before).total_seconds() * 1000)
            sender.append((arrived - before).total_seconds() * 1000)
            receiver.append((delivered - arrived).total_seconds() * 1000)
    if not cycle:
        return float("nan"), float("nan"), float("nan")
    return statistics.median(cycle), statistics.median(sender), statistics.median(receiver)


def hub_app(hub, **extra: Any):
    """The hub's app in this process (its database, keys and id), without the scheduler."""
    import logging

    from mediation_hub import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": hub.database_url,
            "HUB_ID": hub.hub_id,
            "PUBLIC_URL": hub.url,
            "SCHEDULER_ENABLED": False,
            **hub.keys,
            **extra,
        }
    )
    logging.getLogger("mediation_hub").setLevel(logging.WARNING)
    return app


def dispose(app) -> None:
    from mediation_hub.extensions import db

    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


# --- the cases: one csv through the import service ------------------------------------------------------------------


def write_cases_csv(path: Path, count: int, today: date) -> None:
    """``count`` accepted cases in the import layout: an applicant in 保定 (130602), a respondent in 北京 (110105)."""
    from bench.generate import ric_number
    from mediation_hub.imports.layout import COLUMNS as LAYOUT

    headers = {column.key: column.header for column in LAYOUT}
    keys = [
        "source_number",
        "received_on",
        "category",
        "source",
        "summary",
        "occurred_region_code",
        "status",
        "accepted_on",
        "applicant_name",
        "applicant_id_number",
        "applicant_phone",
        "applicant_region_code",
        "respondent_name",
        "respondent_id_number",
        "respondent_region_code",
    ]
    received = today - timedelta(days=30)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([headers[k] for k in keys])
        for n in range(count):
            born = date(1960, 1, 1) + timedelta(days=(n * 37) % 15_000)
            writer.writerow(
                [
                    f"FED-{n:08d}",
                    received.isoformat(),
                    "neighbour",
                    "party_application",
                    f"跨省务工人员与房东租赁纠纷 {n}",
                    "130602",
                    "受理",
                    (received + timedelta(days=1)).isoformat(),
                    f"张建国{n % 997}",
                    ric_number("130602", born, n % 1000),
                    f"139{(n * 7919) % 10**8:08d}",
                    "130602",
                    f"李春梅{n % 991}",
                    ric_number("110105", born + timedelta(days=400), (n + 7) % 1000),
                    "110105",
                ]
            )


def import_cases(hub, count: int, workdir: Path) -> tuple[list[int], float]:
    """Import ``count`` accepted cases into the hub's committee (in-process, before its server starts); returns
    their ids and the seconds the import took."""
    import sqlalchemy as sa

    from mediation_hub.cases.models import Case
    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.core.shanghai import today_shanghai
    from mediation_hub.extensions import db
    from mediation_hub.imports.service import import_file

    path = workdir / "cases.csv"
    write_cases_csv(path, count, today_shanghai())
    app = hub_app(hub)
    try:
        with app.app_context():
            summary = import_file(
                path, hub.org_ids["committee"], SYSTEM, source_system="bench", errors_path=workdir / "errors.csv"
            )
            if summary.imported != count:
                raise RuntimeError(f"imported {summary.imported} of {count}: {[str(f) for f in summary.failures[:3]]}")
            ids = list(
                db.session.scalars(sa.select(Case.id).where(Case.source_system == "bench").order_by(Case.source_number))
            )
            db.session.rollback()
    finally:
        dispose(app)
    return ids, summary.seconds


# --- reading the two databases (plain engines: a plain BEGIN on SQLite, never the write lock) ----------------------


class Reader:
    def __init__(self, url: str):
        import sqlalchemy as sa

        self.engine = sa.create_engine(url)

    def scalar(self, statement) -> Any:
        with self.engine.connect() as conn:
            return conn.scalar(statement)

    def rows(self, statement) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(statement))

    def close(self) -> None:
        self.engine.dispose()


def pending_offers(reader: Reader) -> int:
    import sqlalchemy as sa

    from mediation_hub.federation.models import OutboxMessage, OutboxStatus

    return int(
        reader.scalar(
            sa.select(sa.func.count()).where(
                OutboxMessage.type == "transfer.offered", OutboxMessage.status == OutboxStatus.pending
            )
        )
    )


def outbox_summary(reader: Reader) -> dict[str, int]:
    import sqlalchemy as sa

    from mediation_hub.federation.models import OutboxMessage

    rows = reader.rows(
        sa.select(OutboxMessage.status, sa.func.count())
        .where(OutboxMessage.type == "transfer.offered")
        .group_by(OutboxMessage.status)
    )
    return {str(getattr(status, "value", status)): int(n) for status, n in rows}


def applied_offers(reader: Reader) -> int:
    import sqlalchemy as sa

    from mediation_hub.federation.models import InboxMessage, InboxStatus

    return int(
        reader.scalar(
            sa.select(sa.func.count()).where(
                InboxMessage.from_hub == SENDER,
                InboxMessage.type == "transfer.offered",
                InboxMessage.status == InboxStatus.applied,
            )
        )
    )


# --- the federation run --------------------------------------------------------------------------------------------


def request_transfers(
    hub, case_ids: list[int], to_organization_id: int, *, batch: int, window: int, outbox: Reader
) -> tuple[dict[int, datetime], int]:
    """Ask for one transfer per case, ``batch`` per commit, keeping at most ``window`` messages waiting (0: no
    limit); returns each transfer's commit moment (UTC) by transfer id, and how many times the outbox was found
    empty before a batch (the sender idle, waiting for this process)."""
    import sqlalchemy as sa

    from mediation_hub.auth.models import User
    from mediation_hub.core.uow import transaction
    from mediation_hub.extensions import db
    from mediation_hub.transfers.service import request_transfer

    app = hub_app(hub, FEDERATION_SEND_AT_ONCE=False)  # the hub's server sends, not this process
    committed: dict[int, datetime] = {}
    starved = 0
    last_report = time.monotonic()
    try:
        with app.app_context():
            actor = db.session.scalar(sa.select(User).where(User.username == f"{hub.hub_id}_mediator")).to_actor()
            db.session.rollback()
            for start in range(0, len(case_ids), batch):
                waiting = pending_offers(outbox)
                starved += start > 0 and waiting == 0
                while window and waiting > max(0, window - batch):
                    time.sleep(0.05)
                    waiting = pending_offers(outbox)
                ids = []
                with transaction():
                    for case_id in case_ids[start : start + batch]:
                        transfer = request_transfer(
                            actor, case_id, to_organization_id=to_organization_id, agreement_code=AGREEMENT
                        )
                        ids.append(transfer.id)
                moment = datetime.now(UTC)
                committed.update(dict.fromkeys(ids, moment))
                db.session.remove()
                if time.monotonic() - last_report > 10:
                    last_report = time.monotonic()
                    log(f"requested {len(committed)} of {len(case_ids)}; {pending_offers(outbox)} waiting to be sent")
    finally:
        dispose(app)
    return committed, starved


def wait_applied(count: int, outbox: Reader, inbox: Reader, stall_seconds: float = 180.0) -> None:
    """Until ``count`` offers are applied on the receiver; fails with the outbox's state when nothing moves for
    ``stall_seconds`` or a message is set aside."""
    seen, moved = -1, time.monotonic()
    last_report = time.monotonic()
    while True:
        applied = applied_offers(inbox)
        if applied >= count:
            return
        if applied != seen:
            seen, moved = applied, time.monotonic()
        states = outbox_summary(outbox)
        if states.get("refused") or states.get("undeliverable"):
            raise RuntimeError(f"messages set aside by the sender: {states}")
        if time.monotonic() - moved > stall_seconds:
            raise RuntimeError(f"no message applied for {stall_seconds:.0f} s: applied {applied}, outbox {states}")
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            log(f"applied {applied} of {count}; outbox {states}")
        time.sleep(0.2)


def collect(outbox: Reader, inbox: Reader, committed: dict[int, datetime], pii_key: str) -> dict[str, Any]:
    """Latencies and the applied-once checks from the two databases."""
    import sqlalchemy as sa

    from mediation_hub.federation.models import InboxMessage, InboxStatus, OutboxMessage
    from mediation_hub.registry.models import Organization
    from mediation_hub.transfers.models import Transfer

    sent = outbox.rows(
        sa.select(
            OutboxMessage.id,
            OutboxMessage.conversation_id,
            OutboxMessage.created_at,
            OutboxMessage.delivered_at,
            OutboxMessage.attempts,
            OutboxMessage.envelope_enc,
        ).where(OutboxMessage.type == "transfer.offered")
    )
    taken = {
        row.id: row
        for row in inbox.rows(
            sa.select(InboxMessage.id, InboxMessage.status, InboxMessage.received_at, InboxMessage.applied_at).where(
                InboxMessage.from_hub == SENDER, InboxMessage.type == "transfer.offered"
            )
        )
    }
    to_applied, from_created, to_2xx, bodies = [], [], [], []
    first_commit, last_applied = min(committed.values()), None
    for row in sent:
        commit = committed[int(row.conversation_id.rsplit("/", 1)[1])]
        arrived = taken.get(row.id)
        if arrived is None or arrived.applied_at is None:
            continue
        applied = as_utc(arrived.applied_at)
        last_applied = applied if last_applied is None or applied > last_applied else last_applied
        to_applied.append((applied - commit).total_seconds())
        from_created.append((applied - as_utc(row.created_at)).total_seconds())
        to_2xx.append((as_utc(row.delivered_at) - commit).total_seconds())
        # the outbox keeps the envelope encrypted with the sending hub's key (federation.models.EncryptedEnvelope)
        bodies.append(Fernet(pii_key.encode()).decrypt(row.envelope_enc.encode()))
    remote_sender = sa.select(Organization.id).where(Organization.hub_id == SENDER).scalar_subquery()
    transfers_there = inbox.scalar(
        sa.select(sa.func.count(Transfer.id)).where(Transfer.from_organization_id.in_(remote_sender))
    )
    cases_there = inbox.scalar(
        sa.select(sa.func.count(sa.distinct(Transfer.case_id))).where(Transfer.from_organization_id.in_(remote_sender))
    )
    cycle_ms, sender_ms, receiver_ms = split(sent, taken)
    return {
        "cycle_ms": cycle_ms,
        "sender_ms": sender_ms,
        "receiver_ms": receiver_ms,
        "sent": len(sent),
        "applied": sum(1 for r in taken.values() if r.status == InboxStatus.applied),
        "inbox_rows": len(taken),
        "transfers_there": int(transfers_there or 0),
        "cases_there": int(cases_there or 0),
        "retries": sum(max(0, int(row.attempts) - 1) for row in sent),
        "to_applied": to_applied,
        "from_created": from_created,
        "to_2xx": to_2xx,
        "span": (last_applied - first_commit).total_seconds() if last_applied else float("nan"),
        "bodies": bodies,
        "message_ids": [row.id for row in sent],
    }


# --- the baseline ------------------------------------------------------------------------------------------------


def baseline(bodies: list[bytes], message_ids: list[str]) -> dict[str, Any]:
    """The same bodies POSTed one after another, signed, with the hub's client, to ``bare_inbox`` (gunicorn, one
    worker); seconds per POST and in all."""
    from bench.common import ROOT, serve
    from bench.federation_hubs import shared_secret
    from integrations.governance_reports import GovernanceReportClient
    from integrations.outbound import DestinationGuard

    secret = shared_secret()
    env = {**os.environ, SECRET_ENV: secret, "PYTHONPATH": str(ROOT)}
    client = GovernanceReportClient(
        timeout=10.0, guard=DestinationGuard(["127.0.0.1"]), user_agent="mediation-hub/1 (bench)", read_limit=2048
    )
    with serve("bench.federation:bare_inbox", env, workers=1, ready_path="/") as (base, _pid):
        url = base + "/inbox"
        client.send(url, secret, "msg_warmup", bodies[0])
        times = []
        started = time.perf_counter()
        for message_id, body in zip(message_ids, bodies, strict=True):
            begun = time.perf_counter()
            client.send(url, [secret], message_id, body)  # raises unless 2xx
            times.append(time.perf_counter() - begun)
        total = time.perf_counter() - started
    return {"times": times, "seconds": total}


# --- the run -------------------------------------------------------------------------------------------------------


def hub_log(workdir: Path, name: str) -> str:
    path = workdir / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def run(count: int, database: str, batch: int, window: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from bench.federation_hubs import Hub, join, pg_url, sqlite_url, stop_hubs

    workdir = Path(tempfile.mkdtemp(prefix="mh-bench-federation-"))
    hubs: dict[str, Hub] = {}
    for name in (RECEIVER, SENDER):
        url = sqlite_url(workdir, name) if database == "sqlite" else pg_url(f"mh_fed_{name}_{os.getpid()}")
        hubs[name] = Hub(name, url, workdir)
    sender, receiver = hubs[SENDER], hubs[RECEIVER]
    outbox, inbox = Reader(sender.database_url), Reader(receiver.database_url)
    try:
        started = time.perf_counter()
        for hub in hubs.values():
            hub.prepare()
        join(hubs)
        log(f"importing {count} accepted cases into {SENDER}")
        case_ids, import_seconds = import_cases(sender, count, workdir)
        for hub in hubs.values():
            hub.start()
        to_org = sender.remote_org(RECEIVER, "committee", hubs)
        log(f"hubs up ({time.perf_counter() - started:.0f} s); requesting {count} transfers, {batch} per commit")
        pids = {name: hub.process.pid if hub.process else None for name, hub in hubs.items()}
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        own_before = time.process_time()
        requested = time.perf_counter()
        committed, starved = request_transfers(sender, case_ids, to_org, batch=batch, window=window, outbox=outbox)
        request_seconds = time.perf_counter() - requested
        own_cpu = time.process_time() - own_before
        wait_applied(count, outbox, inbox)
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        log(f"all {count} applied on {RECEIVER}")
        result = collect(outbox, inbox, committed, sender.keys["PII_KEY"])
        errors = sum(hub_log(workdir, name).count("Traceback") for name in hubs)
    except BaseException:
        for name in hubs:
            log(f"{name}'s server log (end):\n{hub_log(workdir, name)[-3000:]}")
        raise
    finally:
        outbox.close()
        inbox.close()
        stop_hubs(hubs, database)
        shutil.rmtree(workdir, ignore_errors=True)
    log(f"baseline: {len(result['bodies'])} signed POSTs to a bare endpoint")
    base = baseline(result["bodies"], result["message_ids"])

    rate = count / result["span"]
    base_rate = len(base["times"]) / base["seconds"]
    body_bytes = statistics.fmean(len(b) for b in result["bodies"])
    once = (
        result["sent"] == count
        and result["applied"] == count
        and result["inbox_rows"] == count
        and result["transfers_there"] == count
        and result["cases_there"] == count
    )
    federation_row = {
        "what": f"transfer.offered {SENDER} → {RECEIVER}: commit → applied",
        "database": database,
        "messages": count,
        "seconds": result["span"],
        "msgs_per_s": rate,
        **ms(result["to_applied"]),
        "to_2xx_p95_ms": ms(result["to_2xx"])["p95_ms"],
        "body_bytes": round(body_bytes),
        "applied_once": f"{result['applied']}/{count}" + ("" if once else " FAILED"),
        "vs_baseline": f"{rate / base_rate:.1%}",
        "from_created_p95_ms": ms(result["from_created"])["p95_ms"],
        "applied": result["applied"],
        "transfers_there": result["transfers_there"],
        "cases_there": result["cases_there"],
        "retries": result["retries"],
        "once": once,
    }
    baseline_row = {
        "what": "baseline: signed POST to a bare endpoint, one thread",
        "database": "—",
        "messages": len(base["times"]),
        "seconds": base["seconds"],
        "msgs_per_s": base_rate,
        **ms(base["times"]),
        "to_2xx_p95_ms": None,
        "body_bytes": round(body_bytes),
        "applied_once": None,
        "vs_baseline": "100.0%",
    }
    facts = {
        "database": database,
        "batch": batch,
        "window": window,
        "import_s": round(import_seconds, 1),
        "requests_per_s": round(count / request_seconds, 1),
        "retries": result["retries"],
        "sender_idle_batches": starved,
        "send_cycle_ms_median": round(result["cycle_ms"], 1),
        "sender_side_ms_median": round(result["sender_ms"], 1),
        "receiver_side_ms_median": round(result["receiver_ms"], 1),
        f"cpu_ms_per_message_{SENDER}_server": round(cpu[SENDER] * 1000 / count, 1),
        f"cpu_ms_per_message_{RECEIVER}_server": round(cpu[RECEIVER] * 1000 / count, 1),
        "cpu_ms_per_request_here": round(own_cpu * 1000 / count, 1),
        "server_tracebacks": errors,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    return [federation_row, baseline_row], facts


def main(argv: list[str] | None = None) -> int:
    from bench.common import machine, pg_version, write_results

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="transfers to send (default 10,000)")
    parser.add_argument("--quick", action="store_true", help="200 transfers")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--batch", type=int, default=20, help="transfer requests per commit")
    parser.add_argument("--window", type=int, default=100, help="messages waiting in the outbox at most (0: no limit)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")
    args = parser.parse_args(argv)
    count = 200 if args.quick else args.count
    if count < 1 or args.batch < 1 or args.window < 0:
        parser.error("--count and --batch must be positive, --window 0 or more")
    rows, facts = run(count, args.database, args.batch, args.window)
    if args.database == "postgresql":
        from bench.common import PG_ADMIN_URL

        facts["postgresql"] = pg_version(PG_ADMIN_URL)
    name = f"federation-{count}" + ("-postgresql" if args.database == "postgresql" else "")
    write_results(
        name,
        f"Federation: {count:,} transfers 河北 → 北京 vs signed POSTs to a bare endpoint",
        rows,
        columns=COLUMNS,
        facts={**machine(), **facts},
        out_dir=args.out,
        notes=[
            "two hubs as gunicorn servers (1 worker, 8 threads, scheduler at 1 s slots) on 127.0.0.1, "
            f"a {args.database} database each; cases imported in bulk, transfers requested through the transfers "
            f"service in this process, {args.batch} per commit, at most {args.window or 'all'} waiting in the outbox",
            "sender: the 河北 server's own federation.deliver job (federation.delivery.deliver_due → send_one), "
            "one sender draining the outbox; this process never sends (FEDERATION_SEND_AT_ONCE off)",
            "on SQLite the requests and the sender take turns at the hub's one write lock (send_one takes it for "
            "the claim and for the outcome, never across the POST): messages/s include the requests' turns; "
            "send_cycle_ms_median is the sender's own pace "
            "(median gap between two deliveries = sender_side + receiver_side)",
            "messages/s: N / (last applied_at on 北京 − first batch commit on 河北); commit → applied: 北京's "
            "federation_inbox.applied_at (stamped on arrival) − the batch's COMMIT; to_2xx: 河北's "
            "delivered_at (after 北京 answered) − COMMIT",
            "applied once: inbox rows applied = N and N transfers (N distinct cases) from 河北 on 北京",
            "baseline: the same N bodies POSTed one after another with GovernanceReportClient (signed, "
            "DestinationGuard allowing 127.0.0.1) to a WSGI app on gunicorn (1 sync worker) that verifies the "
            "signature and answers 200; run after the hubs stopped; latency per POST",
        ],
    )
    return 0 if rows[0]["once"] else 1


if __name__ == "__main__":
    sys.exit(main())
