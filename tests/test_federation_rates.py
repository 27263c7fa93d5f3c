"""Rates on a hub of a federation count each case where it was handled when the event happened, on that hub.

This is the 河北 hub. Its own organisation bd (保定竞秀区 130602); two organisations of other hubs as its directory
knows them: bj (北京朝阳 110105, hub beijing) and tj (天津和平 120101, hub tianjin). Both requests go through the
services as the federation applies them (October 2025):

 #  what happens on this hub                                                         counts here
 G  bd's case (registered 09-01) sent to bj on 09-29; beijing accepts, mirrored 10-09  out of bd, 130602 … 130000, CN
 H  tj's case offered 09-29 (a copy, never registered here); bd accepts it 10-09,     into bd, 130602 … 130000, CN
    concludes it 10-20 with an agreement                                              concluded by bd

A remote organisation lies outside every region of this hub, the whole country included: G leaves it, H enters it,
and neither is counted in 北京 or 天津 here (those hubs count them)."""

from __future__ import annotations

from datetime import date

import pytest

from mediation_hub.cases.events import record_event
from mediation_hub.core.actor import SYSTEM
from mediation_hub.extensions import db
from mediation_hub.reporting.aggregates import rebuild_daily_stats
from mediation_hub.reporting.queries import Scope
from mediation_hub.reporting.service import report_for_scope
from tests.test_reporting_aggregates import aggregate_rows

OCTOBER = (date(2025, 10, 1), date(2025, 10, 31))
SOURCES = ("aggregates", "events")


@pytest.fixture
def hebei_hub(app, monkeypatch, make_org, make_user, make_routed_case, request_transfer_as):
    from mediation_hub.cases import service as cases
    from mediation_hub.cases.models import Outcome
    from mediation_hub.federation.service import federation_actor
    from mediation_hub.transfers import service as transfers
    from mediation_hub.transfers.models import TransferMode, TransferStatus

    monkeypatch.setitem(app.config, "HUB_ID", "hebei")
    bd = make_org(region_code="130602")
    bj = make_org(region_code="110105", hub_id="beijing", remote_id=7)
    tj = make_org(region_code="120101", hub_id="tianjin", remote_id=3)
    mediator = make_user(organization=bd)

    g = make_routed_case(bd, applicant="130602", respondent="110105")
    record_event(g, "registered", SYSTEM, date(2025, 9, 1))  # the factory writes the case, not its log
    sent = request_transfer_as(mediator, g, bj, requested_on=date(2025, 9, 29))
    assert transfers.mirror_answer(federation_actor("beijing"), sent, TransferStatus.accepted, date(2025, 10, 9))

    h = cases.create_case_copy(
        tj,
        {
            "number": "津和调〔2025〕88号",
            "category_code": "medical",
            "source_code": "party_application",
            "summary": "医疗纠纷，患方在保定",
            "received_on": date(2025, 9, 20),
            "accepted_on": date(2025, 9, 21),
            "due_on": date(2025, 10, 21),
            "status": "accepted",
            "occurred_region_code": "120101",
            "parties": [{"role": "applicant", "kind": "person", "name": "赵六", "region_code": "130602"}],
        },
    )
    offered = transfers.receive_remote_request(
        federation_actor("tianjin"),
        h,
        to_organization=bd,
        agreement_code="JJJ-MEDIATION",
        mode=TransferMode.transfer,
        requested_on=date(2025, 9, 29),
        respond_by=date(2025, 10, 20),
        note=None,
    )
    transfers.accept_transfer(mediator.to_actor(), offered.id, answered_on=date(2025, 10, 9))
    cases.conclude_case(
        mediator.to_actor(), h.id, outcome=Outcome.agreement, concluded_on=date(2025, 10, 20), terms="医院赔偿"
    )
    db.session.flush()
    return {"bd": bd, "bj": bj, "tj": tj}


def _flows(scope: Scope, source: str) -> dict:
    return report_for_scope(scope, *OCTOBER, date(2025, 10, 31), None, basis="handled", source=source)["case_flows"]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("region", "expected"),
    [
        # G out, H in and concluded; open at the start: G (registered 09-01 by bd); at the end: none
        (
            "130000",
            {
                "open_at_start": 1,
                "registered": 0,
                "transferred_in": 1,
                "transferred_out": 1,
                "concluded": 1,
                "declined": 0,
                "open_at_end": 0,
            },
        ),
        (
            "130602",
            {
                "open_at_start": 1,
                "registered": 0,
                "transferred_in": 1,
                "transferred_out": 1,
                "concluded": 1,
                "declined": 0,
                "open_at_end": 0,
            },
        ),
        # the whole country of this hub: the same two moves cross its boundary
        (
            None,
            {
                "open_at_start": 1,
                "registered": 0,
                "transferred_in": 1,
                "transferred_out": 1,
                "concluded": 1,
                "declined": 0,
                "open_at_end": 0,
            },
        ),
        # the other hubs' regions hold nothing of them here
        (
            "110000",
            {
                "open_at_start": 0,
                "registered": 0,
                "transferred_in": 0,
                "transferred_out": 0,
                "concluded": 0,
                "declined": 0,
                "open_at_end": 0,
            },
        ),
        (
            "120000",
            {
                "open_at_start": 0,
                "registered": 0,
                "transferred_in": 0,
                "transferred_out": 0,
                "concluded": 0,
                "declined": 0,
                "open_at_end": 0,
            },
        ),
    ],
)
def test_moves_across_hubs_count_where_the_case_was_handled(hebei_hub, source, region, expected):
    assert _flows(Scope(region_code=region), source) == expected


@pytest.mark.parametrize("source", SOURCES)
def test_the_local_organisation_counts_both_moves(hebei_hub, source):
    flows = _flows(Scope(organization_id=hebei_hub["bd"].id), source)
    assert (flows["transferred_in"], flows["transferred_out"], flows["concluded"]) == (1, 1, 1)


def test_the_listener_keeps_the_rows_a_rebuild_writes(hebei_hub):
    maintained = aggregate_rows()
    rebuild_daily_stats()
    assert aggregate_rows() == maintained


def test_the_file_sent_after_acceptance_is_encrypted_in_the_outbox(hebei_hub):
    """G's acceptance, mirrored, queued its file (full numbers) for beijing: kept encrypted at rest, in clear only
    in the envelope the sender signs and sends."""
    import sqlalchemy as sa

    from mediation_hub.federation.models import OutboxMessage

    message = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.type == "case.handover")).one()
    numbers = {p["id_number"] for p in message.envelope["payload"]["parties"]}
    assert numbers and all(len(n) == 18 for n in numbers)
    assert not any(n in message.envelope_enc for n in numbers)
