"""Document numbers under concurrency on PostgreSQL: people printing the first papers of different cases at once
get consecutive numbers, never one twice; people printing the same case's first paper at once get one number,
one document, one version and one kept file, and no number is spent for nothing. Real commits, one session per
thread."""

import pytest
import sqlalchemy as sa

from mediation_hub.cases.models import CaseStatus
from mediation_hub.core.actor import SYSTEM
from mediation_hub.documents import service
from mediation_hub.documents.models import (
    Document,
    DocumentFile,
    DocumentNumber,
    DocumentNumberCounter,
    DocumentVersion,
)
from mediation_hub.extensions import db
from tests.test_cases_concurrency import _run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.real_commits]


def test_first_papers_of_many_cases_at_once_get_consecutive_numbers(app, make_org, make_case):
    org = make_org(document_code="并发")
    case_ids = [make_case(org, CaseStatus.accepted).id for _ in range(6)]
    db.session.commit()

    def issue(i, barrier):
        barrier.wait()
        issued = service.issue(SYSTEM, service.CASE, case_ids[i], "registration")
        db.session.commit()
        return issued.number

    numbers = _run_in_threads(app, issue, count=6)
    assert sorted(numbers, key=lambda n: int(n.split("第 ")[1].split(" ")[0])) == [
        f"（2026）并发调字第 {n} 号" for n in range(1, 7)
    ], numbers
    counter = db.session.get(DocumentNumberCounter, (org.id, 2026, "调"))
    assert counter.last_number == 6


def test_the_same_case_printed_at_once_gets_one_number_and_one_file(app, make_org, make_case):
    org = make_org(document_code="同案")
    case_id = make_case(org, CaseStatus.concluded).id
    db.session.commit()

    def issue(i, barrier):
        barrier.wait()
        issued = service.issue(SYSTEM, service.CASE, case_id, "agreement")
        db.session.commit()
        return issued.number, issued.sha256

    results = _run_in_threads(app, issue, count=4)
    assert all(isinstance(r, tuple) for r in results), results
    assert {number for number, _ in results} == {"（2026）同案调字第 1 号"}
    assert len({sha for _, sha in results}) == 1  # the very same bytes for everyone
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(DocumentNumber).where(DocumentNumber.owner_id == case_id)
        )
        == 1
    )
    document = db.session.scalars(sa.select(Document).where(Document.owner_id == case_id)).one()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(DocumentVersion).where(DocumentVersion.document_id == document.id)
        )
        == 1
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(DocumentFile)
            .join(DocumentVersion)
            .where(DocumentVersion.document_id == document.id)
        )
        == 1
    )
    assert db.session.get(DocumentNumberCounter, (org.id, 2026, "调")).last_number == 1
