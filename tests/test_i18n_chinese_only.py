"""Chinese pages speak Chinese (issue 13 point 3).

Every page of the Chinese UI, for each role, over a small world that gives the detail pages content, and the
error paths (404, 405, 403, 413, 429, forms submitted empty or wrong), must show no Latin word outside product
names and codes; the JSON error answers likewise in ``message`` and ``errors``, each message with a machine code
in ``error_codes``. With ``?lang=en`` (pages) or ``Accept-Language: en`` (API) the same answers are English.

The pages walked come from ``app.url_map`` (every GET rule without parameters, plus the detail pages of the
world's objects), so a new page is walked too; ``LEFT_OUT`` lists the rules deliberately not walked, and why.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from mediation_hub.cases.models import CaseStatus
from mediation_hub.core.actor import Role
from mediation_hub.extensions import db, limiter
from mediation_hub.legal_aid.models import ApplicationStatus

from .conftest import sign_in_client

# Slow (every page for every role): `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.slow

# Product names, file formats, units and other tokens a Chinese page may show as they are.
ALLOWED_WORDS = {
    "api",
    "openapi",
    "json",
    "excel",
    "xlsx",
    "csv",
    "pdf",
    "docx",
    "id",
    "en",
    "utc",
    "url",
    "https",
    "http",
    "kb",
    "mb",
    "gb",
    "b",
    "swagger",
    "utf",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "bearer",
}
# Names of more than one word (a specification, a product) and tokens that are codes, paths or addresses
ALLOWED_PHRASES = re.compile(
    r"Standard Webhooks|Mediation Hub"
    r"|\b[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)+\b"  # region and agreement codes: JJJ-MEDIATION, GD-PAIRING-GZ-QY
    r"|(?:https?://|/)[\w./{}?=&%-]*"  # an address or a path: /api/v1/reports/snapshots
    r"|[\w.+-]+@[\w.-]+"  # an e-mail address
    r"|[\w-]+\.(?:xlsx|csv|json|pdf|docx)\b"
)  # a file name
# Rules not walked, and why (each must still exist: a renamed page is noticed here).
LEFT_OUT = {
    "static": "files, not pages",
    "favicon": "an icon (tested in test_favicon_is_served)",
    "cases.export_case_list": "a csv/xlsx download, not a page",
    "reporting.dashboard_download_xlsx": "an xlsx download, not a page",
    "exports.export_download": "a file download",
    "exports.export_job_status": "JSON polled by the page's script",
    "imports.import_job_status": "JSON polled by the page's script",
    "imports.import_errors": "a csv download",
    "documents.case_document": "a PDF/docx download (its text: tests/test_documents_*.py)",
    "documents.application_document": "a PDF/docx download (its text: tests/test_documents_*.py)",
    "regions.region_children": "JSON for the region picker",
    "exports.export_job": "needs an export job; its page is walked by tests/test_exports_background.py",
    "imports.import_job": "needs an import job; its page is walked by tests/test_import_web.py",
    "agreements.proposal_detail": "needs a proposal between two hubs' coordinators",
    "auth.login": "walked signed out (test_sign_in_page_speaks_chinese)",
}
LATIN = re.compile(r"[A-Za-z]+")
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
SKIPPED_ELEMENTS = {"script", "style", "noscript", "template"}


VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class VisibleText(HTMLParser):
    """The text a person sees: text nodes (not scripts or styles), the visible attributes, buttons' values. The
    text of an element marked ``translate="no"`` (HTML's mark for an identifier, an address or a command: a hub's
    id, ``mediation-hub peers add …``) is left out; its attributes are still read."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._untranslated = 0  # depth inside an element marked translate="no"

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS:
            self._skipping += 1
        attributes = dict(attrs)
        if tag not in VOID_ELEMENTS and (self._untranslated or attributes.get("translate") == "no"):
            self._untranslated += 1
        self.parts.extend(attributes[name] for name in VISIBLE_ATTRIBUTES if attributes.get(name))
        if (
            tag in ("input", "button")
            and attributes.get("type") in ("submit", "button", "reset")
            and attributes.get("value")
        ):
            self.parts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS and self._skipping:
            self._skipping -= 1
        if self._untranslated and tag not in VOID_ELEMENTS:
            self._untranslated -= 1

    def handle_data(self, data):
        if not self._skipping and not self._untranslated and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.parts


def latin_words(texts) -> list[str]:
    """The Latin words of ``texts`` outside the allow-list, each with its surroundings. A Latin token with a digit
    in it (case numbers TR-000012, dates, masked numbers, user names such as user12, versions) is data."""
    found = []
    for text in texts:
        for chunk in re.split(r"[\s\u3000]+", ALLOWED_PHRASES.sub(" ", str(text))):
            for word in LATIN.findall(
                " ".join(
                    t for t in re.findall(r"[A-Za-z0-9._-]+|[^A-Za-z0-9._-]", chunk) if not any(c.isdigit() for c in t)
                )
            ):
                if word.lower() not in ALLOWED_WORDS:
                    found.append(f"{word!r} in {text[:80]!r}")
    return found


# --- the world ----------------------------------------------------------------------------------------------


@pytest.fixture
def world(
    make_org,
    make_user,
    make_case,
    make_mediator,
    make_studio,
    make_routed_case,
    request_transfer_as,
    make_application,
    make_officer,
):
    """A 保定 committee with a case in each state, a studio, a transfer to 北京 under JJJ-MEDIATION, a legal-aid
    application accepted by the competent 保定 centre; one account for each role, with a Chinese name."""
    baoding = make_org(name="保定市竞秀区人民调解委员会", region_code="130602")
    beijing = make_org(name="北京市朝阳区人民调解委员会", region_code="110105")
    mediator = make_mediator(organization=baoding, name="王秀兰")
    studio = make_studio(organization=baoding, name="老王调解工作室", lead=mediator)
    cases = {
        status: make_case(baoding, status=status)
        for status in (
            CaseStatus.registered,
            CaseStatus.accepted,
            CaseStatus.in_mediation,
            CaseStatus.concluded,
            CaseStatus.declined,
        )
    }
    routed = make_routed_case(baoding, applicant="130602", respondent="110105")
    application, _tianjin, baoding_centre = make_application(ApplicationStatus.accepted)
    users = {
        Role.admin: make_user(role=Role.admin, display_name="系统管理员"),
        Role.registry_admin: make_user(role=Role.registry_admin, display_name="登记管理员"),
        Role.mediator: make_user(role=Role.mediator, organization=baoding, display_name="王调解员"),
        Role.legal_aid_officer: make_officer(baoding_centre, display_name="李主任"),
        Role.coordinator: make_user(role=Role.coordinator, region_code="130000", display_name="赵协调员"),
    }
    transfer = request_transfer_as(users[Role.mediator], routed, beijing)
    db.session.commit()
    failed_report_delivery(make_org)
    return {
        "users": users,
        "cases": cases,
        "transfer": transfer,
        "application": application,
        "organization": baoding,
        "mediator": mediator,
        "studio": studio,
        "agreement": "JJJ-MEDIATION",
        "user": users[Role.mediator],
    }


class RefusingReceiver:
    """A governance centre's endpoint that answers 500: the delivery fails with the fixed message."""

    timeout = 1.0

    def send(self, url, secret, message_id, body):
        from integrations.governance_reports import DeliveryError, status_message

        raise DeliveryError(status_message(500), status_code=500, code="answer_rejected")


def failed_report_delivery(make_org):
    """A 保定 governance centre's monthly subscription whose March report failed (an attempt with its error), so
    the subscriptions page shows a subscription, a failed delivery, its attempts and the redeliver button."""
    import datetime as dt

    from mediation_hub.core.actor import SYSTEM
    from mediation_hub.registry.models import OrgKind
    from mediation_hub.reporting import subscriptions
    from mediation_hub.reporting.models import DeliveryStatus, ReportDelivery

    centre = make_org(name="保定市综治中心", kind=OrgKind.governance_centre, region_code="130602")
    subscriptions.create_subscription(
        SYSTEM,
        {
            "organization_id": centre.id,
            "region_code": "130602",
            "frequency": "monthly",
            "endpoint_url": "http://127.0.0.1:9/r",
        },
    )
    now = dt.datetime(2026, 4, 1, 8, tzinfo=dt.UTC)
    subscriptions.freeze_due(now)
    db.session.commit()
    delivery = db.session.scalar(sa.select(ReportDelivery))
    assert subscriptions.deliver(delivery.id, now, RefusingReceiver())
    delivery = db.session.get(ReportDelivery, delivery.id)
    delivery.status, delivery.next_attempt_at = DeliveryStatus.failed, None
    db.session.commit()


def detail_values(world) -> dict:
    """What each rule parameter is filled with (the world's objects)."""
    return {
        "case_id": world["cases"][CaseStatus.concluded].id,
        "transfer_id": world["transfer"].id,
        "application_id": world["application"].id,
        "organization_id": world["organization"].id,
        "mediator_id": world["mediator"].id,
        "studio_id": world["studio"].id,
        "user_id": world["user"].id,
        "code": world["agreement"],
    }


def pages(app, world) -> list[str]:
    """Every GET page of the UI: the rules without parameters and the world's detail pages."""
    from flask import url_for

    values = detail_values(world)
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in LEFT_OUT:
                continue
            if rule.rule.startswith("/api/") and rule.endpoint != "api_docs.api_docs":
                continue
            if not set(rule.arguments) <= set(values):
                continue
            urls.append(url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}))
    return sorted(set(urls))


def test_every_left_out_rule_exists(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(LEFT_OUT) <= endpoints


def test_every_rule_with_parameters_is_walked_or_left_out(app):
    known = {
        "case_id",
        "transfer_id",
        "application_id",
        "organization_id",
        "mediator_id",
        "studio_id",
        "user_id",
        "code",
    }
    unwalked = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.rule.startswith("/api/")
        and rule.endpoint not in LEFT_OUT
        and not set(rule.arguments) <= known
    )
    assert unwalked == []


ROLES = [Role.admin, Role.registry_admin, Role.mediator, Role.legal_aid_officer, Role.coordinator]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_every_page_speaks_chinese(app, client, world, role):
    sign_in_client(client, world["users"][role])
    problems = {}
    for url in pages(app, world):
        response = client.get(url)
        if response.status_code in (301, 302, 303) or response.mimetype != "text/html":
            continue
        words = latin_words(visible_text(response.get_data(as_text=True)))
        if words:
            problems[f"{url} ({response.status_code})"] = words[:8]
    assert problems == {}, "Latin words on Chinese pages:\n" + "\n".join(
        f"{page}: {'; '.join(words)}" for page, words in problems.items()
    )


def test_sign_in_page_speaks_chinese(client):
    response = client.get("/login")
    assert response.status_code == 200 and latin_words(visible_text(response.get_data(as_text=True))) == []


# --- error pages ----------------------------------------------------------------------------------------------


def _too_large(app) -> bytes:
    return b"x" * (int(app.config["MAX_JSON_KB"]) * 1024 + 1)


ERROR_PAGES = {
    "404": lambda app, client: client.get("/no-such-page"),
    "404-record": lambda app, client: client.get("/cases/987654321"),
    "405": lambda app, client: client.delete("/cases/new"),
    "403": lambda app, client: client.get("/accounts"),
    "413": lambda app, client: client.post(
        "/cases/new", data=_too_large(app), content_type="application/x-www-form-urlencoded"
    ),
    "registration-empty": lambda app, client: client.post("/cases/new", data={}),
    "registration-bad": lambda app, client: client.post(
        "/cases/new",
        data={
            "received_on": "2026-13-45",
            "amount_yuan": "abc",
            "summary": "",
            "parties-0-name": "张三",
            "parties-0-number": "110105198005170000",
            "parties-0-phone": "123",
        },
    ),
    "mediator-empty": lambda app, client: client.post("/registry/mediators/new", data={}),
    "password-empty": lambda app, client: client.post("/account/password", data={}),
    "password-wrong": lambda app, client: client.post(
        "/account/password", data={"current_password": "wrong", "new_password": "short", "confirm": "short"}
    ),
}
ADMIN_ERROR_PAGES = {
    "mediator-wrong-id": lambda app, client: client.post(
        "/registry/mediators/new", data={"name": "张三", "id_number": "110105198005170000", "phone": "12345"}
    ),
    "calendar-wrong-date": lambda app, client: client.post(
        "/calendar", data={"year": "2027", "holidays": "2027-02-30\n2027-13-01", "workdays": "某日"}
    ),
    "privacy-wrong-id": lambda app, client: client.post("/privacy/person", data={"id_number": "123"}),
    "audit-wrong-dates": lambda app, client: client.get("/audit?date_from=2026-12-07&date_to=2026-12-01"),
    "account-empty": lambda app, client: client.post("/accounts/new", data={}),
}


@pytest.mark.parametrize("path", list(ERROR_PAGES), ids=str)
def test_error_pages_speak_chinese(app, client, world, path):
    sign_in_client(client, world["users"][Role.mediator])
    response = ERROR_PAGES[path](app, client)
    assert response.status_code >= 400 or response.status_code == 200
    assert latin_words(visible_text(response.get_data(as_text=True))) == []


@pytest.mark.parametrize("path", list(ADMIN_ERROR_PAGES), ids=str)
def test_administrators_error_pages_speak_chinese(app, client, world, path):
    sign_in_client(client, world["users"][Role.admin])
    response = ADMIN_ERROR_PAGES[path](app, client)
    assert latin_words(visible_text(response.get_data(as_text=True))) == []


@pytest.fixture
def strict_sign_in_limit(app):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    limiter.reset()
    yield
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    limiter.reset()


def test_sign_in_limit_says_when_to_retry_in_chinese(client, make_user, strict_sign_in_limit):
    user = make_user()
    db.session.commit()
    answers = [
        client.post(
            "/login",
            data={"username": user.username, "password": "wrong-password-1"},
            environ_base={"REMOTE_ADDR": "127.0.3.1"},
        )
        for _ in range(3)
    ]
    limited = answers[-1]
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    text = visible_text(limited.get_data(as_text=True))
    assert latin_words(text) == []
    assert any("后再试" in part for part in text)
    api = client.post(
        "/api/v1/auth/token",
        json={"username": user.username, "password": "x"},
        environ_base={"REMOTE_ADDR": "127.0.3.1"},
    )
    assert api.status_code == 429 and api.json["error"] == "rate_limited"
    assert re.fullmatch(r"尝试过于频繁，请 \d+ (秒|分钟)后再试", api.json["message"])
    english = client.post(
        "/api/v1/auth/token",
        json={"username": user.username, "password": "x"},
        environ_base={"REMOTE_ADDR": "127.0.3.1"},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 429 and not CJK.search(english.json["message"])


# --- JSON errors ----------------------------------------------------------------------------------------------

CJK = re.compile(r"[\u3400-\u9fff]")
BAD_ID = "110105198005170000"  # wrong check digit


def _json_errors(api_as, world, client, app):
    mediator = api_as(world["users"][Role.mediator])
    return {
        "case_not_found": lambda: mediator.get("/api/v1/cases/987654321"),
        "not_found": lambda: mediator.get("/api/v1/no-such-thing"),
        "method_not_allowed": lambda: mediator.delete("/api/v1/cases"),
        "token_required": lambda: client.get("/api/v1/cases"),
        "permission_denied": lambda: mediator.post(
            "/api/v1/organizations",
            json={"name": "某调解委员会", "kind": "people_mediation_committee", "region_code": "130602"},
        ),
        "validation_failed-empty": lambda: mediator.post("/api/v1/cases", json={}),
        "validation_failed-types": lambda: mediator.post(
            "/api/v1/cases",
            json={
                "organization_id": "abc",
                "received_on": "2026-13-45",
                "category": 5,
                "no_such_field": 1,
                "parties": "x",
            },
        ),
        "validation_failed-id": lambda: api_as(world["users"][Role.registry_admin]).post(
            "/api/v1/mediators",
            json={"name": "张三", "organization_id": world["organization"].id, "id_number": BAD_ID, "phone": "123"},
        ),
        "payload_too_large": lambda: mediator.post(
            "/api/v1/cases", data=_too_large(app), content_type="application/json"
        ),
        "bad_request": lambda: mediator.post("/api/v1/cases", data=b"{not json", content_type="application/json"),
    }


# each path and the machine code of its error (a refusal of the hub's own names itself; the class's code otherwise)
JSON_ERRORS = {
    "case_not_found": "case_not_found",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "token_required": "token_required",
    "permission_denied": "registry_writers_only",
    "validation_failed-empty": "validation_failed",
    "validation_failed-types": "validation_failed",
    "validation_failed-id": "validation_failed",
    "payload_too_large": "payload_too_large",
    "bad_request": "invalid_json",
}


def _messages(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from _messages(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _messages(value)
    else:
        yield tree


@pytest.mark.parametrize("case", JSON_ERRORS)
def test_json_errors_speak_chinese_with_a_code_per_message(api_as, world, client, app, case):
    response = _json_errors(api_as, world, client, app)[case]()
    body = response.json
    assert response.status_code >= 400 and body["code"] == response.status_code
    assert body["error"] == JSON_ERRORS[case]
    assert CJK.search(body["message"]), body["message"]
    assert latin_words([body["message"], *_messages(body.get("errors", {}))]) == []
    if "errors" in body:
        assert set(body["error_codes"]) == set(body["errors"])
        codes = list(_messages(body["error_codes"]))
        assert len(codes) == len(list(_messages(body["errors"])))
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in codes)
    assert response.headers["Content-Language"] == "zh-CN"
    assert "Accept-Language" in response.headers.get("Vary", "")


@pytest.mark.parametrize("case", JSON_ERRORS)
def test_json_errors_in_english_when_the_client_asks(api_as, world, client, app, case):
    from .conftest import ApiClient

    calls = _json_errors(api_as, world, client, app)
    original = ApiClient.__getattr__

    def english(self, method):
        call = original(self, method)
        return lambda url, **kwargs: call(
            url, **{**kwargs, "headers": {**kwargs.get("headers", {}), "Accept-Language": "en-US,en;q=0.9"}}
        )

    ApiClient.__getattr__ = english
    try:
        if case == "token_required":
            response = client.get("/api/v1/cases", headers={"Accept-Language": "en"})
        else:
            response = calls[case]()
    finally:
        ApiClient.__getattr__ = original
    body = response.json
    texts = [body["message"], *_messages(body.get("errors", {}))]
    assert [text for text in texts if CJK.search(text)] == []
    assert response.headers["Content-Language"] == "en"


def test_the_machine_codes_of_the_validation_errors(api_as, world):
    mediator = api_as(world["users"][Role.mediator])
    body = mediator.post("/api/v1/cases", json={"organization_id": "abc", "no_such_field": 1}).json
    codes = body["error_codes"]["json"]
    assert codes["organization_id"] == ["invalid_type"] and codes["no_such_field"] == ["unknown_field"]
    assert codes["category"] == ["required"]
    assert body["errors"]["json"]["category"] == ["此项为必填项"]
    registry = api_as(world["users"][Role.registry_admin])
    body = registry.post(
        "/api/v1/mediators", json={"name": "张三", "organization_id": world["organization"].id, "id_number": BAD_ID}
    ).json
    assert body["error_codes"]["json"]["id_number"] == ["id_number_check_digit"]
    assert body["errors"]["json"]["id_number"] == ["身份证号码校验位错误"]


def test_a_locale_asked_for_with_lang_works_for_the_api_too(api_as, world):
    mediator = api_as(world["users"][Role.mediator])
    response = mediator.get("/api/v1/cases/987654321?lang=en")
    assert response.json["error"] == "case_not_found" and response.json["message"] == "Case not found"
    assert mediator.get("/api/v1/cases/987654321").json["message"] == "未找到该案件"


# --- the English UI still works -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/cases/worklist", "/cases/new", "/registry/mediators", "/no-such-page"])
def test_english_pages_are_english(client, world, url):
    sign_in_client(client, world["users"][Role.mediator])
    first = client.get(url + "?lang=en")
    text = visible_text(first.get_data(as_text=True))
    assert first.headers["Content-Language"] == "en" and '<html lang="en">' in first.get_data(as_text=True)
    # the layout and the page's own texts are English (names of people, places and categories are data)
    assert {"Sign out", "Change password"} <= set(text) and "退出" not in text and "修改密码" not in text
    # remembered in the session
    again = client.get("/cases/worklist")
    assert again.headers["Content-Language"] == "en"
    client.get("/cases/worklist?lang=zh_Hans_CN")
    assert client.get("/cases/worklist").headers["Content-Language"] == "zh-CN"


def test_the_chinese_ui_is_the_default(client, world):
    sign_in_client(client, world["users"][Role.mediator])
    response = client.get("/cases/worklist", headers={"Accept-Language": "en"})  # pages follow ?lang=, not this
    assert response.headers["Content-Language"] == "zh-CN"


# --- the allow-list itself ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("身份证号码校验位错误", []),
        ("身份证号码校验位错误 (wrong check digit)", ["wrong", "check", "digit"]),
        ("导出 xlsx 或 csv · API 文档 · JJJ-MEDIATION · 110105********1234 · TR-000012 · 1 MB", []),
        ("case not found", ["case", "not", "found"]),
        ("user12 · 2026-12-07", []),
    ],
)
def test_latin_words_are_found_outside_the_allow_list(text, words):
    assert [found.split("'")[1] for found in latin_words([text])] == words


def test_visible_text_skips_scripts_and_reads_attributes():
    html = (
        '<p title="提示">文字</p><script>var x = "hello";</script><input type="submit" value="Save">'
        '<input type="text" value="typed"><img alt="图标"><a href="/cases?x=y">案件</a>'
    )
    assert visible_text(html) == ["提示", "文字", "Save", "图标", "案件"]


def test_visible_text_leaves_out_what_is_marked_not_to_translate():
    html = (
        '<p>本平台标识 <code translate="no">hebei</code></p>'
        '<td translate="no">peer_removed<br><span>connect_failed</span></td><td>已送达</td>'
        '<span class="badge">对方 <span translate="no">beijing</span> 平台</span>'
    )
    assert visible_text(html) == ["本平台标识", "已送达", "对方", "平台"]
