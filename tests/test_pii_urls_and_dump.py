"""No full ID number or phone in a URL, an audit row, a log line or the database (issue 12, item 3).

The case list's filter form is posted and answered with a redirect to a list URL where a number typed into the
box is its keyed hash (``pid``) and shows masked; an old link with the number is redirected the same way before
anything (the sign-in redirect, the audit log, the page) sees it; the API refuses the number in a query string
and searches by it in the body of ``POST /api/v1/cases/search``. At the end, the suite's personal-data journeys
are run through the pages and the API and the whole database is dumped (``pg_dump`` on PostgreSQL, ``iterdump``
on SQLite) and scanned, with every log line written meanwhile, for any number the journeys used."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from mediation_hub.audit.models import AuditEntry
from mediation_hub.cases.models import CaseStatus
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.logs import JsonFormatter
from mediation_hub.extensions import db
from mediation_hub.registry.models import OrgKind
from tests.conftest import TEST_KEYS
from tests.factories import valid_id_number
from tests.factories_cases import organization_party, person
from tests.factories_legal_aid import application_data
from tests.pii_guard import GUARD, HUB_LOGGERS, dump_database, find_numbers, scan_text

ID_NUMBER = valid_id_number(sequence=731)  # 110105 1980-05-17 …
MOBILE = "13812340731"
FIXED_LINE = "01065120731"  # 北京 010, as stored (typed "010-6512 0731")


def keyed_hash(kind: str, number: str) -> str:
    """The keyed hash worked out here, independently of the hub's ``lookup_hash``: HMAC-SHA256 of
    ``kind:number`` under the test LOOKUP_KEY."""
    key = base64.urlsafe_b64decode(TEST_KEYS["LOOKUP_KEY"])
    return hmac.new(key, f"{kind}:{number}".encode(), hashlib.sha256).hexdigest()


# (what is typed into the box, the party's stored number, its kind, the masked form the box shows)
TYPED = {
    "id number": (ID_NUMBER, ID_NUMBER, "ric", ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]),
    "id number typed in groups, small x": (
        f"{ID_NUMBER[:6]} {ID_NUMBER[6:14]} {ID_NUMBER[14:]}".lower(),
        ID_NUMBER,
        "ric",
        ID_NUMBER[:6] + "********" + ID_NUMBER[-4:],
    ),
    "mobile": (MOBILE, MOBILE, "phone", "138****0731"),
    "mobile with dashes": ("138-1234-0731", MOBILE, "phone", "138****0731"),
    "fixed line": ("010-6512 0731", FIXED_LINE, "phone", "010****0731"),
}


def backend(app) -> str:
    return sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def assert_no_number(text: str, *numbers: str) -> None:
    assert find_numbers(text) == [], [kind for kind, _ in find_numbers(text)]
    for number in numbers:
        assert number.lower() not in text.lower()


@pytest.fixture
def searched(signed_in, make_user, make_org, make_case):
    """A mediator's page client, the case whose applicant holds ID_NUMBER, MOBILE and FIXED_LINE (the latter as
    the respondent's phone) and another case of the same organisation."""
    org = make_org()
    wanted = make_case(
        org,
        CaseStatus.accepted,
        parties=[
            person("applicant", "王一", id_number=ID_NUMBER, phone=MOBILE),
            person("respondent", "赵二", with_number=False, phone=FIXED_LINE),
        ],
    )
    other = make_case(org, parties=[person("applicant", "钱三"), organization_party("respondent")])
    client = signed_in(make_user(role=Role.mediator, organization=org))
    return client, wanted, other


# --- the page: the form is posted, the URL carries the hash ------------------------------------------------


def test_the_filter_form_is_posted_with_its_csrf_token(searched):
    client, _wanted, _other = searched
    html = client.get("/cases").get_data(as_text=True)
    form = re.search(r'<form method="(\w+)" action="([^"]+)" class="filters case-filters">(.*?)</form>', html, re.S)
    assert form.group(1, 2) == ("post", "/cases")
    assert 'name="csrf_token"' in form.group(3) and 'name="q"' in form.group(3)


@pytest.mark.parametrize("typed", TYPED, ids=list(TYPED))
def test_a_number_typed_into_the_list_search_travels_as_its_keyed_hash(searched, typed):
    client, wanted, other = searched
    text, stored, kind, masked = TYPED[typed]
    expected_hash = keyed_hash(kind, stored)

    answer = client.post("/cases", data={"q": text, "status": "accepted", "date_from": ""})
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert query(location) == {"status": "accepted", "q": masked, "pid": expected_hash}
    assert_no_number(location, stored)

    page = client.get(location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert wanted.number in html and other.number not in html
    assert f'value="{masked}"' in html and f'<input type="hidden" name="pid" value="{expected_hash}">' in html
    assert "已按完整号码查询，此处仅显示掩码" in html
    assert_no_number(html, stored)
    links = re.findall(r'(?:href|action)="([^"]+)"', html)
    assert all(stored.lower() not in link.lower() for link in links)
    exports = [link.replace("&amp;", "&") for link in links if "/cases/export." in link]
    assert len(exports) == 2 and all(query(link)["pid"] == expected_hash for link in exports)


def test_the_export_from_a_number_search_is_audited_with_the_hash(searched):
    client, wanted, _other = searched
    location = client.post("/cases", data={"q": ID_NUMBER}).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    export = re.search(r'href="(/cases/export\.csv[^"]*)"', html).group(1).replace("&amp;", "&")
    answer = client.get(export)
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [wanted.number]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "personal_data_exported"))
    assert entry.detail["format"] == "csv"
    assert entry.detail["filters"] == {"person_hash": keyed_hash("ric", ID_NUMBER)}
    assert_no_number(json.dumps(entry.detail), ID_NUMBER)


@pytest.mark.parametrize("path", ["/cases", "/cases/export.csv"])
def test_an_old_link_with_the_number_is_redirected_to_the_hash_before_anything_sees_it(searched, path):
    client, _wanted, _other = searched
    answer = client.get(f"{path}?q={ID_NUMBER}&category=neighbour&page=2")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(path + "?")
    assert query(answer.headers["Location"]) == {
        "category": "neighbour",
        "page": "2",
        "q": ID_NUMBER[:6] + "********" + ID_NUMBER[-4:],
        "pid": keyed_hash("ric", ID_NUMBER),
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0  # not exported, not audited


def test_a_visitor_not_signed_in_is_sent_to_sign_in_without_the_number_and_without_its_hash(client):
    answer = client.get(f"/cases/export.xlsx?q={MOBILE}&status=accepted")
    assert answer.status_code == 303 and query(answer.headers["Location"]) == {"status": "accepted"}
    login = client.get(answer.headers["Location"])
    assert login.status_code == 302 and "/login" in login.headers["Location"]
    assert_no_number(login.headers["Location"], MOBILE)


@pytest.mark.parametrize(
    ("posted", "expected"),
    [
        # the box still shows the masked number of the last search: the hash stays
        (
            {"q": "138****0731", "pid": keyed_hash("phone", MOBILE), "status": "registered"},
            {"q": "138****0731", "pid": keyed_hash("phone", MOBILE), "status": "registered"},
        ),
        # the box emptied, or another text typed: the search by number ends
        ({"q": "", "pid": keyed_hash("phone", MOBILE)}, {}),
        ({"q": "漏水", "pid": keyed_hash("phone", MOBILE)}, {"q": "漏水"}),
        # what is no personal number stays text: a case-number fragment (not a 广州 fixed line), a USCC
        ({"q": "2026-000007"}, {"q": "2026-000007"}),
        ({"q": "91110105MA01ABCD39"}, {"q": "91110105MA01ABCD39"}),
    ],
)
def test_the_hash_is_kept_only_while_the_box_shows_its_masked_number(searched, posted, expected):
    client, _wanted, _other = searched
    answer = client.post("/cases", data=posted)
    assert answer.status_code == 303 and query(answer.headers["Location"]) == expected


def test_a_malformed_hash_is_ignored_and_a_number_in_any_parameter_is_redirected_away(searched):
    client, wanted, other = searched
    html = client.get("/cases?pid=not-a-hash").get_data(as_text=True)
    assert wanted.number in html and other.number in html and 'name="pid"' not in html
    assert "not-a-hash" not in re.search(r'href="(/cases/export\.csv[^"]*)"', html).group(1)
    answer = client.get(f"/cases?pid={MOBILE}&studio_id={ID_NUMBER}&category=neighbour&page=x")
    assert answer.status_code == 303 and answer.headers["Location"] == "/cases?category=neighbour"


@pytest.mark.browser
def test_in_the_browser_the_address_bar_and_the_server_log_never_hold_the_number(page, sign_in, make_case):
    """A person types an ID number into the box: the address bar (history, bookmarks) gets the keyed hash, the
    box the masked number, the dev server's request log (watched by the guard) only the hash; changing another
    filter keeps the search, emptying the box ends it."""
    from mediation_hub.registry import service as registry
    from tests.browser_steps import PASSWORD, committed_mediator

    org_id, username, _mediator = committed_mediator(f"pii{ID_NUMBER[-5:]}")
    org = registry.get_organization(SYSTEM, org_id)
    wanted = make_case(
        org, CaseStatus.accepted, parties=[person("applicant", id_number=ID_NUMBER), person("respondent")]
    )
    other = make_case(org)
    wanted_number, other_number = wanted.number, other.number
    db.session.commit()

    sign_in(username, PASSWORD)
    page.goto("/cases")
    page.fill("#q", ID_NUMBER)
    page.click("button:has-text('筛选')")
    page.wait_for_load_state("networkidle")
    assert query(page.url) == {"q": ID_NUMBER[:6] + "********" + ID_NUMBER[-4:], "pid": keyed_hash("ric", ID_NUMBER)}
    assert page.input_value("#q") == ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]
    numbers = page.locator("table.case-list tbody tr.case-row td:first-child a").all_inner_texts()
    assert numbers == [wanted_number]

    page.select_option("#status", "registered")  # another filter, the box untouched: still the same person
    page.click("button:has-text('筛选')")
    page.wait_for_load_state("networkidle")
    assert query(page.url)["pid"] == keyed_hash("ric", ID_NUMBER) and query(page.url)["status"] == "registered"
    assert page.locator("table.case-list tbody tr.case-row").count() == 0

    page.select_option("#status", "")
    page.fill("#q", "")
    page.click("button:has-text('筛选')")
    page.wait_for_load_state("networkidle")
    assert "pid" not in query(page.url)
    shown = page.locator("table.case-list tbody tr.case-row td:first-child a").all_inner_texts()
    assert sorted(shown) == sorted([wanted_number, other_number])
    assert ID_NUMBER not in page.url


# --- the API: refused in a query string, searched in a body ---------------------------------------------------


@pytest.mark.parametrize("typed", TYPED, ids=list(TYPED))
def test_the_api_refuses_a_number_in_the_query_string_and_names_q(api_as, searched, typed):
    _client, wanted, _other = searched
    api = api_as(role=Role.mediator, organization=wanted.organization)
    answer = api.get("/api/v1/cases", query_string={"q": TYPED[typed][0]})
    assert answer.status_code == 422
    assert list(answer.json["errors"]["query"]) == ["q"]
    assert "POST /api/v1/cases/search" in answer.json["errors"]["query"]["q"][0]
    assert_no_number(answer.get_data(as_text=True), TYPED[typed][1])


@pytest.mark.parametrize("typed", TYPED, ids=list(TYPED))
def test_the_api_searches_by_a_number_in_the_body_or_by_its_hash(api_as, searched, typed):
    _client, wanted, _other = searched
    text, stored, kind, _masked = TYPED[typed]
    api = api_as(role=Role.mediator, organization=wanted.organization)
    in_body = api.post("/api/v1/cases/search", json={"q": text})
    assert in_body.status_code == 200, in_body.json
    assert [c["id"] for c in in_body.json["items"]] == [wanted.id] and in_body.json["total"] == 1
    by_hash = api.get("/api/v1/cases", query_string={"pid": keyed_hash(kind, stored)})
    assert [c["id"] for c in by_hash.json["items"]] == [wanted.id]
    for answer in (in_body, by_hash):
        assert_no_number(answer.get_data(as_text=True), stored)


def test_the_search_body_takes_every_filter_of_the_list_and_pages_like_it(api_as, make_org, make_case):
    org = make_org()
    make_case(org, CaseStatus.accepted, parties=[person("applicant", id_number=ID_NUMBER), person("respondent")])
    make_case(org, parties=[person("applicant", id_number=ID_NUMBER), person("respondent")])
    make_case(org, parties=[person("applicant", id_number=ID_NUMBER), person("respondent")])
    make_case(org)
    api = api_as(role=Role.mediator, organization=org)
    first = api.post("/api/v1/cases/search", json={"q": ID_NUMBER, "per_page": 2})
    second = api.post("/api/v1/cases/search", json={"q": ID_NUMBER, "per_page": 2, "page": 2})
    assert (first.json["total"], len(first.json["items"]), len(second.json["items"])) == (3, 2, 1)
    registered = api.post("/api/v1/cases/search", json={"q": ID_NUMBER, "status": "registered"})
    assert registered.json["total"] == 2
    refused = api.post("/api/v1/cases/search", json={"q": ID_NUMBER, "status": "bogus", "pid": "x"})
    assert refused.status_code == 422 and set(refused.json["errors"]["json"]) == {"status", "pid"}


def test_the_api_still_searches_text_and_uscc_in_the_query_string(api_as, make_org, make_case):
    org = make_org()
    leak = make_case(org, summary="厨房漏水")
    company = make_case(org, parties=[person("applicant"), organization_party("respondent", code="91110105MA01ABCD39")])
    api = api_as(role=Role.mediator, organization=org)
    assert [c["id"] for c in api.get("/api/v1/cases?q=厨房").json["items"]] == [leak.id]
    assert [c["id"] for c in api.get("/api/v1/cases?q=91110105MA01ABCD39").json["items"]] == [company.id]


def test_the_openapi_document_says_where_a_number_is_searched(client):
    spec = client.get("/api/v1/openapi.json").json
    listing = spec["paths"]["/api/v1/cases"]["get"]
    q = next(p for p in listing["parameters"] if p["name"] == "q")
    assert "POST /api/v1/cases/search" in q["description"] and "POST /api/v1/cases/search" in listing["description"]
    assert {p["name"] for p in listing["parameters"]} >= {"q", "pid", "page", "per_page"}
    search = spec["paths"]["/api/v1/cases/search"]["post"]
    assert "200" in search["responses"] and "requestBody" in search


# --- the audit log: what every search or export row keeps -----------------------------------------------------


def test_no_audit_row_of_the_journeys_holds_a_number(searched, api_as, make_user):
    client, wanted, _other = searched
    client.get(f"/cases/export.xlsx?q={MOBILE}")  # redirected, then followed below
    client.get(client.post("/cases", data={"q": MOBILE}).headers["Location"].replace("/cases?", "/cases/export.xlsx?"))
    api = api_as(role=Role.mediator, organization=wanted.organization)
    api.post(f"/api/v1/cases/{wanted.id}/parties/{wanted.parties[0].id}/reveal")
    admin = api_as(make_user(role=Role.admin))
    assert admin.post("/api/v1/privacy/person-export", json={"id_number": ID_NUMBER}).status_code == 200
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries if e.action != "token_issued"] == [
        "personal_data_exported",
        "reveal_id_number",
        "personal_data_exported",
    ]
    assert entries[0].detail["filters"] == {"person_hash": keyed_hash("phone", MOBILE)}
    for entry in entries:
        text = json.dumps([entry.detail, entry.target_id, entry.username, entry.target_type])
        assert_no_number(text, ID_NUMBER, MOBILE, FIXED_LINE)


# --- the whole database and every log line after the personal-data journeys ----------------------------------


class _LogLines(logging.Handler):
    """Every record the hub's loggers and the root logger write, as its message and its exception."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record):
        self.texts.append(
            record.getMessage()
            + ("\n" + logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        )


def _journeys(numbers: dict[str, str], *, signed_in, api_as, make_user, make_org, make_centre, make_officer) -> None:
    """The suite's personal-data journeys, through the pages and the API as people and clients use them:
    registering parties with ID numbers and phones (API and page), a mediator, a legal-aid application; revealing;
    searching by number (page, old link, API body); exporting the searched list; a person's export and erasure
    (page and API)."""
    org = make_org(region_code="110105")
    mediator_user = make_user(role=Role.mediator, organization=org)
    api = api_as(mediator_user)
    created = api.post(
        "/api/v1/cases",
        json={
            "organization_id": org.id,
            "category": "neighbour",
            "source": "party_application",
            "summary": "楼上漏水",
            "received_on": "2026-03-02",
            "occurred_region_code": "110105",
            "parties": [
                person("applicant", "孙一", id_number=numbers["api applicant"], phone=numbers["api applicant phone"]),
                person("respondent", "李二", id_number=numbers["api respondent"], phone=numbers["fixed line"]),
                organization_party("third_party"),
            ],
        },
    )
    assert created.status_code == 201, created.json
    case_id, party_id = created.json["id"], created.json["parties"][0]["id"]
    assert api.post(f"/api/v1/cases/{case_id}/parties/{party_id}/reveal").status_code == 200

    page = signed_in(mediator_user)
    form = {
        "category": "neighbour",
        "source": "party_application",
        "summary": "噪音扰民",
        "received_on": "2026-03-02",
        "occurred_region_code": "110105",
    }
    for index, (role, name, key) in enumerate(
        (("applicant", "周三", "page applicant"), ("respondent", "吴四", "page respondent"))
    ):
        form.update(
            {
                f"parties-{index}-role": role,
                f"parties-{index}-kind": "person",
                f"parties-{index}-name": name,
                f"parties-{index}-number": numbers[key],
                f"parties-{index}-phone": numbers[key + " phone"],
                f"parties-{index}-region_code": "110105",
            }
        )
    registered = page.post("/cases/new", data=form)
    assert registered.status_code == 302, registered.get_data(as_text=True)[:2000]
    page_case = int(registered.headers["Location"].rsplit("/", 1)[1])
    page_party = api.get(f"/api/v1/cases/{page_case}").json["parties"][0]["id"]
    assert page.post(f"/cases/{page_case}/parties/{page_party}/reveal").status_code == 200

    for typed in (numbers["page applicant"], numbers["api applicant phone"], "010-" + numbers["fixed line"][3:]):
        listed = page.get(page.post("/cases", data={"q": typed}).headers["Location"])
        assert listed.status_code == 200
        export = re.search(r'href="(/cases/export\.xlsx[^"]*)"', listed.get_data(as_text=True)).group(1)
        assert page.get(export.replace("&amp;", "&")).status_code == 200
    assert page.get(f"/cases/export.csv?q={numbers['api respondent']}", follow_redirects=True).status_code == 200
    assert page.get(f"/cases?q={numbers['page respondent phone']}", follow_redirects=True).status_code == 200
    assert api.get("/api/v1/cases", query_string={"q": numbers["api respondent"]}).status_code == 422
    assert api.post("/api/v1/cases/search", json={"q": numbers["api respondent"]}).json["total"] == 1

    admin = api_as(make_user(role=Role.admin))
    made = admin.post(
        "/api/v1/mediators",
        json={
            "name": "郑调解",
            "organization_id": org.id,
            "id_number": numbers["mediator"],
            "phone": numbers["mediator phone"],
        },
    )
    assert made.status_code == 201, made.json
    assert admin.post(f"/api/v1/mediators/{made.json['id']}/reveal").status_code == 200

    centre = make_centre("130602")
    officer = api_as(make_officer(centre))
    filing = application_data(
        centre.id,
        received_on="2025-09-10",
        applicant={
            "name": "冯五",
            "id_number": numbers["applicant"],
            "phone": numbers["applicant phone"],
            "region_code": "130602",
        },
    )
    filed = officer.post("/api/v1/legal-aid/applications", json=filing)
    assert filed.status_code == 201, filed.json

    admin_page = signed_in(make_user(role=Role.admin))
    looked_up = admin_page.post("/privacy/person", data={"id_number": numbers["applicant"]})
    token = re.search(r'name="person" type="hidden" value="([^"]+)"', looked_up.get_data(as_text=True)).group(1)
    assert admin_page.post("/privacy/person/export", data={"person": token, "format": "xlsx"}).status_code == 200
    erased = admin_page.post("/privacy/person/erase", data={"person": token, "stage": "confirm", "confirm": "y"})
    assert erased.status_code == 302
    assert admin.post("/api/v1/privacy/person-export", json={"id_number": numbers["api applicant"]}).status_code == 200
    assert admin.post("/api/v1/privacy/person-erase", json={"id_number": numbers["page applicant"]}).status_code == 200


def _journey_numbers(base: int) -> dict[str, str]:
    ids = ("api applicant", "api respondent", "page applicant", "page respondent", "mediator")
    numbers = {name: valid_id_number(sequence=base + i) for i, name in enumerate(ids)}
    numbers["applicant"] = valid_id_number("130602", sequence=base + 9)
    for i, name in enumerate(("api applicant", "page applicant", "page respondent", "mediator", "applicant")):
        numbers[name + " phone"] = f"1391234{base + i:04d}"
    numbers["fixed line"] = f"0106512{base:04d}"
    return numbers


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.real_commits])]
)
def test_after_the_personal_data_journeys_the_database_dump_and_the_logs_hold_no_number(
    dialect, app, signed_in, api_as, make_user, make_org, make_centre, make_officer
):
    if backend(app) != dialect:
        pytest.skip(f"the {dialect} dump runs on the {dialect} test database")
    numbers = _journey_numbers(810 if dialect == "sqlite" else 850)
    lines = _LogLines()
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in (*HUB_LOGGERS, "mediation_hub.access")]
    # Whatever an earlier test in this process did to logging (a global disable, a logger switched off or raised to
    # WARNING), the journeys are logged as a serving process logs them; put back afterwards.
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    was_disabled = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for logger in loggers:
        logger.addHandler(lines)
        logger.disabled = False
        if logger.name != "root" and (logger.level == logging.NOTSET or logger.level > logging.INFO):
            logger.setLevel(logging.INFO)
    try:
        with GUARD.expect() as caught:  # the session-wide guard sees the same answers; it must find nothing
            _journeys(
                numbers,
                signed_in=signed_in,
                api_as=api_as,
                make_user=make_user,
                make_org=make_org,
                make_centre=make_centre,
                make_officer=make_officer,
            )
    finally:
        for logger, level, disabled in saved:
            logger.removeHandler(lines)
            logger.setLevel(level)
            logger.disabled = disabled
        logging.disable(was_disabled)
    assert [f.describe() for f in caught] == []
    assert len(lines.texts) > 10  # the access log of every request at least
    assert scan_text("\n".join(lines.texts), numbers.values()) == []

    dump = dump_database(db.session.connection())
    # the journeys did store what the dump is searched for: encrypted, masked and hashed
    assert "孙一" in dump and numbers["api applicant"][:6] + "********" + numbers["api applicant"][-4:] in dump
    assert keyed_hash("phone", numbers["fixed line"]) in dump
    assert scan_text(dump, numbers.values()) == []


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.real_commits])]
)
def test_the_dump_scan_finds_a_number_wherever_it_is_left(dialect, app, make_org, make_case):
    """The scan is not blind: a number typed into free text, one in an audit row's detail (as an old export's
    row held it), a fixed-line phone no pattern knows, an ID number with a small x."""
    if backend(app) != dialect:
        pytest.skip(f"the {dialect} dump runs on the {dialect} test database")
    org = make_org(name=f"电话{FIXED_LINE}的调解委员会", kind=OrgKind.people_mediation_committee)
    make_case(org, summary=f"申请人身份证{ID_NUMBER.lower()}，手机{MOBILE}")
    db.session.add(AuditEntry(username="x", action="personal_data_exported", detail={"filters": {"q": ID_NUMBER}}))
    db.session.commit()  # what pg_dump sees; on SQLite the test's own transaction, dumped by its connection
    found = scan_text(dump_database(db.session.connection()), [ID_NUMBER, MOBILE, FIXED_LINE])
    kinds = [kind for kind, _excerpt in found]
    assert kinds.count("ID number") == 2 and kinds.count("mobile number") == 1
    assert kinds.count("a number the test used") == 4  # the ID number twice, the mobile, the fixed line
    assert all(ID_NUMBER not in excerpt and FIXED_LINE not in excerpt for _kind, excerpt in found)


def test_a_number_typed_into_a_url_is_masked_in_the_access_log(app, client, caplog):
    # An id is typed by anyone (a fuzzer sent 15415153575 as a case id): whatever is shaped like a mobile number
    # is masked in the access line and in the JSON path field alike.
    with caplog.at_level(logging.INFO, logger="mediation_hub.access"):
        client.get("/api/v1/cases/13912345678")
    lines = [record.getMessage() for record in caplog.records if record.name == "mediation_hub.access"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /api/v1/cases/139****5678 ")
    with app.test_request_context("/cases/13912345678/follow-ups"):
        record = logging.LogRecord("mediation_hub", logging.INFO, __file__, 1, "looked", None, None)
        assert json.loads(JsonFormatter().format(record))["path"] == "/cases/139****5678/follow-ups"
