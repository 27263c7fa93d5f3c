"""Declared domain events (core/events.py): emitting, the two kinds of listener, the wiring, and the listing
``mediation-hub events``; and that a declared step reaches the app's listeners (aggregates, notifications)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from mediation_hub import install_listeners
from mediation_hub.cases import events as case_events
from mediation_hub.cases.models import CaseEvent, CaseStatus
from mediation_hub.core import events, uow
from mediation_hub.core.events import DomainEvent, Listeners, emit
from mediation_hub.extensions import db
from mediation_hub.legal_aid import events as legal_aid_events
from mediation_hub.notifications.models import Notification
from mediation_hub.reporting import aggregates
from mediation_hub.reporting.aggregates import CaseDailyStat
from mediation_hub.transfers import service as transfers

# --- core/events.py with events of its own --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Rang(DomainEvent):
    """A test event (the base of the next one)."""

    name: ClassVar[str] = "test.rang"

    times: int


@dataclass(frozen=True, kw_only=True)
class RangTwice(Rang):
    """A test event that a listener of ``Rang`` hears too."""

    name: ClassVar[str] = "test.rang_twice"


@pytest.fixture
def wire():
    """``wire(*registries)`` for one test; the app's own wiring is put back afterwards."""
    yield lambda *registries: events.install(registries)
    install_listeners()


@pytest.fixture
def heard():
    """A registry whose listeners write down what they heard, in order."""
    log: list[str] = []
    registry = Listeners("test")

    @registry.on(Rang)
    def first(event: Rang) -> None:
        log.append(f"first {event.name} {event.times}")

    @registry.on(RangTwice)
    def second(event: RangTwice) -> None:
        log.append(f"second {event.name} {event.times}")

    @registry.on(Rang, after_commit=True)
    def later(event: Rang) -> None:
        log.append(f"later {event.name} {event.times}")

    return registry, log


def test_in_transaction_listeners_run_at_once_in_registry_order_and_a_base_hears_its_subclasses(wire, heard):
    registry, log = heard
    wire(registry)
    emit(Rang(times=1))
    emit(RangTwice(times=2))
    assert log == ["first test.rang 1", "first test.rang_twice 2", "second test.rang_twice 2"]
    assert uow.pending_after_commit() == 2  # ``later`` waits for the commit, once per event


def test_after_commit_listeners_run_only_once_the_transaction_committed(wire, heard):
    registry, log = heard
    wire(registry)
    with uow.transaction():
        emit(Rang(times=1))
        assert log == ["first test.rang 1"]
    assert log == ["first test.rang 1", "later test.rang 1"]


def test_after_commit_listeners_never_run_after_a_rollback(wire, heard):
    registry, log = heard
    wire(registry)

    def failing_step() -> None:
        with uow.transaction():
            emit(Rang(times=1))
            raise RuntimeError("the step fails")

    with pytest.raises(RuntimeError, match="the step fails"):
        failing_step()
    assert log == ["first test.rang 1"]
    assert uow.pending_after_commit() == 0
    with uow.transaction():  # the next transaction does not inherit the dropped work
        pass
    assert log == ["first test.rang 1"]


def test_a_subscription_to_anything_but_a_declared_event_is_refused():
    registry = Listeners("test")
    for not_an_event in ("test.rang", dict, Rang(times=1)):
        with pytest.raises(TypeError, match="is not a declared domain event"):
            registry.on(not_an_event)
    assert registry.subscriptions == []


def test_emitting_before_the_registries_are_wired_fails(monkeypatch):
    monkeypatch.setattr(events, "_registry", events._Registry())
    with pytest.raises(RuntimeError, match=r"test\.rang: no listener registry is wired"):
        emit(Rang(times=1))


def test_listeners_of_an_event_include_those_of_its_base(wire, heard):
    registry, _log = heard
    wire(registry)
    assert [sub.listener.__name__ for sub in events.listeners_of(RangTwice)] == ["first", "second", "later"]
    assert [sub.after_commit for sub in events.listeners_of(Rang)] == [False, True]


# --- the declared events of the hub --------------------------------------------------------------------------


def test_every_rate_code_and_every_legal_aid_code_is_announced_by_a_class_of_its_own():
    assert set(case_events.STEP_EVENTS) <= set(case_events.EVENT_CODES)
    assert {code: case_events.STEP_EVENTS[code].name for code in aggregates.RATE_CODES} == {
        "registered": "case.registered",
        "accepted": "case.accepted",
        "declined": "case.declined",
        "concluded": "case.concluded",
    }
    assert set(legal_aid_events.STEP_EVENTS) == set(legal_aid_events.EVENT_CODES)


def test_every_declared_name_is_unique():
    names = [event.name for event in events.declared_events()]
    assert len(names) == len(set(names))


def test_accepting_a_case_adds_to_the_aggregates_in_its_transaction(make_case, make_org):
    org = make_org(region_code="110105")
    make_case(org, CaseStatus.accepted, received_on=date(2025, 5, 8))
    counts = db.session.execute(
        sa.select(sa.func.sum(CaseDailyStat.received), sa.func.sum(CaseDailyStat.accepted)).where(
            CaseDailyStat.organization_id == org.id, CaseDailyStat.day == date(2025, 5, 8)
        )
    ).one()
    assert tuple(counts) == (1, 1)  # registered and accepted that day, nothing committed yet


def test_a_declined_transfer_tells_the_sender(make_org, make_user, make_routed_case, request_transfer_as):
    hebei = make_org(name="竞秀区事件测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区事件测试调解委员会", region_code="110105")
    case = make_routed_case(hebei, applicant="130602", respondent="110105")
    transfer = request_transfer_as(make_user(organization=hebei), case, beijing, requested_on=date(2025, 9, 29))
    receiver = make_user(organization=beijing).to_actor()
    transfers.decline_transfer(receiver, transfer.id, reason_code="duplicate", answered_on=date(2025, 9, 30))
    notice = db.session.scalar(sa.select(Notification).where(Notification.kind == "transfer_declined"))
    assert (notice.organization_id, notice.link) == (hebei.id, f"/transfers/{transfer.id}")
    assert notice.message.startswith(f"朝阳区事件测试调解委员会 退回了转办案件 {case.number}：")


def _bulk_registration(make_routed_case, make_org) -> int:
    """A registered case whose event row went in by a bulk INSERT (as an import writes them): not counted yet."""
    org = make_org(region_code="130602")
    case = make_routed_case(org, status=CaseStatus.registered, received_on=date(2025, 4, 1))
    db.session.execute(
        sa.insert(CaseEvent.__table__).values(
            case_id=case.id,
            code="registered",
            on_date=date(2025, 4, 1),
            organization_id=org.id,
            region_code=org.region_code,
            actor_name="import",
            data={},
        )
    )
    return org.id


def _received(org_id: int) -> int:
    total = db.session.scalar(
        sa.select(sa.func.sum(CaseDailyStat.received)).where(CaseDailyStat.organization_id == org_id)
    )
    return total or 0


def test_an_import_is_counted_after_its_commit(make_routed_case, make_org):
    org_id = _bulk_registration(make_routed_case, make_org)
    with uow.transaction():
        emit(case_events.CasesImported(first_day=date(2025, 4, 1), last_day=date(2025, 4, 1)))
        assert _received(org_id) == 0  # the rebuild waits for the import's commit
    assert _received(org_id) == 1


def test_a_failed_rebuild_after_an_import_is_logged_not_raised(make_routed_case, make_org, monkeypatch, caplog):
    org_id = _bulk_registration(make_routed_case, make_org)

    def fail(*_args: object) -> None:
        raise SQLAlchemyError("database gone")

    monkeypatch.setattr(aggregates, "rebuild_daily_stats", fail)
    with caplog.at_level(logging.ERROR, logger="mediation_hub.reporting"), uow.transaction():
        emit(case_events.CasesImported(first_day=date(2025, 4, 1), last_day=date(2025, 4, 1)))
    assert "report aggregates not rebuilt for 2025-04-01..2025-04-01" in caplog.text
    assert _received(org_id) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) >= 1  # the import's rows stay


# --- mediation-hub events ------------------------------------------------------------------------------------


def _blocks(output: str) -> dict[str, list[str]]:
    """The command's output as {event line: the indented lines under it}."""
    blocks: dict[str, list[str]] = {}
    current = ""
    for line in output.splitlines():
        if line.startswith(" "):
            blocks[current].append(line.strip())
        else:
            current = line
            blocks[current] = []
    return blocks


def test_the_events_command_lists_every_event_its_payload_and_its_listeners(app):
    result = app.test_cli_runner().invoke(args=["events"])
    assert result.exit_code == 0, result.output
    blocks = _blocks(result.output)
    assert blocks["transfer.answered  (mediation_hub.transfers.events.TransferAnswered)"] == [
        "payload: transfer_id: int, case_id: int, mode: TransferMode, from_organization_id: int, "
        "to_organization_id: int, on_date: date, accepted: bool, reason_code: str | None",
        "-> reporting: mediation_hub.reporting.listeners.count_closed_transfer (in the transaction)",
        "-> notifications: mediation_hub.notifications.listeners.tell_the_sender_of_the_answer (in the transaction)",
        # the answer that won on this hub goes back to the hub the request came from (or, mirrored, the file goes)
        "-> federation: mediation_hub.federation.listeners.answer_or_hand_over (in the transaction)",
    ]
    assert blocks["case.imported  (mediation_hub.cases.events.CasesImported)"] == [
        "payload: first_day: date, last_day: date",
        "-> reporting: mediation_hub.reporting.listeners.rebuild_imported_span (after commit)",
    ]
    concluded = blocks["case.concluded  (mediation_hub.cases.events.CaseConcluded)"]
    assert concluded[1:] == [
        "-> reporting: mediation_hub.reporting.listeners.count_rate_event (in the transaction)",
        "-> notifications: mediation_hub.notifications.listeners.tell_the_senders_of_a_conclusion (in the transaction)",
        "-> federation: mediation_hub.federation.listeners.feed_back_outcome (in the transaction)",
    ]
    assert blocks["legal_aid.closed  (mediation_hub.legal_aid.events.LegalAidClosed)"][1:] == ["-> no listener"]
    # the transfer and legal-aid month aggregates follow their tables on every flush, wired like the listeners
    assert (
        "after every flush  -> reporting: mediation_hub.reporting.listeners.count_flushed_flows (in the transaction)"
        in (blocks)
    )
    listed = {line.split()[0] for line in blocks}
    assert {"case.registered", "transfer.expired", "transfer.escalated", "legal_aid.decided"} <= listed
