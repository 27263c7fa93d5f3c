"""Another hub's organisations and what is sent to them: its directory keeps them (no account, no editing here);
a request to one is offered with the minimum view, and its answer, expiry and withdrawal belong to that hub."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mediation_hub.auth.service import create_user
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.errors import StateConflict, ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.federation.models import OutboxMessage
from mediation_hub.legal_aid.models import ApplicationStatus
from mediation_hub.legal_aid.tasks import flag_overdue_legal_aid
from mediation_hub.registry.service import update_organization
from mediation_hub.transfers.models import TransferStatus
from mediation_hub.transfers.service import accept_transfer, withdraw_transfer
from mediation_hub.transfers.tasks import expire_overdue_transfers


def test_no_account_here_for_another_hubs_organisation(make_org):
    remote = make_org(region_code="110105", hub_id="beijing", remote_id=4)
    with pytest.raises(ValidationFailed) as refused:
        create_user(
            SYSTEM,
            username="bj-mediator",
            password="a-long-password-2026",
            role=Role.mediator,
            organization_id=remote.id,
        )
    assert refused.value.errors["organization"][0].code == "remote_organization_account"


def test_another_hubs_organisation_is_not_edited_here(make_org):
    remote = make_org(region_code="110105", hub_id="beijing", remote_id=5)
    with pytest.raises(StateConflict) as refused:
        update_organization(SYSTEM, remote.id, {"name": "改名"})
    assert refused.value.error_code == "remote_organization"


# --- requests to another hub: the receiving hub owns the answer, the expiry and the withdrawal -----------------


@pytest.fixture
def sent_to_beijing(app, monkeypatch, make_org, make_user, make_routed_case, request_transfer_as):
    monkeypatch.setitem(app.config, "HUB_ID", "hebei")
    monkeypatch.setitem(app.config, "FEDERATION_SEND_AT_ONCE", False)
    bd = make_org(region_code="130602")
    bj = make_org(region_code="110105", hub_id="beijing", remote_id=8)
    mediator = make_user(organization=bd)
    case = make_routed_case(bd, applicant="130602", respondent="110105")
    transfer = request_transfer_as(mediator, case, bj, requested_on=date(2025, 9, 29))
    return transfer, mediator


def _messages(type_: str) -> list:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.type == type_)))


def test_a_request_to_another_hub_is_offered_with_the_minimum_view(sent_to_beijing):
    transfer, _mediator = sent_to_beijing
    [offer] = _messages("transfer.offered")
    assert offer.to_hub == "beijing" and offer.conversation_id == f"transfer/hebei/{transfer.id}"
    payload = offer.envelope["payload"]
    assert payload["to_organization_id"] == 8
    assert all("id_number" not in p and "phone" not in p for p in payload["case"]["parties"])
    assert all(p["id_number_masked"] for p in payload["case"]["parties"])


def test_withdrawing_asks_the_receiving_hub_and_stays_pending(sent_to_beijing):
    transfer, mediator = sent_to_beijing
    answer = withdraw_transfer(mediator.to_actor(), transfer.id)
    assert answer.status == TransferStatus.pending
    [asked] = _messages("transfer.answered")
    assert asked.envelope["payload"]["outcome"] == "withdrawn" and asked.sequence == 2


def test_the_sender_neither_answers_nor_expires_a_request_to_another_hub(sent_to_beijing):
    transfer, _mediator = sent_to_beijing
    with pytest.raises(StateConflict) as refused:
        accept_transfer(SYSTEM, transfer.id)
    assert refused.value.error_code == "answered_on_receiving_hub"
    # long past its answer-by date: the receiving hub expires it, this one waits for its answer
    assert expire_overdue_transfers(datetime(2026, 1, 31, 2, tzinfo=UTC)) == 0
    assert transfer.status == TransferStatus.pending


def test_an_application_held_by_another_hubs_centre_is_watched_there(make_application):
    _application, _tianjin, baoding = make_application(status=ApplicationStatus.transferred)
    late = datetime(2025, 10, 31, 2, tzinfo=UTC)  # decide_by (7 days from 09-11) long past
    baoding.hub_id, baoding.remote_id = "hebei", 11
    db.session.flush()
    assert flag_overdue_legal_aid(late) == 0
    baoding.hub_id = baoding.remote_id = None
    db.session.flush()
    assert flag_overdue_legal_aid(late) == 2  # the centre and its province's coordinators


def test_a_peer_heard_from_is_noted_at_most_once_a_minute():
    from mediation_hub.federation.models import Peer
    from mediation_hub.federation.service import _contact

    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    peer = Peer(hub_id="beijing", url="http://127.0.0.1:9", secret_enc="x")
    _contact(peer, start)
    assert peer.last_contact_at == start
    _contact(peer, start + timedelta(seconds=60))  # within the minute: the row is left alone
    assert peer.last_contact_at == start
    _contact(peer, start + timedelta(seconds=61))
    assert peer.last_contact_at == start + timedelta(seconds=61)
    peer.failing_since = start
    _contact(peer, start + timedelta(seconds=62))  # heard from while failing: written at once, the failure ends
    assert (peer.last_contact_at, peer.failing_since) == (start + timedelta(seconds=62), None)
