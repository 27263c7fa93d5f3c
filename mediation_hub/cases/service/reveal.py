"""The one way to a party's full ID number: a user of the handling organisation, audited."""

from __future__ import annotations

from ...audit import service as audit
from ...core.actor import Actor
from ...core.shanghai import today_shanghai
from ...errors import NotFound
from ..events import record_event
from ..policy import POLICY
from .scope import get_case


def reveal_party_numbers(
    actor: Actor, case_id: int, party_id: int, *, remote_addr: str | None = None
) -> dict[str, int | str | None]:
    """The full ID number (or USCC) and phone of a party, for a user of the handling organisation only;
    recorded in the audit log and as a case event (neither holds the number)."""
    case = get_case(actor, case_id)
    party = next((p for p in case.parties if p.id == party_id), None)
    if party is None:
        raise NotFound("party")
    POLICY.require(actor, "reveal_party", case)
    audit.record(
        actor,
        "reveal_id_number",
        target_type="party",
        target_id=party.id,
        detail={"case_id": case.id, "case_number": case.number},
        remote_addr=remote_addr,
    )
    record_event(case, "party_number_revealed", actor, today_shanghai(), {"party_id": party.id})
    return {"party_id": party.id, "id_number": party.full_id_number(), "phone": party.full_phone()}
