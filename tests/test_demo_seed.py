"""`seed demo` builds a believable, rule-abiding history through the real services, once."""

import pytest
import sqlalchemy as sa

from mediation_hub.cases.models import Case, CaseEvent, CaseStatus
from mediation_hub.extensions import db
from mediation_hub.seed import seed_demo
from mediation_hub.transfers.models import Transfer

# Slow (a year of demo history through the services): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow


def test_demo_history_is_built_once_through_the_services():
    first = seed_demo()
    assert first["cases"] == 144  # demo.DEMO_CASELOADS: 28+14+16+12+16+22+8+14+10, and 4 DEMO_DEADLINES
    assert first["transfers"] == 1 and first["legal_aid_applications"] == 1
    statuses = dict(db.session.execute(sa.select(Case.status, sa.func.count()).group_by(Case.status)).all())
    assert (
        statuses[CaseStatus.concluded] > 80
        and statuses.get(CaseStatus.accepted, 0) + statuses.get(CaseStatus.in_mediation, 0) > 0
    )
    # every case went through register_case: one 'registered' event each
    registered = db.session.scalar(
        sa.select(sa.func.count()).select_from(CaseEvent).where(CaseEvent.code == "registered")
    )
    assert registered == 144
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 1
    again = seed_demo()
    assert again["cases"] == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 144
