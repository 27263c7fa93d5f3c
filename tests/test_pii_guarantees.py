"""Personal-data guarantees: the suite-wide guard (tests/pii_guard.py) does catch an unmasked number wherever it
leaves the hub, so its silence means something; no caching of personal data; security headers; session cookies;
JSON logs with the request id and without personal data."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
from flask import Flask, Response

from mediation_hub import create_app
from mediation_hub.auth.models import User
from mediation_hub.auth.service import hash_password
from mediation_hub.core.actor import Role
from mediation_hub.core.logs import JsonFormatter
from mediation_hub.extensions import db
from tests.factories import PASSWORD, valid_id_number
from tests.factories_cases import person
from tests.pii_guard import GUARD, find_numbers, mask

# Slow (a live server and the whole-session guard): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PLANTED_ID = valid_id_number(sequence=517)  # a right check digit and birth date: what the hub stores
PLANTED_PHONE = "13812345678"


# --- the guard's eye --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        (f"证件号码：{PLANTED_ID}。", ["ID number"]),
        (f"<td>{PLANTED_ID.lower()}</td>", ["ID number"]),
        (f'{{"phone": "{PLANTED_PHONE}"}}', ["mobile number"]),
        (f"电话{PLANTED_PHONE}，身份证{PLANTED_ID}", ["mobile number", "ID number"]),
        (f"bd-mediator-{PLANTED_PHONE}", ["mobile number"]),
        (mask(f"{PLANTED_ID} {PLANTED_PHONE}"), []),  # the masked forms 110105********xxxx and 138****5678
        ("110105198005170001", []),  # 18 digits with a wrong check digit (an all-digit USCC, a typo)
        ("911101050000000017", []),  # a USCC: no birth date in it
        ("timestamp 1764100000000 and 138123456789", []),  # 13 and 12 digits: longer runs are not numbers
        (f"token{PLANTED_PHONE}", []),  # glued to letters before it: part of an identifier
        (f"sha256 3f9a{PLANTED_ID}bc{PLANTED_PHONE}e0d4c1", []),  # inside a 32+ hex digest
        (f"MH-110105-12-2026-000007 LA2026-000123 {valid_id_number()[:17]}", []),  # case numbers, 17 digits
    ],
)
def test_the_guard_recognises_numbers_by_their_structure(text, kinds):
    assert [kind for kind, _ in find_numbers(text)] == kinds


def test_a_refused_request_may_give_back_only_what_its_client_sent():
    page = f'<input name="id_number" value="{PLANTED_ID}">'
    assert find_numbers(page, sent=f"id_number={PLANTED_ID}") == []
    someone_else = f"id_number={valid_id_number(sequence=518)}"
    assert find_numbers(page, sent=someone_else) == [("ID number", page.index(PLANTED_ID))]


# --- the guard's hooks, each proved with a planted number -----------------------------------------------------


def test_a_number_planted_in_a_real_page_is_caught_with_test_id_url_and_masked_excerpt(
    signed_in, make_user, make_org, make_case
):
    org = make_org()
    case = make_case(org, summary=f"申请人称其身份证号为{PLANTED_ID}")  # typed into free text by mistake
    client = signed_in(make_user(role=Role.mediator, organization=org))
    with GUARD.expect() as caught:
        assert client.get(f"/cases/{case.id}").status_code == 200
    assert [(f.source, f.kind) for f in caught] == [("response", "ID number")]
    finding = caught[0]
    assert finding.test.endswith(
        "test_pii_guarantees.py::test_a_number_planted_in_a_real_page_is_caught_with_test_id_url_and_masked_excerpt"
    )
    assert finding.where == f"GET /cases/{case.id} → 200 OK"
    assert PLANTED_ID[:6] + "********" + PLANTED_ID[-4:] in finding.excerpt and PLANTED_ID not in finding.excerpt
    assert all(f.test != finding.test for f in GUARD.findings)  # expected: it does not fail the session


def _planting_app() -> Flask:
    """Any Flask app (this one built inside the test) is watched."""
    planted = Flask("planted")

    @planted.route("/leak", methods=["GET", "POST"])
    def leak():
        return f"<p>{PLANTED_PHONE}</p>"

    @planted.post("/reveal")
    def reveal():
        return {"id_number": PLANTED_ID}, 200, {"X-Personal-Data": "revealed"}

    @planted.get("/marked")
    def marked():
        return {"id_number": "110105********1234"}, 200, {"X-Personal-Data": "revealed"}

    @planted.get("/export.xlsx")
    def export():
        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["姓名", "电话"])
        book.active.append(["王大明", PLANTED_PHONE])
        buffer = io.BytesIO()
        book.save(buffer)
        return Response(buffer.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @planted.post("/form")
    def form():
        return f'<input value="{PLANTED_ID}">', 422

    return planted


def test_any_app_the_audited_reveal_header_and_xlsx_downloads():
    client = _planting_app().test_client()
    with GUARD.expect() as caught:
        client.get("/leak")  # the body is scanned even though the test never reads it
        client.post("/reveal")
        client.get("/marked")
        client.get("/export.xlsx")
    got = [(f.source, f.where.split(" [")[0], f.kind) for f in caught]
    assert got == [
        ("response", "GET /leak → 200 OK", "mobile number"),
        ("header", "GET /marked → 200 OK", "'X-Personal-Data: revealed' outside a successful POST"),
        ("xlsx", "GET /export.xlsx → 200 OK", "mobile number"),
    ]
    assert caught[2].where.endswith("[xl/worksheets/sheet1.xml]")  # the cell itself, unzipped


def test_a_refused_form_may_show_the_typed_number_but_a_success_may_not():
    client = _planting_app().test_client()
    with GUARD.expect() as caught:
        client.post("/form", data={"id_number": PLANTED_ID})  # 422 giving back what was typed
        client.post("/form", data={"id_number": "x"})  # 422 showing a number nobody sent
        client.post("/leak", data={"phone": PLANTED_PHONE})  # 200 echoing what was sent: still a leak
    assert [f.where for f in caught] == ["POST /form → 422 UNPROCESSABLE ENTITY", "POST /leak → 200 OK"]


def test_the_live_server_is_watched(live_server):
    before = GUARD.counts["responses"]
    with urllib.request.urlopen(f"{live_server}/login", timeout=10) as answer:  # noqa: S310 - our own server
        assert answer.status == 200
    assert GUARD.counts["responses"] == before + 1


def test_log_records_are_caught_even_after_create_app_replaced_the_handlers(tmp_path):
    with GUARD.expect() as caught:
        logging.getLogger("mediation_hub.cases").warning("party phone %s", PLANTED_PHONE)
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "TESTING": True})
        logging.getLogger("mediation_hub.access").info("looked up %s", PLANTED_ID)
        logging.getLogger("werkzeug").info('"GET /x?phone=%s HTTP/1.1" 200', PLANTED_PHONE)
        logging.getLogger("some.library").error("numbers: %s", PLANTED_PHONE)  # reaches the root logger
    assert [(f.source, f.where, f.kind) for f in caught] == [
        ("log", "mediation_hub.cases", "mobile number"),
        ("log", "mediation_hub.access", "ID number"),
        ("log", "werkzeug", "mobile number"),
        ("log", "some.library", "mobile number"),
    ]


PLANTED_SUITE = """
from flask import Flask

def test_leaks():
    app = Flask("x")
    app.add_url_rule("/leak", "leak", lambda: "手机 {phone}")
    assert app.test_client().get("/leak").status_code == 200
"""


@pytest.mark.parametrize("leaks", [True, False])
def test_the_session_fails_at_the_end_when_anything_leaked(tmp_path, leaks):
    (tmp_path / "test_planted.py").write_text(
        textwrap.dedent(PLANTED_SUITE.format(phone=PLANTED_PHONE if leaks else "138****5678"))
    )
    run = subprocess.run(  # a session of its own, with the guard as the only plug-in
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.pii_guard", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if not leaks:
        assert run.returncode == 0, run.stdout
        assert "personal-data guard: clean (1 responses" in run.stdout
        return
    assert run.returncode == 1, run.stdout
    assert "1 passed" in run.stdout  # the test itself passed: the guard failed the session
    assert "test_planted.py::test_leaks: mobile number in response GET /leak → 200 OK: …手机 138****5678…" in run.stdout
    assert PLANTED_PHONE not in run.stdout + run.stderr


# --- no caching, security headers -----------------------------------------------------------------------------


@pytest.fixture
def case_with_parties(make_org, make_case):
    org = make_org()
    return org, make_case(org, parties=[person("applicant", phone=PLANTED_PHONE), person("respondent")])


def test_pages_and_api_answers_with_personal_data_are_never_stored(signed_in, api_as, make_user, case_with_parties):
    org, case = case_with_parties
    user = make_user(role=Role.mediator, organization=org)
    api = api_as(user)
    answers = {
        "page": signed_in(user).get(f"/cases/{case.id}"),
        "api": api.get(f"/api/v1/cases/{case.id}"),
        "api reveal": api.post(f"/api/v1/cases/{case.id}/parties/{case.parties[0].id}/reveal"),
        "page reveal": signed_in(user).post(f"/cases/{case.id}/parties/{case.parties[0].id}/reveal"),
        "error": api.get("/api/v1/cases/999999"),
    }
    for name, answer in answers.items():
        assert answer.headers["Cache-Control"] == "no-store", name
        assert answer.headers["Pragma"] == "no-cache", name
    assert answers["api reveal"].json["phone"] == PLANTED_PHONE
    assert answers["api reveal"].headers["X-Personal-Data"] == "revealed"
    assert answers["page reveal"].headers["X-Personal-Data"] == "revealed"
    assert "X-Personal-Data" not in answers["page"].headers and "X-Personal-Data" not in answers["api"].headers
    static = signed_in(user).get("/static/css/hub.css")
    assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"


def _csp(header: str) -> dict[str, list[str]]:
    directives = [d.split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize("what", ["page", "api", "docs"])
def test_security_headers(signed_in, api_as, make_user, case_with_parties, what):
    org, case = case_with_parties
    user = make_user(role=Role.mediator, organization=org)
    answer = {
        "page": lambda: signed_in(user).get(f"/cases/{case.id}"),
        "api": lambda: api_as(user).get(f"/api/v1/cases/{case.id}"),
        "docs": lambda: signed_in(user).get("/api/v1/docs"),
    }[what]()
    assert answer.status_code == 200
    csp = _csp(answer.headers["Content-Security-Policy"])
    script_src = csp.get("script-src", csp["default-src"])
    assert script_src == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', nothing from outside
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] in ("no-referrer", "same-origin", "strict-origin")
    if answer.mimetype == "text/html":  # what the policy forbids is not in the page either
        html = answer.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
        assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
        assert not re.search(r"<[^>]+\sstyle\s*=", html), "inline style"
        assert all(src.startswith("/static/") for src in re.findall(r'<script[^>]*\bsrc="([^"]+)"', html))


# --- session cookies ---------------------------------------------------------------------------------------


def _cookie_attributes(answer, name="session") -> set[str]:
    """``{"httponly", "secure", "samesite=lax", "path", …}`` of the cookie ``name`` the answer sets."""
    for header in answer.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            attributes = set()
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attributes.add(f"samesite={value.lower()}" if key.lower() == "samesite" else key.lower())
            return attributes
    raise AssertionError(f"no {name} cookie set: {answer.headers.getlist('Set-Cookie')}")


def _sign_in(client, username):
    answer = client.post("/login", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer


def test_the_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user(role=Role.admin)
    attributes = _cookie_attributes(_sign_in(client, user.username))
    assert {"httponly", "samesite=lax", "path"} <= attributes
    assert "secure" not in attributes  # plain http in development: a Secure cookie would never come back


def test_behind_tls_the_session_cookie_is_also_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIATION_HUB_SECURE_COOKIES", "true")
    secure = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'tls.db'}",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "tls-test",
            "LOGIN_RATE_LIMIT": "1000 per minute",
        }
    )
    assert secure.config["SESSION_COOKIE_SECURE"] is True
    with secure.app_context():
        db.create_all()
        db.session.add(User(username="tls-admin", role=Role.admin, password_hash=hash_password(PASSWORD)))
        db.session.commit()
        client = secure.test_client()
        attributes = _cookie_attributes(_sign_in(client, "tls-admin"))
        db.session.remove()
    assert {"httponly", "samesite=lax", "secure"} <= attributes


# --- JSON logs -----------------------------------------------------------------------------------------------


class _Lines(logging.Handler):
    """The lines the hub writes, formatted by its own JsonFormatter."""

    def __init__(self):
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []
        self.messages: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))
        self.messages.append(record.getMessage())


@pytest.fixture
def hub_log_lines():
    handler = _Lines()
    loggers = [logging.getLogger(name) for name in ("mediation_hub", "werkzeug")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def test_log_lines_are_json_with_the_request_id_and_no_personal_data(api_as, make_org, hub_log_lines):
    org = make_org()
    admin = api_as(role=Role.admin)
    mediator = api_as(role=Role.mediator, organization=org)
    numbers = [valid_id_number(sequence=601), valid_id_number(sequence=602), valid_id_number(sequence=603)]
    phones = ["13912340001", "13912340002", "13912340003"]
    case = mediator.post(
        "/api/v1/cases",
        headers={"X-Request-ID": "privacy-log-test-0001"},
        json={
            "organization_id": org.id,
            "category": "neighbour",
            "source": "party_application",
            "summary": "楼上漏水",
            "received_on": "2026-03-02",
            "occurred_region_code": "110105",
            "major": False,
            "parties": [
                person("applicant", "王大明", id_number=numbers[0], phone=phones[0]),
                person("respondent", "赵小红", id_number=numbers[1], phone=phones[1]),
            ],
        },
    )
    assert case.status_code == 201, case.json
    made = admin.post(
        "/api/v1/mediators",
        json={"name": "钱调解", "organization_id": org.id, "id_number": numbers[2], "phone": phones[2]},
    )
    assert made.status_code == 201, made.json
    refused = admin.post(
        "/api/v1/mediators",
        json={"name": "错号", "organization_id": org.id, "id_number": numbers[2][:-1] + "0", "phone": "12345"},
    )
    assert refused.status_code == 422

    assert case.headers["X-Request-ID"] == "privacy-log-test-0001"  # the caller's id is kept
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])  # otherwise a fresh one
    entries = [json.loads(line) for line in hub_log_lines.lines]
    by_request = {}
    for entry in entries:
        assert {"ts", "level", "logger", "message"} <= set(entry)
        by_request.setdefault(entry.get("request_id"), []).append(entry)
    for answer, path in ((case, "/api/v1/cases"), (made, "/api/v1/mediators"), (refused, "/api/v1/mediators")):
        access = [e for e in by_request[answer.headers["X-Request-ID"]] if e["logger"] == "mediation_hub.access"]
        assert [(e["path"], e["status"]) for e in access] == [(path, answer.status_code)]
    everything = "\n".join(hub_log_lines.lines + hub_log_lines.messages)
    assert find_numbers(everything) == []
    for secret in numbers + phones + ["王大明", "赵小红"]:
        assert secret not in everything


def test_the_log_format_masks_a_number_as_a_last_line_of_defence(app, hub_log_lines):
    with GUARD.expect() as caught, app.test_request_context("/x"):
        logging.getLogger("mediation_hub.cases").error("careless %s / %s", PLANTED_ID, PLANTED_PHONE)
    assert len(caught) == 2  # the guard catches the code that logs it ...
    line = hub_log_lines.lines[-1]
    assert PLANTED_ID not in line and PLANTED_PHONE not in line  # ... and the line written is masked
    assert PLANTED_ID[:6] + "********" + PLANTED_ID[-4:] in line and "138****5678" in line
