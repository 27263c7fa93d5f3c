"""Hostile input is a 400/422, never a 500 (issue 12, item 8).

JSON nested 1000 or 100000 deep (the decoder's RecursionError), a lone surrogate written as the JSON escape
``\\ud800``, a NUL in a query parameter, a form field or a JSON string: each is refused at the edge with the one JSON
error shape under /api (the Chinese error page for pages), naming the parameter, and nothing is written. Amounts of
more than two decimals are refused, not rounded; business dates before 1990-01-01 are refused; all of it for the
API, the pages and the import rows alike."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mediation_hub.cases.models import Case, CaseStatus
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.limits import ANONYMOUS_BODY_BYTES
from mediation_hub.extensions import db
from mediation_hub.imports import service as imports
from tests.factories import PASSWORD, valid_id_number
from tests.factories_cases import RECEIVED_ON, person
from tests.factories_legal_aid import application_data
from tests.import_samples import row, write_csv

ERROR_KEYS = {"code", "status", "message"}
AMOUNT_DECIMALS = "金额最多两位小数"
NUL = "不能含有空字符"
SURROGATE = "不能含有不成对的代理字符"
NOT_JSON_DEEP = "请求内容不是有效的 JSON：嵌套层数过多"
TOO_EARLY = "日期不能早于 1990-01-01"
JUST_TOO_DEEP = 33  # one level past core.inputs.MAX_JSON_DEPTH: refused before the decoder's recursion runs out


def table_counts() -> dict[str, int]:
    """Rows per table: a refused request leaves every one as it was."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def assert_error_shape(
    response, status: int, location: str | None = None, field: str | None = None, message: str | None = None
) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= ERROR_KEYS and body["code"] == status and body["message"]
    if field is not None:
        assert field in body["errors"][location], body
        if message is not None:
            assert message in body["errors"][location][field], body


def raw(api_or_client, method: str, url: str, text: str):
    """Send ``text`` as it is, as a JSON body (json.dumps keeps a lone surrogate as the escape ``\\ud800``)."""
    return getattr(api_or_client, method)(url, data=text.encode("utf-8"), content_type="application/json")


# --- the routes -----------------------------------------------------------------------------------------


@pytest.fixture
def routes(client, api_as, make_org, make_user, make_mediator, make_studio, make_case):
    """(client, method, url, a valid body) for each JSON route the issue names: the anonymous token call, a case
    registration, a PATCH of a studio, a transition of a case."""
    org = make_org()
    admin = api_as(role=Role.admin)
    user = make_user(role=Role.mediator, organization=org)
    studio = make_studio(organization=org)
    case = make_case(org, status=CaseStatus.accepted)
    db.session.commit()
    registration = {
        "organization_id": org.id,
        "category": "neighbour",
        "source": "party_application",
        "summary": "邻里漏水纠纷",
        "received_on": RECEIVED_ON.isoformat(),
        "occurred_region_code": "110105",
        "parties": [person("applicant"), person("respondent")],
    }
    return {
        "token": (client, "post", "/api/v1/auth/token", {"username": user.username, "password": PASSWORD}),
        "register": (admin, "post", "/api/v1/cases", registration),
        "patch": (admin, "patch", f"/api/v1/studios/{studio.id}", {"name": "新名称调解工作室"}),
        "session": (admin, "post", f"/api/v1/cases/{case.id}/sessions", {"summary": "双方到场"}),
    }


ROUTES = ("token", "register", "patch", "session")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("depth", [JUST_TOO_DEEP, 1000, 100_000])
@pytest.mark.parametrize("shape", ["array", "object"])
def test_json_nested_too_deep_is_a_400(routes, route, depth, shape):
    """1000 levels made the decoder raise RecursionError: a 500, on the anonymous token call too."""
    api, method, url, _ = routes[route]
    text = "[" * depth + "]" * depth if shape == "array" else '{"a":' * depth + "1" + "}" * depth
    before = table_counts()
    response = raw(api, method, url, text)
    if route == "token" and len(text) > ANONYMOUS_BODY_BYTES:
        assert_error_shape(response, 413)  # the anonymous call takes a few KB: refused unread (core/limits.py)
    else:
        assert_error_shape(response, 400)
        assert response.get_json()["message"] == NOT_JSON_DEEP
    assert table_counts() == before


def test_nesting_a_client_needs_is_taken(routes):
    """The depth limit is far above what any call takes (a case, its parties, a party's fields)."""
    api, method, url, body = routes["register"]
    assert raw(api, method, url, json.dumps(body)).status_code == 201


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("bad", ["\ud800", "ab\udfffcd", "a\x00b"], ids=["surrogate", "low-surrogate", "nul"])
def test_a_lone_surrogate_or_nul_in_a_json_string_is_a_422_naming_the_field(routes, route, bad):
    """ "\\ud800" reached the database driver, which cannot encode it: a 500 (the token call's user lookup, a
    case's summary); a NUL was stored on SQLite and a 500 or a nameless 422 on PostgreSQL."""
    api, method, url, body = routes[route]
    field = {"token": "username", "register": "summary", "patch": "name", "session": "summary"}[route]
    text = json.dumps({**body, field: bad})
    assert "\\ud800" in text or "\\udfff" in text or "\\u0000" in text  # the raw escape, as a client sends it
    before = table_counts()
    response = raw(api, method, url, text)
    assert_error_shape(response, 422, "json", field, NUL if "\x00" in bad else SURROGATE)
    assert table_counts() == before


@pytest.mark.parametrize(
    ("where", "named"),
    [
        (lambda body: body["parties"][1].update(name="王\ud800"), "parties.1.name"),
        (lambda body: body.update({"\ud800x": 1}), "\\ud800x"),
        (lambda body: body.update(mediator_ids=[], extra=[{"deep": ["ok", "\x00"]}]), "extra.0.deep.1"),
    ],
    ids=["nested-value", "key", "list-item"],
)
def test_the_field_is_named_by_its_path(routes, where, named):
    api, method, url, body = routes["register"]
    where(body)
    before = table_counts()
    response = raw(api, method, url, json.dumps(body))
    assert_error_shape(response, 422, "json", named)
    assert table_counts() == before


def test_a_surrogate_pair_is_ordinary_text(routes):
    """Only a surrogate without its partner is refused: an emoji (a pair in JSON's escapes) is text."""
    api, method, url, body = routes["register"]
    text = json.dumps({**body, "summary": "邻里纠纷 \U0001f600"})
    assert "\\ud83d\\ude00" in text
    response = raw(api, method, url, text)
    assert response.status_code == 201
    assert response.get_json()["summary"] == "邻里纠纷 \U0001f600"


@pytest.mark.parametrize(
    "text",
    ["{not json", '{"a": ' + "1" * 5000 + "}", '{"a": "\\ud800"'],
    ids=["broken", "huge-integer", "unterminated"],
)
def test_a_body_that_is_not_json_is_a_400(routes, text):
    """An integer of 5000 digits made json.loads raise a plain ValueError webargs does not catch: a 500."""
    client, method, url, _ = routes["token"]
    assert_error_shape(raw(client, method, url, text), 400)


# --- query parameters, form fields, path segments ------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/cases?q=%00", "/api/v1/cases?category=a%00b&q=x", "/api/v1/studios?region_code=%27%00p"]
)
def test_a_nul_in_an_api_query_parameter_is_a_422_naming_it(api_as, url):
    response = api_as(role=Role.admin).get(url)
    name = url.split("?")[1].split("=")[0] if "category" not in url else "category"
    assert_error_shape(response, 422, "query", name, NUL)


@pytest.mark.parametrize("url", ["/cases/export.csv?q=%00", "/cases/export.xlsx?category=%00", "/cases?q=a%00"])
def test_a_nul_in_a_page_filter_is_the_error_page(signed_in, make_user, make_case, url):
    """GET /cases/export.csv?q=%00 reached PostgreSQL inside the streamed download: a 500 half-way."""
    client = signed_in(make_user(role=Role.admin))
    make_case()
    response = client.get(url)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "输入有误" in html and "不允许的字符" in html
    assert ("q" if "q=" in url else "category") in html


def test_a_nul_in_a_page_form_field_is_the_error_page_and_writes_nothing(signed_in, make_user, make_org):
    org = make_org()
    client = signed_in(make_user(role=Role.mediator, organization=org))
    form = {
        "category": "neighbour",
        "source": "party_application",
        "summary": "漏水\x00纠纷",
        "received_on": RECEIVED_ON.isoformat(),
        "occurred_region_code": "110105",
        "parties-0-role": "applicant",
        "parties-0-kind": "person",
        "parties-0-name": "张三",
        "parties-0-number": valid_id_number(),
        "parties-1-role": "respondent",
        "parties-1-kind": "person",
        "parties-1-name": "李四",
    }
    before = table_counts()
    response = client.post("/cases/new", data=form)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert "summary" in response.get_data(as_text=True)
    assert table_counts() == before


def test_a_nul_in_a_path_segment_names_no_record(api_as):
    """A region code with a NUL reached PostgreSQL (a 422 there, a 404 on SQLite): no record has such a name."""
    response = api_as(role=Role.admin).get("/api/v1/regions/11%0005")
    assert_error_shape(response, 404)


def test_the_anonymous_caller_of_a_private_call_still_gets_its_401_first(client):
    assert client.get("/api/v1/cases?q=%00").status_code == 401


# --- amounts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["1.005", "0.001", "12.3456", 1.005, 0.001, "1E-3"])
def test_an_amount_of_more_than_two_decimals_is_refused_not_rounded(routes, amount):
    """fields.Decimal(places=2) rounded "1.005" to 1.00 (and "0.001" to 0.00) before any rule saw it."""
    api, _method, url, body = routes["register"]
    before = table_counts()
    response = api.post(url, json={**body, "amount_yuan": amount})
    assert_error_shape(response, 422, "json", "amount_yuan", AMOUNT_DECIMALS)
    assert table_counts() == before


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        ("12.30", "12.30"),
        ("12.3", "12.30"),
        (12.3, "12.30"),
        ("12.300", "12.30"),
        ("3，500。00", "3500.00"),
        (1200, "1200.00"),
    ],
)
def test_an_amount_of_two_decimals_or_fewer_is_taken_as_it_is(routes, amount, stored):
    api, _method, url, body = routes["register"]
    response = api.post(url, json={**body, "amount_yuan": amount})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amount_yuan"] == stored
    assert db.session.get(Case, response.get_json()["id"]).amount_yuan == Decimal(stored)


@pytest.mark.parametrize("amount", ["1.005", "0.001"])
def test_an_agreement_amount_is_refused_on_conclusion(api_as, make_case, amount):
    case = make_case(status=CaseStatus.in_mediation)
    api = api_as(role=Role.admin)
    before = table_counts()
    response = api.post(
        f"/api/v1/cases/{case.id}/conclude", json={"outcome": "agreement", "agreement_amount_yuan": amount}
    )
    assert_error_shape(response, 422, "json", "agreement_amount_yuan", AMOUNT_DECIMALS)
    assert table_counts() == before
    assert db.session.get(Case, case.id).status == CaseStatus.in_mediation


def test_an_amount_on_the_registration_page_is_refused_not_rounded(signed_in, make_user, make_org):
    org = make_org()
    client = signed_in(make_user(role=Role.mediator, organization=org))
    form = {
        "category": "neighbour",
        "source": "party_application",
        "summary": "漏水纠纷",
        "received_on": RECEIVED_ON.isoformat(),
        "occurred_region_code": "110105",
        "amount_yuan": "3500.505",
        "parties-0-role": "applicant",
        "parties-0-kind": "person",
        "parties-0-name": "张三",
        "parties-0-number": valid_id_number(),
        "parties-1-role": "respondent",
        "parties-1-kind": "person",
        "parties-1-name": "李四",
    }
    before = table_counts()
    response = client.post("/cases/new", data=form)
    assert response.status_code == 422
    assert AMOUNT_DECIMALS in response.get_data(as_text=True)
    assert table_counts() == before
    form["amount_yuan"] = "3500.50"
    assert client.post("/cases/new", data=form).status_code == 302
    assert db.session.scalar(sa.select(Case.amount_yuan).where(Case.organization_id == org.id)) == Decimal("3500.50")


def _import_failures(make_org, tmp_path, **fields) -> list[tuple[str, str]]:
    org = make_org()
    summary = imports.import_file(
        write_csv(tmp_path / "one.csv", [row("H1", **fields)]), org.id, SYSTEM, source_system="old"
    )
    if summary.failed:
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.organization_id == org.id)) == 0
        )
    return [(f.column, f.reason) for f in summary.failures]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"涉及金额(元)": "1.005"}, [("涉及金额(元)", AMOUNT_DECIMALS)]),
        (
            {
                "状态": "办结",
                "受理日期": "2025-03-03",
                "办结日期": "2025-03-10",
                "调解结果": "达成协议",
                "协议内容": "被申请人赔偿维修费",
                "协议金额(元)": "12.3456",
            },
            [("协议金额(元)", AMOUNT_DECIMALS)],
        ),
        ({"登记日期": "0001-01-01"}, [("登记日期", TOO_EARLY)]),
        ({"登记日期": "1989-12-31"}, [("登记日期", TOO_EARLY)]),
        ({"涉及金额(元)": "12.30"}, []),
    ],
    ids=["amount", "agreement-amount", "year-1", "1989", "two-decimals"],
)
def test_import_rows_get_the_same_rules(make_org, tmp_path, fields, expected):
    assert _import_failures(make_org, tmp_path, **fields) == expected


# --- business dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "1989-12-31"])
def test_a_registration_before_1990_is_refused(routes, day):
    """``0001-01-01`` was accepted as the day a dispute was received."""
    api, _method, url, body = routes["register"]
    before = table_counts()
    response = api.post(url, json={**body, "received_on": day})
    assert_error_shape(response, 422, "json", "received_on", TOO_EARLY)
    assert table_counts() == before


def test_the_first_day_of_1990_is_a_business_date(routes):
    api, _method, url, body = routes["register"]
    response = api.post(url, json={**body, "received_on": "1990-01-01"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["received_on"] == "1990-01-01"


@pytest.fixture
def dated_calls(api_as, make_org, make_case, make_studio, make_routed_case, tongban_pair, make_officer):
    """(api, url, body without the date, the date field) for each kind of business date the hub takes."""
    org = make_org()
    admin = api_as(role=Role.admin)
    registered = make_case(org)
    running = make_case(org, status=CaseStatus.accepted)
    concluded = make_case(org, status=CaseStatus.concluded)
    studio = make_studio(organization=org)
    hebei, beijing = make_org(region_code="130602"), make_org(region_code="110105")
    routed = make_routed_case(hebei, applicant="130602", respondent="110105")
    tianjin, _ = tongban_pair()
    db.session.commit()
    sender = api_as(role=Role.mediator, organization=hebei)
    officer = api_as(make_officer(tianjin))
    filing = {k: v for k, v in application_data(tianjin.id).items() if k != "received_on"}
    return {
        "accepted_on": (admin, f"/api/v1/cases/{registered.id}/accept", {}),
        "declined_on": (admin, f"/api/v1/cases/{registered.id}/decline", {"reason": "不属于受理范围"}),
        "held_on": (admin, f"/api/v1/cases/{running.id}/sessions", {"summary": "双方到场"}),
        "concluded_on": (admin, f"/api/v1/cases/{running.id}/conclude", {"outcome": "no_agreement"}),
        "visited_on": (admin, f"/api/v1/cases/{concluded.id}/follow-ups", {"summary": "回访"}),
        "named_on": (admin, f"/api/v1/studios/{studio.id}", {}),
        "requested_on": (
            sender,
            "/api/v1/transfers",
            {
                "case_id": routed.id,
                "to_organization_id": beijing.id,
                "agreement_code": "JJJ-MEDIATION",
                "mode": "transfer",
            },
        ),
        "received_on": (officer, "/api/v1/legal-aid/applications", filing),
    }


@pytest.mark.parametrize("day", ["0001-01-01", "1989-12-31"])
@pytest.mark.parametrize(
    "field",
    ["accepted_on", "declined_on", "held_on", "concluded_on", "visited_on", "named_on", "requested_on", "received_on"],
)
def test_every_business_date_before_1990_is_refused(dated_calls, field, day):
    """A step, a transfer, a legal-aid filing and a studio's naming took any date since the year 1."""
    api, url, body = dated_calls[field]
    method = api.patch if field == "named_on" else api.post
    before = table_counts()
    response = method(url, json={**body, field: day})
    assert_error_shape(response, 422, "json", field, TOO_EARLY)
    assert table_counts() == before


def test_a_birth_date_before_1990_in_an_id_number_keeps_its_own_check(routes):
    """Birth dates inside ID numbers are python-stdnum's rule, untouched: a person born in 1950 registers."""
    api, _method, url, body = routes["register"]
    applicant = person("applicant", id_number=valid_id_number(born=date(1950, 1, 2)))
    response = api.post(url, json={**body, "parties": [applicant, person("respondent")]})
    assert response.status_code == 201, response.get_json()
