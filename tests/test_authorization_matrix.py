"""The authorization matrix: every API call and every page, for every role and for anonymous callers, on a
record inside and a record outside the caller's scope, answers exactly what tests/authz_table.py says.

The world (built in each test, rolled back after it) has a Beijing side, where every signed-in user of the
matrix works, and a Hebei side, where none does:

- admin: no organisation, no region (the whole country);
- registry_admin and coordinator: region 北京市 110000 (the coordinator works at the Beijing governance centre);
- mediator: 北京朝阳 people's mediation committee; legal_aid_officer: 北京朝阳 legal-aid centre.

Each side has its organisations, mediators, a studio, cases in every state a transition starts from, pending
incoming and outgoing transfers (with a Tianjin partner), legal-aid applications in every state, a report
subscription with a snapshot and a failed delivery, and a notification. A cell runs inside a SAVEPOINT that is
rolled back after it, so one cell's accepted case or revoked token never changes the next cell's answer.

A row's test reports every cell that differs from the table at once (role, scope, expected, got)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from flask import g

from mediation_hub.agreements import service as agreements
from mediation_hub.agreements.models import AgreementKind, AgreementScope
from mediation_hub.auth.service import issue_token
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.db import utcnow
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from mediation_hub.legal_aid import service as legal_aid
from mediation_hub.notifications.service import notify
from mediation_hub.registry.models import Organization, OrgKind
from mediation_hub.reporting import subscriptions
from mediation_hub.reporting.models import DeliveryStatus
from mediation_hub.transfers.service import request_transfer
from tests import authz_table as table
from tests.factories_cases import person
from tests.factories_legal_aid import application_data

API_PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Not pages: static files and the API (its docs page is an API row).
NOT_PAGES = {"static"}


# --- the world --------------------------------------------------------------------------------------------

@dataclass
class World:
    sides: dict[str, dict]                              # "in" (Beijing) and "out" (Hebei): name -> id or code
    per_role: dict[str, dict] = field(default_factory=dict)   # role -> names whose record depends on the role
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
    cases = {status: f.make_case(org, status, received_on=recent, occurred_region_code=county,
                                 parties=[dict(person) if status == "accepted" else f.person("applicant"),
                                          f.person("respondent")])
             for status in ("registered", "accepted", "in_mediation", "concluded")}
    confirming = f.make_case(org, "concluded", received_on=recent, confirmation="applied")
    routable = f.make_routed_case(org, applicant=county, respondent=TIANJIN)
    outgoing_case = f.make_routed_case(org, applicant=county, respondent=TIANJIN)
    incoming_case = f.make_routed_case(tianjin_org, applicant=TIANJIN, respondent=county)
    transfer_out = request_transfer(SYSTEM, outgoing_case.id, to_organization_id=tianjin_org.id,
                                    agreement_code="JJJ-MEDIATION")
    transfer_in = request_transfer(SYSTEM, incoming_case.id, to_organization_id=org.id,
                                   agreement_code="JJJ-MEDIATION")
    applications = _applications(centre, tianjin_centre, county, recent)
    sub, _ = subscriptions.create_subscription(SYSTEM, {
        "organization_id": gc.id, "region_code": province, "frequency": "monthly",
        "endpoint_url": f"https://{scope}.governance.example/reports"})
    snapshot = subscriptions.freeze_snapshot(sub, date(2026, 1, 1), date(2026, 1, 31), utcnow())
    delivery = snapshot.deliveries[0] if hasattr(snapshot, "deliveries") else None
    if delivery is None:
        from mediation_hub.reporting.models import ReportDelivery

        delivery = db.session.scalar(db.select(ReportDelivery).where(ReportDelivery.snapshot_id == snapshot.id))
    delivery.status, delivery.attempts = DeliveryStatus.failed, 5
    other_user = f.make_user(role=Role.mediator, organization=org)
    notice = notify(kind="test", message=f"{label}的通知", organization_id=org.id, region_code=county)
    db.session.flush()
    accepted = db.session.get(type(cases["accepted"]), cases["accepted"].id)
    return {
        "county": county, "province": province, "org": org.id, "gc": gc.id, "centre": centre.id,
        "mediator": mediator.id, "spare_mediator": spare_mediator.id, "studio": studio.id,
        **{f"case_{status}": case.id for status, case in cases.items()},
        "case_confirming": confirming.id, "case_routable": routable.id,
        "party": accepted.parties[0].id, "person_id_number": person["id_number"],
        "transfer_in": transfer_in.id, "transfer_out": transfer_out.id,
        **{f"la_{status}": app.id for status, app in applications.items()},
        "subscription": sub.id, "snapshot": snapshot.id, "delivery": delivery.id,
        "user": other_user.id, "notification": notice.id,
        "agreement": "JJJ-MEDIATION" if scope == "in" else "GD-PAIR-GZ",
        **_agreements(scope),
        "org_name": org.name, "mediator_name": mediator.name, "studio_name": studio.name,
    }


def _agreements(scope: str) -> dict:
    """An active and an inactive agreement the side's keepers may change: Beijing–Tianjin for ``in``,
    Guangzhou–Qingyuan (no Beijing member) for ``out``."""
    members = ["110105", TIANJIN] if scope == "in" else ["440100", "441800"]
    codes = {}
    for key, active in (("matrix_agreement", True), ("matrix_agreement_off", False)):
        code = f"MATRIX-{scope.upper()}-{'ON' if active else 'OFF'}"
        agreements.create_agreement(SYSTEM, {"code": code, "name": f"矩阵测试协议{code}", "kind": AgreementKind.pairing,
                                             "scope": AgreementScope.mediation, "member_codes": members,
                                             "signed_on": date(2026, 1, 5)})
        if not active:
            agreements.deactivate_agreement(SYSTEM, code)
        codes[key] = code
    return {**codes, "agreement_members": members}


def _applications(centre, tianjin_centre, county: str, recent: date) -> dict:
    """Legal-aid applications held by the side's centre in each state a transition starts from."""
    def filed(at, matter):
        return legal_aid.file_application(SYSTEM, application_data(at.id, matter_region_code=matter,
                                                                   received_on=recent))

    apps = {"filed": filed(centre, TIANJIN)}                       # not competent: to be passed to Tianjin
    handed = filed(tianjin_centre, county)
    apps["transferred"] = legal_aid.transfer_application(SYSTEM, handed.id, to_centre_id=centre.id)
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
def matrix_transaction(app):
    """One outer transaction for the whole module, rolled back at its end: the world is built once in it
    (by the first test that asks for it) and every cell runs in a SAVEPOINT inside it."""
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


@pytest.fixture(autouse=True)
def _rollback_per_test(app, matrix_transaction):
    """Replaces tests/conftest.py's fixture of the same name for this module: the tests share the module's
    outer transaction (and so the world); each cell rolls back its own SAVEPOINT (see ``run_cell``)."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def world(matrix_transaction, make_org, make_user, make_mediator, make_studio, make_case,
          make_routed_case) -> World:
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
        "mediator": f.make_user(role=Role.mediator, organization=db.session.get(Organization, bj["org"]),
                                mediator_id=bj["mediator"]),
        "legal_aid_officer": f.make_user(role=Role.legal_aid_officer,
                                         organization=db.session.get(Organization, bj["centre"])),
        "coordinator": f.make_user(role=Role.coordinator, region_code="110000",
                                   organization=db.session.get(Organization, bj["gc"])),
    }
    w = World(sides=sides, users={role: user.id for role, user in users.items()})
    for role, user in users.items():
        w.tokens[role], _ = issue_token(user, timedelta(hours=1))
        note = notify(kind="test", message=f"给{role}的通知", user_id=user.id)
        w.per_role[role] = {"notification": note.id, "username": user.username}
    return w


# --- running one cell ---------------------------------------------------------------------------------------

def _signed_in_client(app, user_id: int | None):
    from flask_login.utils import _create_identifier

    client = app.test_client()
    if user_id is not None:
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        with client.session_transaction() as sess:
            sess["_user_id"], sess["_fresh"], sess["_id"] = str(user_id), True, identifier
    return client


def _send(app, w: World, row: table.Row, role: str, scope: str):
    values = w.values(role, scope)
    url = row.path.format(**values)
    body = row.body(table.Values(values)) if row.body else None
    user = w.users.get(role)
    if row.is_api:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {w.tokens[role]}"} if role in w.tokens else {}
        kwargs = {"json": body} if body is not None else {}
        return client.open(url, method=row.method, headers=headers, **kwargs)
    client = _signed_in_client(app, user)
    return client.open(url, method=row.method, data=body or {})


def run_cell(app, w: World, row: table.Row, role: str, scope: str):
    """The answer to one cell, inside a SAVEPOINT rolled back afterwards (nothing a cell does stays)."""
    connection = db.engines[None]
    db.session.commit()
    savepoint = connection.begin_nested()
    try:
        for name in list(g):  # the test's app context is reused by the client: start each request afresh
            g.pop(name)
        return _send(app, w, row, role, scope)
    finally:
        db.session.remove()
        savepoint.rollback()


def answer_of(response) -> object:
    """What the table writes for a response: the status, or LOGIN for a redirect to the sign-in page."""
    if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return table.LOGIN
    return response.status_code


# --- the tests ------------------------------------------------------------------------------------------

CELLS = [pytest.param(row, role, scope, id=f"{row.id} | {role} | {scope}")
         for row in table.ROWS for role in table.ROLES for scope in ("in", "out")]


@pytest.mark.parametrize(("row", "role", "scope"), CELLS)
def test_cell(app, world, row, role, scope):
    """One cell of the table: this call, by this role, on the record inside or outside its scope."""
    response = run_cell(app, world, row, role, scope)
    expected = row.expected(role, scope)
    assert answer_of(response) == expected, response.get_data(as_text=True)[:500]


LIST_CELLS = [pytest.param(url, record, item, role, id=f"{url} | {role}")
              for url, record, item in table.LISTS for role in table.ROLES if role != "anonymous"]


@pytest.mark.parametrize(("url", "record", "item", "role"), LIST_CELLS)
def test_list_shows_exactly_the_reachable_records(app, world, url, record, item, role):
    """A list never shows a record its item call hides (404), and shows the ones the caller may reach."""
    row = table.ROWS_BY_ID[item]
    list_row = table.Row("GET", url, url, {}, is_api=True)
    response = run_cell(app, world, list_row, role, "in")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    shown = {entry["id"] for entry in response.json["items"]}
    assert response.json["total"] <= 100, "the list is longer than one page: raise per_page"
    for scope in ("in", "out"):
        record_id = world.values(role, scope)[record]
        reachable = row.expected(role, scope) != 404
        assert (record_id in shown) == reachable, f"{scope} record {record}={record_id}: reachable={reachable}"


def _api_calls(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith(API_PREFIX + "/")
            for method in rule.methods - IGNORED_METHODS}


def _page_calls(app) -> set[tuple[str, str]]:
    return {(method, rule.endpoint) for rule in app.url_map.iter_rules()
            if not rule.rule.startswith(API_PREFIX + "/") and rule.endpoint not in NOT_PAGES
            for method in rule.methods - IGNORED_METHODS}


def test_every_api_call_has_a_row(app):
    covered = {(row.method, row.rule) for row in table.ROWS if row.is_api}
    missing = sorted(_api_calls(app) - covered, key=lambda c: c[1])
    assert not missing, "API calls without a row in tests/authz_table.py: " + json.dumps(missing)


def test_every_page_has_a_row(app):
    covered = {(row.method, row.endpoint) for row in table.ROWS if not row.is_api}
    missing = sorted(_page_calls(app) - covered, key=lambda c: c[1])
    assert not missing, "Pages without a row in tests/authz_table.py: " + json.dumps(missing)


def test_every_row_names_a_real_call(app):
    """A row for a call that no longer exists is stale (it would pass while proving nothing)."""
    api, pages = _api_calls(app), _page_calls(app)
    stale = [row.id for row in table.ROWS
             if (row.method, row.rule) not in api and (row.method, row.endpoint) not in pages]
    assert not stale, stale
