"""The authorization matrix: every API call and every page, for every role and for anonymous callers, on a
record inside and a record outside the caller's scope, answers exactly what tests/authz_table.py says.

The world (tests/authz_world.py) has a Beijing side, where every signed-in user of the matrix works, and a
Hebei side, where none does:

- admin: no organisation, no region (the whole country);
- registry_admin and coordinator: region 北京市 110000 (the coordinator works at the Beijing governance centre);
- mediator: 北京朝阳 people's mediation committee; legal_aid_officer: 北京朝阳 legal-aid centre.

It is built once for the module, with the factories and the services, in an outer transaction rolled back at
the module's end. Each cell (one call, one role, one record) is a test of its own and runs inside a SAVEPOINT
that is rolled back after it, so one cell's accepted case or revoked token never changes the next cell's
answer. The completeness tests fail when the app has an /api/v1 call or a page the table has no row for.

The rows a package's permission policy decides (``follows=policy(...)`` in the table) are checked against the
policies too (``test_the_table_follows_the_policies``): the page and the endpoint of one action read the same
policy, and the table cannot say otherwise."""

from __future__ import annotations

import json
import re

import pytest
from flask import g

from mediation_hub import policies
from mediation_hub.agreements.models import Agreement, AgreementProposal
from mediation_hub.cases.models import Case
from mediation_hub.core.policy import Policy
from mediation_hub.extensions import db
from mediation_hub.legal_aid.models import LegalAidApplication
from mediation_hub.registry.models import Organization
from mediation_hub.transfers.models import Transfer
from tests import authz_table as table
from tests import authz_world
from tests.authz_world import World

# Slow (every call of the API for every role and scope, about 3,000 cases): `make test` runs it, `make test-fast`
# does not.
pytestmark = pytest.mark.slow

API_PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Not pages: static files and the API (its docs page is an API row).
NOT_PAGES = {"static"}

# The shared world (tests/authz_world.py): one outer transaction for this module, replacing conftest's.
matrix_transaction = authz_world.matrix_transaction
_rollback_per_test = authz_world._rollback_per_test
world = authz_world.world


# --- running one cell ---------------------------------------------------------------------------------------


def _signed_in_client(app, user_id: int | None):
    from mediation_hub.auth.models import User
    from tests.conftest import sign_in_client

    client = app.test_client()
    if user_id is not None:
        sign_in_client(client, db.session.get(User, user_id))  # a server-side session, as sign-in makes
    return client


def _send(app, w: World, row: table.Row, role: str, scope: str):
    values = w.values(role, scope)
    url = row.path.format(**values)
    body = row.body(table.Values(values)) if row.body else None
    user = w.users.get(role)
    if row.is_api:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {w.tokens[role]}"} if role in w.tokens else {}
        multipart = body is not None and any(isinstance(value, tuple) for value in body.values())
        kwargs = {} if body is None else {"data": body} if multipart else {"json": body}
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

CELLS = [
    pytest.param(row, role, scope, id=f"{row.id} | {role} | {scope}")
    for row in table.ROWS
    for role in table.ROLES
    for scope in ("in", "out")
]


@pytest.mark.parametrize(("row", "role", "scope"), CELLS)
def test_cell(app, world, row, role, scope):
    """One cell of the table: this call, by this role, on the record inside or outside its scope."""
    response = run_cell(app, world, row, role, scope)
    expected = row.expected(role, scope)
    assert answer_of(response) == expected, response.get_data(as_text=True)[:500]


LIST_CELLS = [
    pytest.param(url, record, item, role, id=f"{url} | {role}")
    for url, record, item in table.LISTS
    for role in table.ROLES
    if role != "anonymous"
]


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


PAGE_LIST_CELLS = [
    pytest.param(url, text, item, role, id=f"{url} | {role}")
    for url, text, item in table.PAGE_LISTS
    for role in table.ROLES
    if role != "anonymous"
]


@pytest.mark.parametrize(("url", "text", "item", "role"), PAGE_LIST_CELLS)
def test_page_names_exactly_the_reachable_records(app, world, url, text, item, role):
    """A list page never names a record its item call hides (404), and names the ones the caller reaches."""
    row = table.ROWS_BY_ID[item]
    response = run_cell(app, world, table.Row("GET", url, url, {}), role, "in")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for scope in ("in", "out"):
        name = world.values(role, scope)[text]
        shown = re.search(rf"(?<![0-9]){re.escape(name)}(?![0-9])", html) is not None
        reachable = row.expected(role, scope) != 404
        assert shown == reachable, f"{scope} record {text}={name}: reachable={reachable}"


def _api_calls(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API_PREFIX + "/")
        for method in rule.methods - IGNORED_METHODS
    }


def _page_calls(app) -> set[tuple[str, str]]:
    return {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(API_PREFIX + "/") and rule.endpoint not in NOT_PAGES
        for method in rule.methods - IGNORED_METHODS
    }


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
    stale = [
        row.id for row in table.ROWS if (row.method, row.rule) not in api and (row.method, row.endpoint) not in pages
    ]
    assert not stale, stale


# --- the policies: the table's answers are the permission policies' -------------------------------------------

POLICIES = {policy.package: policy for policy in policies()}
# Policy actions that no answer of a call or a page shows, and where they are tested instead.
NOT_SHOWN_BY_AN_ANSWER = {
    "legal_aid.reveal_applicant": "full numbers inside an application's papers: the same answer, masked or not "
    "(tests/test_documents_legal_aid.py)",
    "privacy.erase_expired": "the retention job: no call, no page (tests/test_privacy_retention.py)",
}
TARGETS = {
    "case": Case,
    "transfer": Transfer,
    "application": LegalAidApplication,
    "proposal": AgreementProposal,
    "organization": Organization,
}


def _rule_of(follows: table.Follows) -> tuple[Policy, str]:
    package, action = follows.action.split(".")
    return POLICIES[package], action


def _target(follows: table.Follows, values: dict):
    """The record a followed action is asked about, as the service passes it (an agreement by its members)."""
    if follows.kind is None:
        return None
    value = values[follows.record]
    if follows.kind == "codes":
        return list(value)
    if follows.kind == "agreement":
        return db.session.get(Agreement, value).member_codes
    return db.session.get(TARGETS[follows.kind], value)


def _allows(actor, follows: table.Follows, values: dict) -> bool:
    policy, action = _rule_of(follows)
    return policy.allows(actor, action, _target(follows, values))


def _refusal_status(follows: table.Follows) -> int:
    policy, action = _rule_of(follows)
    return policy.rule(action).refusal.exception().status


POLICY_CELLS = [
    pytest.param(row, role, scope, id=f"{row.id} | {role} | {scope}")
    for row in table.ROWS
    if row.follows
    for role in table.ROLES
    if role != "anonymous"
    for scope in ("in", "out")
    # a record the role may not know of is hidden by its scope query (404) before any policy is asked
    if row.expected(role, scope) != 404
]


@pytest.mark.parametrize(("row", "role", "scope"), POLICY_CELLS)
def test_the_table_follows_the_policies(world, row, role, scope):
    """Where a policy decides a row, the table's answer is the policy's: the refusal of the first action the
    policy refuses the role on that record, or, when it allows them all, an answer that is none of their
    refusals (done, or a state or input the service refuses after the policy let the actor act)."""
    from mediation_hub.auth.models import User

    actor = db.session.get(User, world.users[role]).to_actor()
    values = world.values(role, scope)
    refused = next((follows for follows in row.follows if not _allows(actor, follows, values)), None)
    expected = row.expected(role, scope)
    if refused is None:
        refusals = {_refusal_status(follows) for follows in row.follows}
        assert expected not in refusals, f"the policies allow {[f.action for f in row.follows]}"
    else:
        assert expected == _refusal_status(refused), f"{refused.action} refuses"


def test_every_policy_action_decides_some_row():
    """Each action of each package's policy is shown by the answers of some call or page (or listed, with where it
    is tested instead); a row never names an action no policy has."""
    followed = {follows.action for row in table.ROWS for follows in row.follows}
    actions = {f"{policy.package}.{action}" for policy in POLICIES.values() for action in policy.rules}
    assert followed <= actions, sorted(followed - actions)
    assert actions - followed == set(NOT_SHOWN_BY_AN_ANSWER)
