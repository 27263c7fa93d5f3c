"""An agreement's membership binds every member (issue 12, item 2): a coordinator only proposes; the proposal
waits until a coordinator of every affected member region has confirmed it, and routing never sees it before."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from mediation_hub.agreements import proposals
from mediation_hub.agreements.models import (
    PROPOSAL_STATE_LABELS,
    Agreement,
    AgreementKind,
    AgreementProposal,
    AgreementScope,
    ProposalState,
)
from mediation_hub.agreements.service import agreements_covering, create_agreement
from mediation_hub.audit.models import AuditEntry
from mediation_hub.core.actor import SYSTEM
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.legal_aid import service as legal_aid
from mediation_hub.notifications.models import Notification
from mediation_hub.notifications.service import notifications_for
from mediation_hub.transfers.routing import NO_AGREEMENT, routes_for_case
from tests.factories_legal_aid import application_data

JJJ = ["110000", "120000", "130000"]


def _terms(code: str) -> dict:
    """What an agreement says, to prove it did not change."""
    agreement = db.session.get(Agreement, code)
    if agreement is None:
        return {}
    db.session.refresh(agreement)
    return {
        "members": sorted(agreement.member_codes),
        "days": agreement.response_working_days,
        "active": agreement.active,
        "scope": agreement.scope,
    }


@pytest.fixture
def coordinator(make_user):
    """``coordinator("130000")``: a coordinator of that region, as an actor."""
    return lambda region: make_user(role="coordinator", region_code=region).to_actor()


@pytest.fixture
def admin(make_user):
    return make_user(role="admin").to_actor()


# --- the three attacks of the issue -----------------------------------------------------------------------

# A 河北 coordinator: makes 广州 a member of a new agreement, adds 广东 to the 京津冀 legal-aid agreement,
# drops 北京 from the 京津冀 mediation agreement.
ATTACKS = {
    "guangzhou_as_member": (
        "HB-GZ-TEST",
        "/api/v1/agreements",
        "/api/v1/agreement-proposals",
        "post",
        {
            "code": "HB-GZ-TEST",
            "name": "冀粤调解协作(攻击)",
            "kind": "pairing",
            "scope": "both",
            "member_codes": ["130000", "440100"],
            "signed_on": "2025-01-10",
        },
        ["440100"],
    ),
    "guangdong_joins_jjj_legal_aid": (
        "JJJ-LEGAL-AID",
        "/api/v1/agreements/JJJ-LEGAL-AID",
        "/api/v1/agreements/JJJ-LEGAL-AID/proposals",
        "patch",
        {"member_codes": [*JJJ, "440000"]},
        ["110000", "120000", "440000"],
    ),
    "beijing_dropped": (
        "JJJ-MEDIATION",
        "/api/v1/agreements/JJJ-MEDIATION",
        "/api/v1/agreements/JJJ-MEDIATION/proposals",
        "patch",
        {"member_codes": ["120000", "130000"]},
        ["110000", "120000"],
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_coordinator_cannot_change_membership_directly(api_as, attack):
    code, direct, _, method, body, _ = ATTACKS[attack]
    before = _terms(code)
    response = getattr(api_as(role="coordinator", region_code="130000"), method)(direct, json=body)
    assert response.status_code == 403, response.get_json()
    assert "提议" in response.get_json()["message"]
    assert _terms(code) == before


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_the_attack_as_a_proposal_waits_for_the_other_members(api_as, attack):
    code, _, propose, _, body, awaiting = ATTACKS[attack]
    before = _terms(code)
    hebei = api_as(role="coordinator", region_code="130000")
    response = hebei.post(propose, json=body)
    assert response.status_code == 201, response.get_json()
    proposal = response.get_json()
    # 河北 counts as confirmed by proposing; every other region of the old and the new member sets must confirm.
    assert proposal["state"] == "pending" and proposal["awaiting"] == awaiting
    confirmed = [(r["region_code"], r["confirmed_by"]) for r in proposal["regions"] if r["confirmed"]]
    assert confirmed == [("130000", hebei.user.username)]
    assert _terms(code) == before


def test_under_the_proposals_no_case_goes_where_the_attacker_wanted(
    api_as, make_org, make_user, make_routed_case, make_centre, make_officer
):
    hebei = api_as(role="coordinator", region_code="130000")
    for _, _, propose, _, body, _ in ATTACKS.values():
        assert hebei.post(propose, json=body).status_code == 201
    jingxiu = make_org(name="竞秀区攻击测试人民调解委员会", region_code="130602")
    liwan = make_org(name="荔湾区攻击测试人民调解委员会", region_code="440103")
    chaoyang = make_org(name="朝阳区攻击测试人民调解委员会", region_code="110105")
    to_guangzhou = make_routed_case(jingxiu, applicant="130602", respondent="440103")
    to_beijing = make_routed_case(jingxiu, applicant="130602", respondent="110105")
    mediator = api_as(make_user(organization=jingxiu))  # commits: a refused request rolls back only itself
    # 广州 is no member of anything 河北 is in: no route, and no transfer under the proposed agreement.
    assert routes_for_case(mediator.user.to_actor(), to_guangzhou.id)["reason"] == NO_AGREEMENT
    for code in ("HB-GZ-TEST", "JJJ-MEDIATION"):
        refused = mediator.post(
            "/api/v1/transfers",
            json={"case_id": to_guangzhou.id, "to_organization_id": liwan.id, "agreement_code": code},
        )
        assert refused.status_code == 422 and "agreement_code" in refused.get_json()["errors"]["json"]
    # 广东 is not in the 京津冀 legal-aid 通办: a 保定 centre cannot pass an application to 广州.
    baoding_centre, guangzhou_centre = make_centre("130602"), make_centre("440103")
    filed = legal_aid.file_application(
        SYSTEM, application_data(baoding_centre.id, matter_region_code="440103", received_on=today_shanghai())
    )
    with pytest.raises(ValidationFailed) as refused_handover:
        legal_aid.transfer_application(
            make_officer(baoding_centre).to_actor(), filed.id, to_centre_id=guangzhou_centre.id
        )
    assert "to_centre_id" in refused_handover.value.errors
    # 北京 is still a member of the 京津冀 mediation agreement: a case still goes to 朝阳.
    sent = mediator.post(
        "/api/v1/transfers",
        json={"case_id": to_beijing.id, "to_organization_id": chaoyang.id, "agreement_code": "JJJ-MEDIATION"},
    )
    assert sent.status_code == 201, sent.get_json()


# --- the full flow --------------------------------------------------------------------------------------

JJB = ["110000", "120000", "130600"]
JJB_SJZ = ["110000", "120000", "130100", "130600"]


@pytest.fixture
def jing_jin_bao():
    """A 北京–天津–保定 mediation agreement, to which 河北 would add 石家庄 (130100)."""
    return create_agreement(
        SYSTEM,
        {
            "code": "JJB-TEST",
            "name": "京津保调解协作(测试)",
            "kind": AgreementKind.pairing,
            "scope": AgreementScope.mediation,
            "member_codes": JJB,
            "signed_on": date(2025, 1, 10),
        },
    )


def covering_sjz():
    """The agreements covering a 石家庄长安区–天津和平区 dispute."""
    return agreements_covering(["130102", "120101"], "mediation", date(2025, 3, 3))


def test_shijiazhuang_joins_once_beijing_and_tianjin_confirm(api_as, jing_jin_bao):
    hebei, beijing = api_as(role="coordinator", region_code="130000"), api_as(role="coordinator", region_code="110000")
    tianjin = api_as(role="coordinator", region_code="120000")
    response = hebei.post("/api/v1/agreements/JJB-TEST/proposals", json={"member_codes": JJB_SJZ})
    proposal = response.get_json()
    # 河北 coordinates both 保定 (old set) and 石家庄 (new set): confirmed by proposing.
    assert response.status_code == 201 and proposal["awaiting"] == ["110000", "120000"]
    assert proposal["changes"] == {"member_codes": JJB_SJZ}
    assert proposal["before"] == {"member_codes": JJB}
    url = f"/api/v1/agreement-proposals/{proposal['id']}"
    # Each region whose confirmation is missing is told; the 北京 coordinator sees the notice.
    notices = db.session.scalars(sa.select(Notification).where(Notification.kind == "agreement_proposal")).all()
    assert sorted(n.region_code for n in notices) == ["110000", "120000"]
    assert all(n.link == f"/agreements/proposals/{proposal['id']}" for n in notices)
    assert any(n.kind == "agreement_proposal" for n in db.session.scalars(notifications_for(beijing.user.to_actor())))

    first = beijing.post(f"{url}/confirm")
    assert first.status_code == 200 and first.get_json()["state"] == "pending"
    assert first.get_json()["awaiting"] == ["120000"]
    assert [a.code for a in covering_sjz()] == ["JJJ-MEDIATION"]  # not yet
    assert beijing.post(f"{url}/confirm").status_code == 409  # 北京 has confirmed

    last = tianjin.post(f"{url}/confirm")
    body = last.get_json()
    assert last.status_code == 200 and body["state"] == "applied" and body["awaiting"] == []
    assert [(r["region_code"], r["confirmed_by"]) for r in body["regions"]] == [
        ("110000", beijing.user.username),
        ("120000", tianjin.user.username),
        ("130100", hebei.user.username),
        ("130600", hebei.user.username),
    ]
    assert all(r["confirmed_at"] for r in body["regions"]) and body["decided_by"] == tianjin.user.username
    assert _terms("JJB-TEST")["members"] == JJB_SJZ
    assert [a.code for a in covering_sjz()] == ["JJB-TEST", "JJJ-MEDIATION"]
    # The proposer hears it is in force; the audit trail has every step.
    assert (
        db.session.scalar(sa.select(Notification).where(Notification.user_id == hebei.user.id)).kind
        == "agreement_proposal_applied"
    )
    trail = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.target_id == str(proposal["id"]), AuditEntry.target_type == "agreement_proposal")
        .order_by(AuditEntry.id)
    ).all()
    assert trail == [
        "agreement_proposed",
        "agreement_proposal_confirmed",
        "agreement_proposal_confirmed",
        "agreement_proposal_applied",
    ]
    assert tianjin.post(f"{url}/confirm").status_code == 409


def test_a_new_agreement_exists_only_once_every_member_confirmed(coordinator):
    hebei, guangzhou = coordinator("130000"), coordinator("440000")  # 广东 coordinates 广州 440100
    proposal = proposals.propose_agreement(
        hebei,
        {
            "code": "HB-GZ-NEW",
            "name": "冀粤调解协作",
            "kind": AgreementKind.pairing,
            "scope": AgreementScope.both,
            "member_codes": ["440100", "130000"],
            "signed_on": date(2025, 1, 10),
        },
    )
    assert proposal.awaiting == ["440100"] and db.session.get(Agreement, "HB-GZ-NEW") is None
    assert agreements_covering(["130602", "440103"], "mediation", date(2025, 3, 3)) == []
    proposals.confirm_proposal(guangzhou, proposal.id)
    assert proposal.state == ProposalState.applied
    agreement = db.session.get(Agreement, "HB-GZ-NEW")
    assert agreement.member_codes == ["130000", "440100"] and agreement.effective_from == date(2025, 1, 10)
    assert [a.code for a in agreements_covering(["130602", "440103"], "mediation", date(2025, 3, 3))] == ["HB-GZ-NEW"]


def test_terms_and_deactivation_are_proposals_too(coordinator):
    """Response days, scope, dates and the active flag bind every member as much as the members do."""
    hebei, beijing, tianjin = coordinator("130000"), coordinator("110000"), coordinator("120000")
    proposal = proposals.propose_change(
        hebei, "JJJ-MEDIATION", {"active": False, "response_working_days": 3, "effective_to": date(2026, 12, 31)}
    )
    assert proposal.proposed_terms == {"effective_to": date(2026, 12, 31), "active": False}  # 3 days: unchanged
    assert proposal.awaiting == ["110000", "120000"] and _terms("JJJ-MEDIATION")["active"] is True
    proposals.confirm_proposal(beijing, proposal.id)
    proposals.confirm_proposal(tianjin, proposal.id)
    assert _terms("JJJ-MEDIATION")["active"] is False
    assert agreements_covering(["130602", "110105"], "mediation", date(2025, 3, 3)) == []


def test_a_coordinator_whose_region_holds_every_member_changes_at_once(coordinator):
    """广州, 梅州, 湛江 and 清远 all lie in 广东: its coordinator is a coordinator of every member."""
    proposal = proposals.propose_change(coordinator("440000"), "GD-PAIR-GZ", {"response_working_days": 5})
    assert proposal.state == ProposalState.applied and _terms("GD-PAIR-GZ")["days"] == 5


def test_an_administrator_still_changes_directly_and_it_is_audited(api_as):
    admin = api_as(role="admin")
    response = admin.patch("/api/v1/agreements/JJJ-MEDIATION", json={"member_codes": ["110000", "130000"]})
    assert response.status_code == 200 and response.get_json()["member_codes"] == ["110000", "130000"]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "agreement_changed"))
    assert entry.target_id == "JJJ-MEDIATION" and entry.username == admin.user.username
    assert entry.detail == {
        "fields": ["member_codes"],
        "member_codes_before": JJJ,
        "member_codes": ["110000", "130000"],
    }


# --- transitions over every state ------------------------------------------------------------------------

STATES = list(ProposalState)


@pytest.fixture
def proposal_in(coordinator, admin):
    """``proposal_in(state)``: a 河北 proposal to change the 京津冀 response days, moved to ``state``; with the
    actors who may act on it."""

    def build(state: ProposalState):
        actors = {
            "proposer": coordinator("130000"),
            "beijing": coordinator("110000"),
            "tianjin": coordinator("120000"),
            "admin": admin,
        }
        proposal = proposals.propose_change(actors["proposer"], "JJJ-MEDIATION", {"response_working_days": 5})
        if state == ProposalState.applied:
            proposals.apply_proposal(admin, proposal.id)
        elif state == ProposalState.declined:
            proposals.decline_proposal(actors["beijing"], proposal.id, reason="不同意")
        elif state == ProposalState.withdrawn:
            proposals.withdraw_proposal(actors["proposer"], proposal.id)
        assert proposal.state == state
        return proposal, actors

    return build


TRANSITIONS = {
    "confirm": ("beijing", lambda actor, pid: proposals.confirm_proposal(actor, pid), ProposalState.pending),
    "decline": (
        "tianjin",
        lambda actor, pid: proposals.decline_proposal(actor, pid, reason="本市不同意"),
        ProposalState.declined,
    ),
    "withdraw": ("proposer", lambda actor, pid: proposals.withdraw_proposal(actor, pid), ProposalState.withdrawn),
    "apply": ("admin", lambda actor, pid: proposals.apply_proposal(actor, pid), ProposalState.applied),
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("transition", list(TRANSITIONS))
def test_each_transition_starts_only_from_the_states_its_table_lists(proposal_in, transition, state):
    proposal, actors = proposal_in(state)
    who, act, target = TRANSITIONS[transition]
    days = _terms("JJJ-MEDIATION")["days"]
    if state in proposals.PROPOSAL_TRANSITIONS[transition]:
        act(actors[who], proposal.id)
        assert proposal.state == target  # confirm by 北京 leaves 天津 to confirm: still pending
        assert _terms("JJJ-MEDIATION")["days"] == (5 if target == ProposalState.applied else 3)
    else:
        with pytest.raises(StateConflict, match=f"「{PROPOSAL_STATE_LABELS[state]}」") as caught:
            act(actors[who], proposal.id)
        assert caught.value.message.code == "proposal_state_conflict"
        assert proposal.state == state and _terms("JJJ-MEDIATION")["days"] == days


# --- who may do what -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "transition", "error"),
    [
        ("440000", "confirm", NotFound),  # 广东: not concerned, cannot know the proposal exists
        ("440000", "decline", NotFound),
        ("130600", "confirm", PermissionDenied),  # 保定 sees it (inside member 河北) but is no coordinator of 河北
        ("130600", "decline", PermissionDenied),
        ("110000", "withdraw", PermissionDenied),  # only the proposer withdraws
        ("110000", "apply", PermissionDenied),  # only an administrator applies at once
    ],
)
def test_who_may_answer(proposal_in, coordinator, region, transition, error):
    proposal, _ = proposal_in(ProposalState.pending)
    _, act, _ = TRANSITIONS[transition]
    with pytest.raises(error):
        act(coordinator(region), proposal.id)
    assert proposal.state == ProposalState.pending


@pytest.mark.parametrize(
    ("user", "seen"),
    [
        (dict(role="coordinator", region_code="110000"), True),  # member
        (dict(role="coordinator", region_code="110105"), True),  # inside a member: concerned, reads it
        (dict(role="coordinator", region_code="440000"), False),  # not a member
        (dict(role="mediator"), False),
        (dict(role="admin"), True),
    ],
)
def test_only_those_concerned_see_a_proposal(api_as, proposal_in, user, seen):
    proposal, _ = proposal_in(ProposalState.pending)
    api = api_as(**user)
    assert api.get(f"/api/v1/agreement-proposals/{proposal.id}").status_code == (200 if seen else 404)
    listed = [p["id"] for p in api.get("/api/v1/agreement-proposals").get_json()["items"]]
    assert (proposal.id in listed) == seen


def test_refusals_name_the_field_or_the_conflict(api_as, proposal_in):
    proposal, _ = proposal_in(ProposalState.pending)
    hebei, tianjin = api_as(role="coordinator", region_code="130000"), api_as(role="coordinator", region_code="120000")
    blank = tianjin.post(f"/api/v1/agreement-proposals/{proposal.id}/decline", json={"reason": "  "})
    assert blank.status_code == 422 and list(blank.get_json()["errors"]["json"]) == ["reason"]
    second = hebei.post("/api/v1/agreements/JJJ-MEDIATION/proposals", json={"note": "再提一次"})
    assert second.status_code == 409 and "#" in second.get_json()["message"]
    same = hebei.post("/api/v1/agreements/JJJ-LEGAL-AID/proposals", json={"response_working_days": 3})
    assert same.status_code == 422 and list(same.get_json()["errors"]["json"]) == ["_schema"]
    bad = hebei.post(
        "/api/v1/agreement-proposals",
        json={
            "code": "JJJ-MEDIATION",
            "name": "重复编号",
            "kind": "tongban",
            "scope": "mediation",
            "member_codes": ["130000", "999999"],
            "signed_on": "2025-01-10",
            "response_working_days": 0,
        },
    )
    assert bad.status_code == 422
    assert sorted(bad.get_json()["errors"]["json"]) == ["member_codes", "response_working_days", "scope"]
    taken = hebei.post(
        "/api/v1/agreement-proposals",
        json={
            "code": "JJJ-MEDIATION",
            "name": "重复编号",
            "kind": "pairing",
            "scope": "mediation",
            "member_codes": ["130000", "370000"],
            "signed_on": "2025-01-10",
        },
    )
    assert taken.status_code == 409 and "已存在" in taken.get_json()["message"]


def test_a_change_made_meanwhile_makes_the_proposal_stale(api_as, proposal_in):
    proposal, _ = proposal_in(ProposalState.pending)
    api_as(role="admin").patch("/api/v1/agreements/JJJ-MEDIATION", json={"response_working_days": 4})
    assert (
        api_as(role="coordinator", region_code="110000")
        .post(f"/api/v1/agreement-proposals/{proposal.id}/confirm")
        .get_json()["state"]
        == "pending"
    )
    last = api_as(role="coordinator", region_code="120000").post(f"/api/v1/agreement-proposals/{proposal.id}/confirm")
    assert last.status_code == 409 and "已被修改" in last.get_json()["message"]
    db.session.expire_all()
    stored = db.session.get(AgreementProposal, proposal.id)
    assert stored.state == ProposalState.pending and stored.awaiting == ["120000"]  # nothing half-written
    assert _terms("JJJ-MEDIATION")["days"] == 4


# --- pages -----------------------------------------------------------------------------------------------

FORM = {
    "name": "京津保调解协作(测试)",
    "kind": "pairing",
    "scope": "mediation",
    "member_codes": " ".join(JJB_SJZ),
    "response_working_days": "3",
    "signed_on": "2025-01-10",
    "effective_from": "2025-01-10",
    "effective_to": "",
    "note": "",
}


def test_a_coordinator_proposes_through_the_form_and_members_answer_on_the_page(signed_in, make_user, jing_jin_bao):
    client = signed_in(make_user(role="coordinator", region_code="130000"))
    form = client.get("/agreements/JJB-TEST/edit").get_data(as_text=True)
    assert "将成为提议" in form and "提交提议" in form
    response = client.post("/agreements/JJB-TEST/edit", data=FORM)
    assert response.status_code == 302 and "/agreements/proposals/" in response.headers["Location"]
    proposal_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _terms("JJB-TEST")["members"] == JJB

    signed_in(make_user(role="coordinator", region_code="110000"))
    listed = client.get("/agreements/proposals").get_data(as_text=True)
    assert "JJB-TEST" in listed and "天津市" in listed
    page = client.get(f"/agreements/proposals/{proposal_id}").get_data(as_text=True)
    assert "确认" in page and "拒绝" in page and "河北省 石家庄市" in page and "待确认" in page
    assert client.post(f"/agreements/proposals/{proposal_id}/decline", data={"reason": ""}).status_code == 422
    assert client.post(f"/agreements/proposals/{proposal_id}/confirm").status_code == 302
    assert "尚待其他成员区域确认" in client.get(f"/agreements/proposals/{proposal_id}").get_data(as_text=True)
    assert client.post(f"/agreements/proposals/{proposal_id}/confirm").status_code == 409

    signed_in(make_user(role="coordinator", region_code="440000"))
    assert client.get(f"/agreements/proposals/{proposal_id}").status_code == 404


def test_a_coordinator_stops_an_agreement_only_by_proposal(signed_in, make_user):
    client = signed_in(make_user(role="coordinator", region_code="130000"))
    detail = client.get("/agreements/JJJ-MEDIATION").get_data(as_text=True)
    assert "提议停止执行" in detail and "提议修改" in detail
    response = client.post("/agreements/JJJ-MEDIATION/deactivate")
    assert response.status_code == 302 and "/agreements/proposals/" in response.headers["Location"]
    assert _terms("JJJ-MEDIATION")["active"] is True
    assert "待各成员区域确认的提议" in client.get("/agreements/JJJ-MEDIATION").get_data(as_text=True)
    assert client.post("/agreements/JJJ-MEDIATION/deactivate").status_code == 409  # one pending at a time


# --- at once (PostgreSQL, real commits, threads) -----------------------------------------------------------


def _all_at_once(app, actions) -> list[str]:
    """Run each action in its own thread and app context, released together; "won", "conflict" or an error."""
    barrier, lock, results = threading.Barrier(len(actions)), threading.Lock(), []

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
            except Exception as exc:  # anything else breaks the rule, reported by the assertion
                db.session.rollback()
                outcome = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.fixture
def committed_agreement(app):
    """A 北京–天津–河北 agreement committed for real (agreements are reference data: removed afterwards)."""
    code = f"CC-{uuid.uuid4().hex[:8].upper()}"
    create_agreement(
        SYSTEM,
        {
            "code": code,
            "name": "并发测试协议",
            "kind": AgreementKind.pairing,
            "scope": AgreementScope.mediation,
            "member_codes": JJJ,
            "signed_on": date(2025, 1, 10),
        },
    )
    db.session.commit()
    yield code
    db.session.rollback()
    db.session.execute(sa.delete(Agreement).where(Agreement.code == code))
    db.session.commit()


@pytest.mark.postgres
@pytest.mark.real_commits
def test_confirmations_arriving_at_once_never_leave_a_confirmed_proposal_pending(app, make_user, committed_agreement):
    hebei, beijing, tianjin = (make_user(role="coordinator", region_code=r).to_actor() for r in JJJ[::-1])
    proposal_id = proposals.propose_change(hebei, committed_agreement, {"response_working_days": 9}).id
    db.session.commit()
    actions = [lambda a=actor: proposals.confirm_proposal(a, proposal_id) for actor in [beijing, tianjin] * 5]

    results = _all_at_once(app, actions)

    assert not [r for r in results if r.startswith("error")], results
    db.session.remove()
    stored = db.session.get(AgreementProposal, proposal_id)
    days = db.session.get(Agreement, committed_agreement).response_working_days
    # one confirmation per region at most; applied exactly when every region has confirmed
    assert results.count("won") == 2 - len(stored.awaiting)
    assert (stored.state == ProposalState.applied) == (stored.awaiting == []) == (days == 9)


@pytest.mark.postgres
@pytest.mark.real_commits
def test_proposals_for_one_agreement_arriving_at_once_leave_one_pending(app, make_user, committed_agreement):
    hebei = make_user(role="coordinator", region_code="130000").to_actor()
    db.session.commit()
    actions = [
        lambda n=n: proposals.propose_change(hebei, committed_agreement, {"response_working_days": n})
        for n in range(4, 14)
    ]

    results = _all_at_once(app, actions)

    assert sorted(results) == ["conflict"] * 9 + ["won"], results
    db.session.remove()
    assert (
        len(
            db.session.scalars(
                sa.select(AgreementProposal.id).where(AgreementProposal.agreement_code == committed_agreement)
            ).all()
        )
        == 1
    )
