"""Concurrency on PostgreSQL: two people concluding the same case at once, two registrations numbering at
once. Real commits, one session per thread."""

import threading
from datetime import date

import pytest

from mediation_hub.cases import service
from mediation_hub.cases.models import Case, CaseEvent, CaseStatus
from mediation_hub.core.actor import SYSTEM
from mediation_hub.errors import StateConflict
from mediation_hub.extensions import db
from tests.factories_cases import case_data

ROUNDS = 5


def _run_in_threads(app, work, count: int = 2) -> list:
    """Run ``work(i)`` in ``count`` threads that start together; collect what each returns or raises."""
    barrier, results = threading.Barrier(count), [None] * count

    def runner(i):
        with app.app_context():
            try:
                results[i] = work(i, barrier)
            except Exception as exc:
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.real_commits
def test_two_concurrent_conclusions_exactly_one_wins(app, make_case):
    outcomes = ["agreement", "no_agreement"]
    for _ in range(ROUNDS):
        case_id = make_case(status=CaseStatus.in_mediation).id
        db.session.commit()

        def conclude(i, barrier, case_id=case_id):
            service.get_case(SYSTEM, case_id)  # both read the case as it stands before either writes
            barrier.wait()
            case = service.conclude_case(
                SYSTEM,
                case_id,
                outcome=outcomes[i],
                concluded_on=date(2026, 3, 5),
                terms="被申请人赔偿维修费" if outcomes[i] == "agreement" else None,
            )
            db.session.commit()
            return case.outcome.value

        results = _run_in_threads(app, conclude)
        winners = [r for r in results if isinstance(r, str)]
        losers = [r for r in results if isinstance(r, StateConflict)]
        assert len(winners) == 1 and len(losers) == 1, results
        db.session.expire_all()
        case = db.session.get(Case, case_id)
        assert case.outcome.value == winners[0] and case.status == CaseStatus.concluded
        assert db.session.query(CaseEvent).filter_by(case_id=case_id, code="concluded").count() == 1


@pytest.mark.postgres
@pytest.mark.real_commits
def test_concurrent_registrations_get_consecutive_numbers(app, make_org):
    org_id = make_org().id
    db.session.commit()
    for _ in range(3):

        def register(i, barrier):
            barrier.wait()
            case, _ = service.register_case(SYSTEM, case_data(org_id))
            db.session.commit()
            return case.number

        results = _run_in_threads(app, register, count=4)
        assert all(isinstance(r, str) for r in results), results
    numbers = sorted(db.session.scalars(db.select(Case.number).where(Case.organization_id == org_id)))
    assert [n.rsplit("-", 1)[1] for n in numbers] == [f"{i:06d}" for i in range(1, 13)]
