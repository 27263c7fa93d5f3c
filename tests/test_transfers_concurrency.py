"""Exactly one answer wins, however many arrive at once (PostgreSQL, real commits, threads)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from mediation_hub.cases.models import Case, CaseEvent
from mediation_hub.errors import StateConflict
from mediation_hub.extensions import db
from mediation_hub.transfers import service
from mediation_hub.transfers.models import Transfer, TransferStatus

THREADS = 20
ROUNDS = 3


def _answer_all_at_once(app, actions) -> list[str]:
    """Run each ``action(actor)`` in its own thread and app context, released together by a barrier."""
    barrier = threading.Barrier(len(actions))
    results: list[str] = []
    lock = threading.Lock()

    def run(action):
        with app.app_context():
            barrier.wait()
            try:
                action()
                db.session.commit()
                outcome = "won"
            except StateConflict:
                db.session.rollback()
                outcome = "conflict"
            except Exception as exc:  # anything else is a failure of the rule, reported below
                db.session.rollback()
                outcome = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _setup(make_org, make_user, make_routed_case, request_transfer_as, n: int):
    hebei = make_org(name=f"竞秀区并发测试调解委员会{n}", region_code="130602")
    beijing = make_org(name=f"朝阳区并发测试调解委员会{n}", region_code="110105")
    sender, receiver = make_user(organization=hebei), make_user(organization=beijing)
    case = make_routed_case(hebei)
    transfer = request_transfer_as(sender, case, beijing)
    db.session.commit()
    return case.id, transfer.id, sender.to_actor(), receiver.to_actor(), beijing.id


@pytest.mark.postgres
@pytest.mark.real_commits
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_twenty_concurrent_accepts_exactly_one_wins(
    app, make_org, make_user, make_routed_case, request_transfer_as, round_
):
    case_id, transfer_id, _, receiver, beijing_id = _setup(
        make_org, make_user, make_routed_case, request_transfer_as, round_
    )
    results = _answer_all_at_once(app, [lambda: service.accept_transfer(receiver, transfer_id)] * THREADS)

    assert sorted(results) == ["conflict"] * (THREADS - 1) + ["won"], results
    db.session.remove()
    assert db.session.get(Transfer, transfer_id).status == TransferStatus.accepted
    assert db.session.get(Case, case_id).organization_id == beijing_id
    codes = db.session.scalars(sa.select(CaseEvent.code).where(CaseEvent.case_id == case_id)).all()
    assert sorted(codes) == ["handling_organization_changed", "transfer_accepted", "transfer_requested"]


@pytest.mark.postgres
@pytest.mark.real_commits
def test_accepts_declines_and_a_withdrawal_at_once_one_answer_wins(
    app, make_org, make_user, make_routed_case, request_transfer_as
):
    case_id, transfer_id, sender, receiver, _ = _setup(make_org, make_user, make_routed_case, request_transfer_as, 99)
    actions = (
        [lambda: service.accept_transfer(receiver, transfer_id)] * 9
        + [lambda: service.decline_transfer(receiver, transfer_id, reason_code="capacity")] * 9
        + [lambda: service.withdraw_transfer(sender, transfer_id)] * 2
    )
    results = _answer_all_at_once(app, actions)

    assert sorted(results) == ["conflict"] * (len(actions) - 1) + ["won"], results
    db.session.remove()
    answers = db.session.scalars(
        sa.select(CaseEvent.code)
        .where(CaseEvent.case_id == case_id, CaseEvent.code != "transfer_requested")
        .order_by(CaseEvent.id)  # in the order written: a heap has none of its own
    ).all()
    assert answers[0] in {"transfer_accepted", "transfer_declined", "transfer_withdrawn"}
    assert len([c for c in answers if c != "handling_organization_changed"]) == 1
