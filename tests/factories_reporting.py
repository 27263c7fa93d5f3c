"""Factories for the reporting domain (fixtures returning builder callables).

``make_case_history`` writes a Case row in its final state plus the event rows of its life, each event
carrying the organisation that handled the case on that day, exactly as the cases service records them.
Reports only read those rows, so the tests state each case's history in one line and count by hand."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from mediation_hub.cases.models import Case, CaseEvent, CaseStatus, Outcome
from mediation_hub.extensions import db
from mediation_hub.registry.models import Organization

_seq = itertools.count(1)


def _event(case: Case, code: str, on: date, org: Organization, studio_id: int | None, data: dict | None = None):
    db.session.add(CaseEvent(case_id=case.id, code=code, on_date=on, organization_id=org.id,
                             region_code=org.region_code, studio_id=studio_id, actor_name="factory",
                             data=data or {}))


@pytest.fixture
def make_case_history():
    """``make_case_history(org, registered=date, accepted=None, due=None, concluded=None, outcome=None,
    declined=None, moved=[(date, new_org)], category="neighbour", studio=None)``.

    ``moved`` lists transfers accepted by another organisation; events after a move count for it."""

    def build(org: Organization, *, registered: date, accepted: date | None = None, due: date | None = None,
              concluded: date | None = None, outcome: str | None = None, declined: date | None = None,
              moved: list[tuple[date, Organization]] = (), category: str = "neighbour", studio=None):
        n = next(_seq)
        final_org = moved[-1][1] if moved else org
        status = (CaseStatus.concluded if concluded else CaseStatus.declined if declined
                  else CaseStatus.accepted if accepted else CaseStatus.registered)
        if accepted and due is None:
            due = accepted + timedelta(days=30)
        last = max(d for d in (registered, accepted, concluded, declined) if d)
        case = Case(number=f"RP-{n:06d}", organization_id=final_org.id, category_code=category,
                    source_code="party_application", summary=f"统计测试纠纷{n}", received_on=registered,
                    occurred_region_code=org.region_code, status=status, accepted_on=accepted, due_on=due,
                    declined_on=declined, concluded_on=concluded, outcome=Outcome(outcome) if outcome else None,
                    last_step_on=last, studio_id=studio.id if studio else None)
        db.session.add(case)
        db.session.flush()
        studio_id = studio.id if studio else None

        def handler_on(day: date) -> Organization:
            current = org
            for moved_on, new_org in moved:
                if moved_on <= day:
                    current = new_org
            return current

        steps = [("registered", registered, None), ("accepted", accepted, None), ("declined", declined, None),
                 ("concluded", concluded, {"outcome": outcome})]
        steps += [("transfer_accepted", moved_on, {"to_organization_id": new.id}) for moved_on, new in moved]
        for code, on, data in sorted((s for s in steps if s[1]), key=lambda s: (s[1], s[0] != "registered")):
            _event(case, code, on, handler_on(on), studio_id, data)
        db.session.flush()
        return case

    return build


@pytest.fixture
def utc():
    """``utc(2026, 3, 1, 8)``: an aware UTC datetime."""
    return lambda *parts: datetime(*parts, tzinfo=UTC)
