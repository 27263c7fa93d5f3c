"""Fuzzing the API with schemathesis, from the hub's own /api/v1/openapi.json.

Every operation gets a bounded number of generated requests (schema-valid ones and deliberately invalid ones),
sent through the WSGI app inside the test's rolled-back transaction, as an administrator and as a mediator.
Path ids are steered to the records of the authorization matrix's world (cases in every state, transfers,
applications, …) so most calls reach the real rules instead of a 404. Every answer must

- not be a server error (500),
- carry a status the operation documents explicitly (the catch-all ``default`` does not count: 401, 403,
  404, 409 and 422 are documented centrally in mediation_hub/api.py),
- match the documented schema of that status (success bodies and the one JSON error shape alike).

Deterministic (``derandomize``), no example database, no deadline: the same requests on every run.

The operations are parametrised from the authorization table (one test per operation and role, each in a
SAVEPOINT of the module's transaction) and Hypothesis is driven directly with each operation's strategy:
schemathesis' own lazy pytest integration (``schemathesis.pytest.from_fixture``) fails on pytest 9.2 (it sets
``Function._nodeid``, which pytest 9 no longer has)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import schemathesis
from flask import g
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.hooks import HookDispatcher, HookScope
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mediation_hub.auth.models import User
from mediation_hub.auth.service import issue_token
from mediation_hub.extensions import db
from tests import authz_table as table
from tests import authz_world
from tests.authz_world import World

# Slow (fuzzes every operation of the OpenAPI document): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

# The shared world (tests/authz_world.py): one outer transaction for this module, replacing conftest's.
matrix_transaction = authz_world.matrix_transaction
_rollback_per_test = authz_world._rollback_per_test
world = authz_world.world

EXAMPLES_PER_OPERATION = 12
FUZZ_ROLES = ("admin", "mediator")
STEERED_BELOW = 2**31  # ids the database can hold are steered to real records; others test the edges

# Path parameter -> the world's records it is steered to (per side: both sides are used).
RECORDS = {
    "case_id": (
        "case_registered",
        "case_accepted",
        "case_in_mediation",
        "case_concluded",
        "case_confirming",
        "case_routable",
        "case_co_mediated",
        "case_moved_away",
    ),
    "organization_id": ("org", "gc", "centre"),
    "mediator_id": ("mediator",),
    "studio_id": ("studio",),
    "transfer_id": ("transfer_in", "transfer_out"),
    "application_id": ("la_filed", "la_transferred", "la_accepted", "la_granted", "la_assigned", "la_passed_on"),
    "subscription_id": ("subscription",),
    "delivery_id": ("delivery",),
    "snapshot_id": ("snapshot",),
    "notification_id": ("notification",),
    "job_id": ("import_job",),
    "export_id": ("export_job",),
    "proposal_id": ("proposal", "own_proposal"),
}
CODES = {
    "/api/v1/regions/": ("county", "province"),
    "/api/v1/agreements/": ("matrix_agreement", "matrix_agreement_off", "agreement"),
}
# A party id only names a party of its own case: the two are steered together.
CASE_PARTIES = (
    ("case_accepted", "party"),
    ("case_co_mediated", "co_mediated_party"),
    ("case_moved_away", "moved_away_party"),
)


def steer_path_parameters(world: World, role: str):
    """A schemathesis ``map_path_parameters`` hook: a generated id picks one of the world's records of that
    kind (by its value, so the run stays deterministic); a negative id, or one beyond the database's integer
    range, stays as generated, and so does a code that is not plain ASCII."""
    sides = [world.values(role, scope) for scope in ("in", "out")]
    known = {name: [side[key] for side in sides for key in keys] for name, keys in RECORDS.items()}
    codes = {prefix: [side[key] for side in sides for key in keys] for prefix, keys in CODES.items()}
    parties = [(side[case], side[party]) for side in sides for case, party in CASE_PARTIES]

    def map_path_parameters(ctx, path_parameters):
        steered = dict(path_parameters or {})
        for name, value in steered.items():
            if isinstance(value, int) and 0 <= value < STEERED_BELOW and known.get(name):
                steered[name] = known[name][value % len(known[name])]
            elif name == "code" and isinstance(value, str) and value.isascii():
                choices = next(c for prefix, c in codes.items() if ctx.operation.path.startswith(prefix))
                steered[name] = choices[len(value) % len(choices)]
        party = steered.get("party_id")
        if isinstance(party, int) and 0 <= party < STEERED_BELOW:
            steered["case_id"], steered["party_id"] = parties[party % len(parties)]
        return steered

    return map_path_parameters


def _operations() -> list[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every documented call, from the authorization table (which has a row for
    every /api/v1 call, see tests/test_authorization_matrix.py); the docs page and the spec are not operations."""
    calls = {(row.method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", row.rule)) for row in table.API_ROWS}
    return sorted(calls - {("GET", "/api/v1/docs"), ("GET", "/api/v1/openapi.json")}, key=lambda c: (c[1], c[0]))


@pytest.fixture(scope="module")
def openapi_schema(app):
    """The hub's OpenAPI document as schemathesis reads it from the app, with the checks' settings."""
    with app.app_context():
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
        deterministic=True,
        database="none",
    )
    return schema


@pytest.fixture
def fuzz_savepoint(app, world):
    """Whatever the fuzzing writes is rolled back after each test (the world stays for the next one)."""
    connection = db.engines[None]
    db.session.commit()
    savepoint = connection.begin_nested()
    yield
    db.session.remove()
    savepoint.rollback()


def test_the_spec_documents_exactly_the_table_calls(openapi_schema):
    documented = {(op.ok().method.upper(), op.ok().path) for op in openapi_schema.get_all_operations()}
    assert documented == set(_operations())


def explicitly_documented_status(ctx, response, case):
    """The status is listed on the operation itself; the catch-all ``default`` response does not count."""
    documented = {str(code) for code in case.operation.definition.raw.get("responses", {}) if code != "default"}
    status = str(response.status_code)
    if status not in documented:
        raise AssertionError(
            f"{case.operation.label} answered {status}, which it does not document "
            f"(documents {sorted(documented)}): {response.text[:300]}"
        )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    explicitly_documented_status,
]


@pytest.mark.parametrize("role", FUZZ_ROLES)
@pytest.mark.parametrize(("method", "path"), _operations(), ids=[f"{m} {p}" for m, p in _operations()])
def test_operation_answers_as_documented(openapi_schema, world, fuzz_savepoint, method, path, role):
    operation = openapi_schema[path][method]
    hooks = HookDispatcher(scope=HookScope.TEST)
    hooks.register_hook_with_name(steer_path_parameters(world, role), "map_path_parameters")
    strategy = st.one_of(
        *(
            operation.as_strategy(generation_mode=mode, hooks=hooks)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        )
    )
    user = db.session.get(User, world.users[role])

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        for name in list(g):  # the test's app context is reused by every request: start each one afresh
            g.pop(name)
        token, _ = issue_token(user, timedelta(hours=1))  # afresh: a fuzzed DELETE /auth/token revokes it
        db.session.flush()
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=CHECKS)

    fuzz()


# --- explicit hostile requests ------------------------------------------------------------------------------
# What the generated requests never hold (schemathesis draws valid UTF-8 without NUL, nested a few levels deep):
# every documented call that takes a JSON body gets each of these bodies once, and every call with query
# parameters a NUL in each of them. The answer is a 400 or a 422 the call documents, in the one error shape.

HOSTILE_DEPTH = 100_000
HOSTILE_BODIES = {
    "nested 1000 deep": "[" * 1000 + "]" * 1000,
    "nested 100000 deep": '{"a":' * HOSTILE_DEPTH + "1" + "}" * HOSTILE_DEPTH,
    "lone surrogate": '{"name": "\\ud800", "summary": "x\\udfffy", "\\ud800": 1}',
    "NUL": '{"name": "a\\u0000b", "summary": "\\u0000", "reason": "\\u0000"}',
}
# A deep body larger than a call takes (the anonymous token call: a few KB) is refused unread: 413.
HOSTILE_STATUS = {
    "nested 1000 deep": (400, 413),
    "nested 100000 deep": (400, 413),
    "lone surrogate": (422,),
    "NUL": (422,),
}


def _answer_problem(operation, response, expected: tuple[int, ...]) -> str | None:
    """Why ``response`` is not one of the documented refusals ``expected``, or None."""
    documented = {str(code) for code in operation.definition.raw.get("responses", {}) if code != "default"}
    body = response.get_json(silent=True) or {}
    status = response.status_code
    if status not in expected:
        return f"answered {status}, not {expected}: {response.get_data(as_text=True)[:200]}"
    if str(status) not in documented:
        return f"does not document {status} (documents {sorted(documented)})"
    if not {"code", "status", "message"} <= set(body) or body["code"] != status:
        return f"answered {body} instead of the error shape"
    return None


@pytest.mark.parametrize("role", FUZZ_ROLES)
def test_hostile_bodies_and_queries_are_refused_as_documented(openapi_schema, world, fuzz_savepoint, client, role):
    user = db.session.get(User, world.users[role])
    token, _ = issue_token(user, timedelta(hours=1))
    db.session.commit()  # kept by the error answers' rollback (fuzz_savepoint undoes it at the end)
    headers = {"Authorization": f"Bearer {token}"}

    def send(url: str, method: str, **kwargs):
        for name in list(g):  # the test's app context is reused by every request: start each one afresh
            g.pop(name)
        return client.open(url, method=method, headers=headers, **kwargs)

    problems = []
    for method, path in _operations():
        if (method, path) == ("DELETE", "/api/v1/auth/token"):
            continue  # it would revoke the token the other calls use
        operation = openapi_schema[path][method]
        raw = operation.definition.raw
        url = re.sub(r"\{\w+\}", "1", path)  # refused at the edge, before any record is looked up
        if "requestBody" in raw and "application/json" in raw["requestBody"].get("content", {}):
            for name, text in HOSTILE_BODIES.items():
                response = send(url, method, data=text.encode("utf-8"), content_type="application/json")
                problem = _answer_problem(operation, response, HOSTILE_STATUS[name])
                if problem:
                    problems.append(f"{method} {path} with {name}: {problem}")
        for parameter in raw.get("parameters", []):
            if parameter.get("in") == "query":
                response = send(f"{url}?{parameter['name']}=a%00b", method)
                problem = _answer_problem(operation, response, (422,))
                if problem:
                    problems.append(f"{method} {path} with a NUL in {parameter['name']}: {problem}")
    assert problems == []
