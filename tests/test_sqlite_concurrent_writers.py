"""Issue 13, point 0: on the embedded default (SQLite) people saving at once get their real answers, never 503.

The hub runs as ``make run`` runs it (``mediation-hub run``: Flask's threaded server) and under ``gunicorn -w 4``,
on a SQLite file of its own; requests are released together by a barrier. 20 registrations at once: all 201.
10 conclusions of one case at once: one 200 and nine 409 (the case is concluded by then), as on PostgreSQL."""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bench.load.support import FlaskRun, Gunicorn, bench_app, bench_keys, seed_database
from bench.load.traffic import case_payload

pytestmark = pytest.mark.load

ROUNDS = 2  # "every run": the same storm twice against one server


@pytest.fixture(scope="module")
def seeded_sqlite():
    workdir = Path(tempfile.mkdtemp(prefix="mh-sqlite-writers-"))
    url = f"sqlite:///{workdir / 'hub.db'}"
    keys = bench_keys()
    app = bench_app(url, keys)
    seeded = seed_database(app, demo=False)
    with app.app_context():
        from mediation_hub.extensions import db

        db.engine.dispose()
    return url, keys, seeded, workdir, app


def storm(sends) -> list:
    """One thread per ``send(session)``; they wait at a barrier, then all send at the same moment."""
    barrier = threading.Barrier(len(sends))
    answers: list = [None] * len(sends)

    def one(i):
        session = requests.Session()
        barrier.wait(timeout=30)
        try:
            answers[i] = sends[i](session)
        except requests.RequestException as exc:  # no answer at all is a failure of its own kind
            answers[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def post(url: str, body: dict, headers: dict, session: requests.Session) -> requests.Response:
    return session.post(url, json=body, headers=headers, timeout=60)


def statuses(answers) -> Counter:
    return Counter(a.status_code if isinstance(a, requests.Response) else type(a).__name__ for a in answers)


@pytest.mark.parametrize(("server_class", "workers"), [(FlaskRun, 1), (Gunicorn, 4)], ids=["make-run", "gunicorn-w4"])
def test_office_saving_at_once_gets_real_answers(seeded_sqlite, server_class, workers):
    import random

    url, keys, seeded, workdir, app = seeded_sqlite
    mediator = seeded.mediators[0]
    headers = {"Authorization": f"Bearer {mediator.token}"}
    rng = random.Random(13)
    server = server_class(url, keys, workers=workers, log_path=workdir / f"{server_class.__name__}.log")
    with server:
        base = server.base_url
        for _round in range(ROUNDS):
            payloads = [case_payload(mediator, rng, cross_region=False) for _ in range(20)]
            answers = storm([partial(post, f"{base}/api/v1/cases", body, headers) for body in payloads])
            assert statuses(answers) == Counter({201: 20}), [getattr(a, "text", a) for a in answers][:3]
            ids = {a.json()["id"] for a in answers}
            assert len(ids) == 20
            numbers = {a.json()["number"] for a in answers}
            assert len(numbers) == 20  # the yearly numbering did not hand one number out twice

            case_id = sorted(ids)[0]
            accepted = requests.post(f"{base}/api/v1/cases/{case_id}/accept", json={}, headers=headers, timeout=30)
            assert accepted.status_code == 200, accepted.text

            conclusion = {
                "outcome": "agreement",
                "terms": "被申请人于本月底前修复漏水处",
                "agreement_amount_yuan": "3500.00",
            }
            answers = storm([partial(post, f"{base}/api/v1/cases/{case_id}/conclude", conclusion, headers)] * 10)
            assert statuses(answers) == Counter({200: 1, 409: 9}), [getattr(a, "text", a) for a in answers][:3]
            conflict = next(a for a in answers if a.status_code == 409).json()
            assert conflict["code"] == 409

    # The file holds exactly what was acknowledged: 20 cases per round, one concluded per round.
    with app.app_context():
        from mediation_hub.extensions import db

        with db.engine.connect() as conn:
            cases = conn.execute(sa.text("SELECT COUNT(*) FROM cases")).scalar_one()
            concluded = conn.execute(sa.text("SELECT COUNT(*) FROM cases WHERE status = 'concluded'")).scalar_one()
            events = conn.execute(sa.text("SELECT COUNT(*) FROM case_events WHERE code = 'concluded'")).scalar_one()
        db.engine.dispose()
    assert cases % 20 == 0 and cases >= 20 * ROUNDS
    assert concluded == events == cases // 20
    log = server.log_path.read_text(errors="replace")
    assert "database is locked" not in log
