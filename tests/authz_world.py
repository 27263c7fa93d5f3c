"""The world the authorization matrix (and the API fuzzing) runs against, built once per test module.

A Beijing side, where every signed-in user of the matrix works, and a Hebei side, where none does; each side
has its organisations, mediators, a studio, cases in every state a transition starts from, pending incoming
and outgoing transfers (with a Tianjin partner), legal-aid applications in every state, a report subscription
with a snapshot and a failed delivery, agreements and notifications.

A module uses it by assigning the fixtures below to module names (``world = authz_world.world`` …): its
tests then share one outer transaction, rolled back at the module's end, instead of tests/conftest.py's
transaction per test; each test (or cell) rolls back its own SAVEPOINT."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from mediation_hub.agreements import proposals as agreement_proposals
from mediation_hub.agreements import service as agreements
from mediation_hub.agreements.models import AgreementKind, AgreementScope
from mediation_hub.auth.service import issue_token
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.db import utcnow
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.exports import service as exports
from mediation_hub.extensions import db
from mediation_hub.federation.models import OutboxMessage, OutboxStatus
from mediation_hub.imports import jobs as import_jobs
from mediation_hub.legal_aid import service as legal_aid
from mediation_hub.notifications.service import notify
from mediation_hub.registry.models import Organization, OrgKind
from mediation_hub.reporting import subscriptions
from mediation_hub.reporting.models import DeliveryStatus, ReportDelivery
from mediation_hub.transfers.service import accept_transfer, request_transfer
from tests.factories_cases import person
from tests.factories_legal_aid import application_data
from tests.import_samples import HEADER

# --- the world --------------------------------------------------------------------------------------------


@dataclass
class World:
    sides: dict[str, dict]  # "in" (Beijing) and "out" (Hebei): name -> id or code
    per_role: dict[str, dict] = field(default_factory=dict)  # role -> names whose record depends on the role
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def values(self, role: str, scope: str) -> dict:
        return {**self.sides[scope], **(self.per_role.get(role, {}) if scope == "in" else {})}


SIDES = {
    # side: (county, province, label)
    "in": ("110105", "110000", "北京朝阳"),
    "out": ("130602", "130000", "保定竞秀"),
}
TIANJIN = "120101"


def _build_side(scope: str, f, tianjin_org, tianjin_centre, recent: date) -> dict:
    county, province, label = SIDES[scope]
    org = f.make_org(name=f"{label}人民调解委员会", region_code=county)
    gc = f.make_org(name=f"{label}综治中心", kind=OrgKind.governance_centre, region_code=county)
    centre = f.make_org(name=f"{label}法律援助中心", kind=OrgKind.legal_aid_centre, region_code=county)
    mediator = f.make_mediator(organization=org)
    spare_mediator = f.make_mediator(organization=org)
    studio = f.make_studio(organization=org, lead=mediator)
    person = f.person("applicant", region_code=county)
    cases = {
        status: f.make_case(
            org,
            status,
            received_on=recent,
            occurred_region_code=county,
            parties=[dict(person) if status == "accepted" else f.person("applicant"), f.person("respondent")],
        )
        for status in ("registered", "accepted", "in_mediation", "concluded")
    }
    confirming = f.make_case(org, "concluded", received_on=recent, confirmation="applied")
    routable = f.make_routed_case(org, applicant=county, respondent=TIANJIN)
    outgoing_case = f.make_routed_case(org, applicant=county, respondent=TIANJIN)
    incoming_case = f.make_routed_case(tianjin_org, applicant=TIANJIN, respondent=county)
    transfer_out = request_transfer(
        SYSTEM, outgoing_case.id, to_organization_id=tianjin_org.id, agreement_code="JJJ-MEDIATION"
    )
    transfer_in = request_transfer(SYSTEM, incoming_case.id, to_organization_id=org.id, agreement_code="JJJ-MEDIATION")
    # Edges of a case's scope: one the side's organisation co-mediates (a Tianjin case, joint request
    # accepted) and one it handed over to Tianjin (transfer accepted: no longer the side's case to work on,
    # only to read).
    co_mediated = f.make_routed_case(tianjin_org, applicant=TIANJIN, respondent=county)
    accept_transfer(
        SYSTEM,
        request_transfer(
            SYSTEM, co_mediated.id, to_organization_id=org.id, agreement_code="JJJ-MEDIATION", mode="joint"
        ).id,
    )
    moved_away = f.make_routed_case(org, applicant=county, respondent=TIANJIN)
    accept_transfer(
        SYSTEM,
        request_transfer(SYSTEM, moved_away.id, to_organization_id=tianjin_org.id, agreement_code="JJJ-MEDIATION").id,
    )
    applications = _applications(centre, tianjin_centre, county, recent)
    sub, _ = subscriptions.create_subscription(
        SYSTEM,
        {
            "organization_id": gc.id,
            "region_code": province,
            "frequency": "monthly",
            "endpoint_url": f"https://{scope}.governance.example/reports",
        },
    )
    snapshot = subscriptions.freeze_snapshot(sub, date(2026, 1, 1), date(2026, 1, 31), utcnow())
    delivery = db.session.scalar(db.select(ReportDelivery).where(ReportDelivery.snapshot_id == snapshot.id))
    delivery.status, delivery.attempts = DeliveryStatus.failed, 5
    job = import_jobs.create_job(SYSTEM, organization_id=org.id, filename="历史案件.csv", upload=import_file())
    import_jobs.run_job(job.id)
    other_user = f.make_user(role=Role.mediator, organization=org)
    export_job = export_of(other_user)
    notice = notify(kind="test", message=f"{label}的通知", organization_id=org.id, region_code=county)
    set_aside = set_aside_message(scope)
    db.session.flush()
    accepted = db.session.get(type(cases["accepted"]), cases["accepted"].id)
    return {
        "county": county,
        "province": province,
        "org": org.id,
        "gc": gc.id,
        "centre": centre.id,
        "mediator": mediator.id,
        "spare_mediator": spare_mediator.id,
        "studio": studio.id,
        **{f"case_{status}": case.id for status, case in cases.items()},
        "case_confirming": confirming.id,
        "case_routable": routable.id,
        "party": accepted.parties[0].id,
        "person_id_number": person["id_number"],
        "transfer_in": transfer_in.id,
        "transfer_out": transfer_out.id,
        "case_co_mediated": co_mediated.id,
        "co_mediated_party": co_mediated.parties[0].id,
        "case_moved_away": moved_away.id,
        "moved_away_party": moved_away.parties[0].id,
        **{f"la_{status}": app.id for status, app in applications.items()},
        "subscription": sub.id,
        "snapshot": snapshot.id,
        "delivery": delivery.id,
        "user": other_user.id,
        "import_job": job.id,
        "export_job": export_job,
        "notification": notice.id,
        "set_aside_message": set_aside,
        "agreement": "JJJ-MEDIATION" if scope == "in" else "GD-PAIR-GZ",
        **_agreements(scope),
        **_proposals(scope),
        "org_name": org.name,
        "mediator_name": mediator.name,
        "studio_name": studio.name,
        "case_accepted_number": cases["accepted"].number,
        "la_accepted_number": applications["accepted"].number,
    }


def set_aside_message(scope: str) -> str:
    """A message to a peer hub set aside as undeliverable (its peer was removed), for an administrator to send
    again from the federation page; returns its id."""
    message_id = f"msg_matrix_{scope}"
    envelope = {"id": message_id, "type": "directory.snapshot", "version": 1, "payload": {"organizations": []}}
    db.session.add(
        OutboxMessage(
            id=message_id,
            to_hub=f"matrix-{scope}",
            type="directory.snapshot",
            version=1,
            conversation_id=f"directory/matrix-{scope}",
            sequence=1,
            envelope=envelope,
            status=OutboxStatus.undeliverable,
            attempts=3,
            last_error="peer_removed",
        )
    )
    return message_id


def export_of(user) -> int:
    """A finished csv export of the case list asked for by ``user`` (only they may see it or its file)."""
    job = exports.queue_case_list_export(user.to_actor(), fmt="csv", filters={}, audit_filters={})
    exports.run_export(job.id)
    return job.id


def import_file() -> io.BytesIO:
    """A csv in the import layout with its header and no rows (an import that finishes at once)."""
    return io.BytesIO((",".join(HEADER) + "\r\n").encode("utf-8-sig"))


def _agreements(scope: str) -> dict:
    """An active and an inactive agreement the side's keepers may change: Beijing–Tianjin for ``in``,
    Guangzhou–Qingyuan (no Beijing member) for ``out``."""
    members = ["110105", TIANJIN] if scope == "in" else ["440100", "441800"]
    codes = {}
    for key, active in (("matrix_agreement", True), ("matrix_agreement_off", False)):
        code = f"MATRIX-{scope.upper()}-{'ON' if active else 'OFF'}"
        agreements.create_agreement(
            SYSTEM,
            {
                "code": code,
                "name": f"矩阵测试协议{code}",
                "kind": AgreementKind.pairing,
                "scope": AgreementScope.mediation,
                "member_codes": members,
                "signed_on": date(2026, 1, 5),
            },
        )
        if not active:
            agreements.deactivate_agreement(SYSTEM, code)
        codes[key] = code
    return {**codes, "agreement_members": members}


def _proposals(scope: str) -> dict:
    """A pending proposal no member region has confirmed yet (a change of an agreement kept for it, so the
    agreement rows above stay free to propose), and a pending proposal of a new agreement, both by the
    system: Beijing–Tianjin members for ``in``, Guangzhou–Qingyuan for ``out``."""
    members = ["110105", TIANJIN] if scope == "in" else ["440100", "441800"]
    code = f"MATRIX-{scope.upper()}-PROP"
    agreements.create_agreement(
        SYSTEM,
        {
            "code": code,
            "name": f"矩阵测试协议{code}",
            "kind": AgreementKind.pairing,
            "scope": AgreementScope.mediation,
            "member_codes": members,
            "signed_on": date(2026, 1, 5),
        },
    )
    change = agreement_proposals.propose_change(SYSTEM, code, {"response_working_days": 7})
    new = agreement_proposals.propose_agreement(SYSTEM, _new_agreement(f"MATRIX-{scope.upper()}-NEW", members))
    return {"proposal": change.id, "proposal_code": code, "own_proposal": new.id}


def _new_agreement(code: str, members: list[str]) -> dict:
    return {
        "code": code,
        "name": f"矩阵测试提议{code}",
        "kind": AgreementKind.pairing,
        "scope": AgreementScope.mediation,
        "member_codes": members,
        "signed_on": date(2026, 1, 5),
    }


def _applications(centre, tianjin_centre, county: str, recent: date) -> dict:
    """Legal-aid applications held by the side's centre in each state a transition starts from."""

    def filed(at, matter):
        return legal_aid.file_application(
            SYSTEM, application_data(at.id, matter_region_code=matter, received_on=recent)
        )

    apps = {"filed": filed(centre, TIANJIN)}  # not competent: to be passed to Tianjin
    handed = filed(tianjin_centre, county)
    apps["transferred"] = legal_aid.transfer_application(SYSTEM, handed.id, to_centre_id=centre.id)
    # passed on: filed at the side's centre, handed over to the competent Tianjin centre (read-only here now)
    apps["passed_on"] = legal_aid.transfer_application(
        SYSTEM, filed(centre, TIANJIN).id, to_centre_id=tianjin_centre.id
    )
    for status in ("accepted", "granted", "assigned"):
        app = legal_aid.accept_application(SYSTEM, filed(centre, county).id)
        if status in ("granted", "assigned"):
            app = legal_aid.decide_application(SYSTEM, app.id, granted=True)
        if status == "assigned":
            app = legal_aid.assign_lawyer(SYSTEM, app.id, lawyer_name="张律师")
        apps[status] = app
    return apps


@dataclass
class Factories:
    make_org: object
    make_user: object
    make_mediator: object
    make_studio: object
    make_case: object
    make_routed_case: object
    person: object


@pytest.fixture(scope="module")
def matrix_transaction(app, tmp_path_factory):
    """One outer transaction for the whole module, rolled back at its end: the world is built once in it
    (by the first test that asks for it) and every cell runs in a SAVEPOINT inside it. Imports and exports run
    in the request (a background thread would not see the transaction) and keep their files in a temporary
    folder."""
    keys = ("IMPORT_RUN_INLINE", "IMPORT_DIR", "EXPORT_RUN_INLINE", "EXPORT_DIR", "FEDERATION_SEND_AT_ONCE")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(
        FEDERATION_SEND_AT_ONCE=False,  # a message sent again stays queued: no sender thread outside the transaction
        IMPORT_RUN_INLINE=True,
        IMPORT_DIR=str(tmp_path_factory.mktemp("imports")),
        EXPORT_RUN_INLINE=True,
        EXPORT_DIR=str(tmp_path_factory.mktemp("exports")),
    )
    with app.app_context():
        engine = db.engines[None]
        connection = engine.connect()
        outer = connection.begin()
        db.engines[None] = connection
        db.session.configure(join_transaction_mode="create_savepoint")
        state: dict = {}
        try:
            yield state
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            db.engines[None] = engine
            app.config.update(saved)


@pytest.fixture(autouse=True)
def _rollback_per_test(app, matrix_transaction):
    """Replaces tests/conftest.py's fixture of the same name for this module: the tests share the module's
    outer transaction (and so the world); each cell rolls back its own SAVEPOINT (see ``run_cell``)."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def world(matrix_transaction, make_org, make_user, make_mediator, make_studio, make_case, make_routed_case) -> World:
    if "world" not in matrix_transaction:
        f = Factories(make_org, make_user, make_mediator, make_studio, make_case, make_routed_case, person)
        matrix_transaction["world"] = build_world(f)
        db.session.commit()
    return matrix_transaction["world"]


def build_world(f: Factories) -> World:
    recent = today_shanghai() - timedelta(days=10)
    tianjin_org = f.make_org(name="天津和平人民调解委员会", region_code=TIANJIN)
    tianjin_centre = f.make_org(name="天津和平法律援助中心", kind=OrgKind.legal_aid_centre, region_code=TIANJIN)
    sides = {scope: _build_side(scope, f, tianjin_org, tianjin_centre, recent) for scope in SIDES}
    for side in sides.values():
        side["tianjin_org"], side["tianjin_centre"] = tianjin_org.id, tianjin_centre.id
    bj = sides["in"]
    users = {
        "admin": f.make_user(role=Role.admin),
        "registry_admin": f.make_user(role=Role.registry_admin, region_code="110000"),
        "mediator": f.make_user(
            role=Role.mediator, organization=db.session.get(Organization, bj["org"]), mediator_id=bj["mediator"]
        ),
        "legal_aid_officer": f.make_user(
            role=Role.legal_aid_officer, organization=db.session.get(Organization, bj["centre"])
        ),
        "coordinator": f.make_user(
            role=Role.coordinator, region_code="110000", organization=db.session.get(Organization, bj["gc"])
        ),
    }
    w = World(sides=sides, users={role: user.id for role, user in users.items()})
    for role, user in users.items():
        w.tokens[role], _ = issue_token(user, timedelta(hours=1))
        note = notify(kind="test", message=f"给{role}的通知", user_id=user.id)
        w.per_role[role] = {"notification": note.id, "username": user.username, "export_job": export_of(user)}
        if role in ("admin", "coordinator"):  # a proposal of their own, to withdraw (Beijing–Tianjin members)
            own = agreement_proposals.propose_agreement(
                user.to_actor(), _new_agreement(f"MATRIX-{role.upper()}-NEW", ["110105", TIANJIN])
            )
            w.per_role[role]["own_proposal"] = own.id
    return w
