"""The API's error answers and their documentation: regressions for what the schemathesis run
(tests/test_fuzz_api.py) found, each pinned down by one direct request."""

from __future__ import annotations

import pytest

from mediation_hub.core.actor import Role
from mediation_hub.errors import NUL_IN_TEXT, NUMBER_OUT_OF_RANGE, refused_value

ERROR_KEYS = {"code", "status", "error", "message"}
HUGE = 10**20  # beyond 64 bits: SQLite cannot bind it, PostgreSQL's int4 ids cannot hold it


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


def test_every_operation_documents_its_errors_with_the_one_error_shape(spec):
    """401/403/404 on every signed-in call, 409/422 on every write, each a reference to a response whose body
    is the Error schema (code, status and message required)."""
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == ERROR_KEYS
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            public = operation.get("security") == []
            expected = {"401", "503"} | ({"429"} if public else {"403", "404"})
            if method in ("post", "patch", "delete") and not public:
                expected |= {"409", "422"}
            assert expected <= set(responses), f"{method.upper()} {path}: {sorted(responses)}"
            for status in expected:
                name = responses[status]["$ref"].rsplit("/", 1)[-1]
                body = spec["components"]["responses"][name]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_the_spec_states_every_bound_as_a_number(spec):
    """A Decimal field's Range validator became the string "0.00" as ``minimum``: an invalid document."""
    bad = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("minimum", "maximum") and not isinstance(value, int | float):
                    bad.append(f"{where}/{key}={value!r}")
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(spec, "")
    assert bad == []
    assert spec["components"]["schemas"]["CaseIn"]["properties"]["amount_yuan"]["minimum"] == 0


def test_amounts_read_as_the_strings_the_spec_documents(spec, api_as, make_case):
    """Amounts are written as "1200.00"; the spec said number, so every case with an agreement broke it."""
    for name in ("amount_yuan", "agreement_amount_yuan"):
        assert spec["components"]["schemas"]["CaseOut"]["properties"][name]["type"] == "string"
    api = api_as(role=Role.admin)
    case = make_case(status="concluded")  # the factory's agreement is worth 1200 yuan
    assert api.get(f"/api/v1/cases/{case.id}").json["agreement_amount_yuan"] == "1200.00"


def test_a_request_refused_by_its_schema_answers_the_one_error_shape(api_as):
    """webargs' 422 went through flask-smorest's own handler, whose body had no message."""
    response = api_as(role=Role.admin).post("/api/v1/cases", json={})
    assert response.status_code == 422
    assert set(response.json) >= ERROR_KEYS and response.json["message"]
    assert "parties" in response.json["errors"]["json"]


def test_a_body_that_is_not_json_is_a_400_with_the_one_error_shape(api_as):
    response = api_as(role=Role.admin).post("/api/v1/cases", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json) >= ERROR_KEYS and response.json["message"]


def test_a_page_abort_renders_the_error_page_not_json(signed_in, make_user):
    """flask-smorest's handler answered every HTTP error, pages included, with JSON."""
    client = signed_in(make_user(role=Role.mediator))
    response = client.get("/cases/export.pdf")  # an export format that does not exist: abort(404)
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize(
    "url", [f"/api/v1/cases/{HUGE}", f"/api/v1/mediators/{HUGE}", f"/cases/{HUGE}", f"/api/v1/cases/{2**31}/events"]
)
def test_an_id_beyond_the_database_range_is_not_found(api_as, signed_in, make_user, url):
    """A path id of 20 digits reached SQLite, which cannot bind it: a 500."""
    if url.startswith("/api/"):
        response = api_as(role=Role.admin).get(url)
    else:
        response = signed_in(make_user(role=Role.admin)).get(url)
    assert response.status_code == 404


def test_an_id_beyond_the_database_range_in_a_body_is_a_422(api_as, make_case):
    """``mediator_id`` of 20 digits in a session record was a 500 (OverflowError binding it)."""
    case = make_case(status="accepted")
    response = api_as(role=Role.admin).post(
        f"/api/v1/cases/{case.id}/sessions", json={"summary": "双方到场", "mediator_id": HUGE}
    )
    assert response.status_code == 422
    assert response.json["error"] == NUMBER_OUT_OF_RANGE.code == "number_out_of_range"


def test_a_filter_beyond_the_database_range_is_a_422(api_as):
    response = api_as(role=Role.admin).get(f"/api/v1/cases?studio_id={HUGE}")
    assert response.status_code == 422
    assert set(response.json) >= ERROR_KEYS


def test_a_nul_character_is_a_422_naming_the_parameter_on_every_database(api_as):
    """PostgreSQL refuses NUL in text (psycopg.DataError): a region filter of "'\\x00" was a 500 there. It is now
    refused before it reaches any database (core/inputs.py); errors.refused_value stays the last line of defence."""
    response = api_as(role=Role.admin).get("/api/v1/studios?region_code=%27%00p")
    assert response.status_code == 422
    assert "region_code" in response.json["errors"]["query"]


def test_refused_values_are_told_apart_from_other_database_errors():
    from sqlalchemy.exc import DataError

    class Orig(Exception):
        def __init__(self, message, sqlstate=None):
            super().__init__(message)
            self.sqlstate = sqlstate

    assert refused_value(OverflowError("Python int too large")) == NUMBER_OUT_OF_RANGE
    assert refused_value(DataError("x", {}, Orig("integer out of range", "22003"))) == NUMBER_OUT_OF_RANGE
    assert (
        refused_value(DataError("x", {}, Orig("PostgreSQL text fields cannot contain NUL (0x00) bytes"))) == NUL_IN_TEXT
    )
    assert refused_value(DataError("x", {}, Orig("invalid input syntax for type date", "22007"))) is None


def test_a_page_number_is_bounded(api_as):
    """The fuzzing asked for page 14981222620: a 200 echoing it looked like a mobile number to the personal-data
    guard, and a page past any data is no request a client needs."""
    api = api_as(role=Role.admin)
    assert api.get("/api/v1/organizations?page=100000").status_code == 200
    response = api.get("/api/v1/organizations?page=14981222620")
    assert response.status_code == 422
    assert "page" in response.json["errors"]["query"]


def test_the_rates_downloads_are_documented(spec, api_as):
    """GET /reports/rates?format=xlsx answered a content type its documentation did not list."""
    content = spec["paths"]["/api/v1/reports/rates"]["get"]["responses"]["200"]["content"]
    assert set(content) == {
        "application/json",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    api = api_as(role=Role.admin)
    for fmt in ("xlsx", "csv"):
        response = api.get(f"/api/v1/reports/rates?format={fmt}")
        assert response.status_code == 200 and response.mimetype in content


def test_every_success_answer_documents_its_content(spec):
    """A download declared without a body schema was left out of the spec (the import error report's csv)."""
    bare = [
        f"{method.upper()} {path} {status}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method != "parameters"
        for status, response in operation["responses"].items()
        if status.startswith("2") and status != "204" and "content" not in response
    ]
    assert bare == []
