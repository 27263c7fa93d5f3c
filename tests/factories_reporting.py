"""Factories for the reporting domain (fixtures returning builder callables).

``make_case_history`` writes a Case row in its final state plus the event rows of its life, each event
carrying the organisation that handled the case on that day, exactly as the cases service records them.
Reports only read those rows, so the tests state each case's history in one line and count by hand."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from mediation_hub.cases.events import append_event
from mediation_hub.cases.models import Case, CaseStatus, Outcome
from mediation_hub.extensions import db
from mediation_hub.registry.models import Organization

_seq = itertools.count(1)


def _event(case: Case, code: str, on: date, org: Organization, studio_id: int | None, data: dict | None = None):
    """One event row, written (and announced to the rate aggregates) as the cases service writes it."""
    append_event(
        {
            "case_id": case.id,
            "code": code,
            "on_date": on,
            "organization_id": org.id,
            "region_code": org.region_code,
            "studio_id": studio_id,
            "actor_name": "factory",
            "data": data or {},
        }
    )


@pytest.fixture
def make_case_history():
    """``make_case_history(org, registered=date, accepted=None, due=None, concluded=None, outcome=None,
    declined=None, moved=[(date, new_org)], category="neighbour", studio=None, occurred=None, original_due=None)``.

    ``moved`` lists transfers accepted by another organisation; events after a move count for it (each move is
    the ``transfer_accepted`` row of the sender and the ``handling_organization_changed`` row of the receiver, as
    the transfers service writes them). ``occurred``: where the dispute arose (default the organisation's region);
    ``original_due``: the due date before an extension (``due`` is then the extended one)."""

    def build(
        org: Organization,
        *,
        registered: date,
        accepted: date | None = None,
        due: date | None = None,
        concluded: date | None = None,
        outcome: str | None = None,
        declined: date | None = None,
        moved: list[tuple[date, Organization]] = (),
        category: str = "neighbour",
        studio=None,
        occurred: str | None = None,
        original_due: date | None = None,
    ):
        n = next(_seq)
        final_org = moved[-1][1] if moved else org
        status = (
            CaseStatus.concluded
            if concluded
            else CaseStatus.declined
            if declined
            else CaseStatus.accepted
            if accepted
            else CaseStatus.registered
        )
        if accepted and due is None:
            due = accepted + timedelta(days=30)
        last = max(d for d in (registered, accepted, concluded, declined) if d)
        case = Case(
            number=f"RP-{n:06d}",
            organization_id=final_org.id,
            category_code=category,
            source_code="party_application",
            summary=f"统计测试纠纷{n}",
            received_on=registered,
            occurred_region_code=occurred or org.region_code,
            status=status,
            accepted_on=accepted,
            due_on=due,
            original_due_on=original_due,
            declined_on=declined,
            concluded_on=concluded,
            outcome=Outcome(outcome) if outcome else None,
            last_step_on=last,
            studio_id=studio.id if studio else None,
        )
        db.session.add(case)
        db.session.flush()
        studio_id = studio.id if studio else None

        def handler_on(day: date) -> Organization:
            current = org
            for moved_on, new_org in moved:
                if moved_on <= day:
                    current = new_org
            return current

        steps = [
            ("registered", registered, None),
            ("accepted", accepted, None),
            ("declined", declined, None),
            ("concluded", concluded, {"outcome": outcome}),
        ]
        senders = [org, *(new for _on, new in moved)]
        moves = []
        for (moved_on, new), sender in zip(moved, senders, strict=False):
            moves.append(("transfer_accepted", moved_on, {"to_organization_id": new.id}, sender))
            change = {"from_organization_id": sender.id, "to_organization_id": new.id}
            moves.append(("handling_organization_changed", moved_on, change, new))
        rows = [(code, on, data, handler_on(on)) for code, on, data in steps if on] + moves
        for code, on, data, handler in sorted(rows, key=lambda s: (s[1], s[0] != "registered")):
            # the receiver's row carries no studio: the sender's studio stops handling the case
            _event(case, code, on, handler, None if code == "handling_organization_changed" else studio_id, data)
        db.session.flush()
        return case

    return build


@pytest.fixture
def utc():
    """``utc(2026, 3, 1, 8)``: an aware UTC datetime."""
    return lambda *parts: datetime(*parts, tzinfo=UTC)


MARCH = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}
END_OF_MARCH, END_OF_APRIL = date(2026, 3, 31), date(2026, 4, 30)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


@pytest.fixture
def reporting_cases(make_org, make_studio, make_case_history):
    """Twelve case histories whose counts the reporting tests work out by hand (DESIGN.md "Rates").

    The period is March 2026. Organisations: bd 保定竞秀区 (130602), sjz 石家庄长安区 (130102), the three
    雄安 counties rc 容城 (130629), ax 安新 (130632), xx 雄县 (130638), bj 北京朝阳 (110105); nothing in Tianjin.

     #  org      registered accepted due    concluded        category     notes
     1  bd       03-02      03-03    04-02  03-20 agreement  neighbour    on time, studio
     2  bd       03-05      03-06    03-20  03-25 no_agr.    contract     late, studio
     3  bd       03-10      declined 03-11                   neighbour
     4  bd       02-20      02-21    03-21  03-15 agreement  neighbour    registered before the period
     5  bd→bj    03-03      03-04    04-03  03-28 agreement  neighbour    moved to Beijing on 03-10
     6  bd       03-25      03-26    04-25  04-10 withdrawn  neighbour    concluded after the period
     7  rc       03-04      03-05    04-04  03-18 agreement  forest_land
     8  ax       03-06      03-07    04-06  03-30 referred   forest_land
     9  xx       03-08      03-09    03-20  (open)           neighbour    overdue
    10  sjz      03-12      03-13    03-14  03-16 agreement  labour       late
    11  bj       03-01      03-02    04-01  03-05 agreement  neighbour
    12  bd       04-02      (registered only)                neighbour    after the period
    """
    orgs = {
        key: make_org(region_code=code)
        for key, code in (
            ("bd", "130602"),
            ("sjz", "130102"),
            ("rc", "130629"),
            ("ax", "130632"),
            ("xx", "130638"),
            ("bj", "110105"),
        )
    }
    studio = make_studio(organization=orgs["bd"], name="统计测试工作室")
    h = make_case_history
    bd = orgs["bd"]
    h(bd, registered=d(3, 2), accepted=d(3, 3), due=d(4, 2), concluded=d(3, 20), outcome="agreement", studio=studio)
    h(
        bd,
        registered=d(3, 5),
        accepted=d(3, 6),
        due=d(3, 20),
        concluded=d(3, 25),
        outcome="no_agreement",
        category="contract",
        studio=studio,
    )
    h(bd, registered=d(3, 10), declined=d(3, 11))
    h(bd, registered=d(2, 20), accepted=d(2, 21), due=d(3, 21), concluded=d(3, 15), outcome="agreement")
    h(
        bd,
        registered=d(3, 3),
        accepted=d(3, 4),
        due=d(4, 3),
        concluded=d(3, 28),
        outcome="agreement",
        moved=[(d(3, 10), orgs["bj"])],
    )
    h(bd, registered=d(3, 25), accepted=d(3, 26), due=d(4, 25), concluded=d(4, 10), outcome="withdrawn")
    h(
        orgs["rc"],
        registered=d(3, 4),
        accepted=d(3, 5),
        due=d(4, 4),
        concluded=d(3, 18),
        outcome="agreement",
        category="forest_land",
    )
    h(
        orgs["ax"],
        registered=d(3, 6),
        accepted=d(3, 7),
        due=d(4, 6),
        concluded=d(3, 30),
        outcome="referred",
        category="forest_land",
    )
    h(orgs["xx"], registered=d(3, 8), accepted=d(3, 9), due=d(3, 20))
    h(
        orgs["sjz"],
        registered=d(3, 12),
        accepted=d(3, 13),
        due=d(3, 14),
        concluded=d(3, 16),
        outcome="agreement",
        category="labour",
    )
    h(orgs["bj"], registered=d(3, 1), accepted=d(3, 2), due=d(4, 1), concluded=d(3, 5), outcome="agreement")
    h(bd, registered=d(4, 2))
    return {**orgs, "studio": studio}
