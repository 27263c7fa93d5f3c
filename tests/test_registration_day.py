"""Registration as a mediator lives it (issue 13 point 5): a possible duplicate is warned of before saving (same
party by the keyed hash of its ID number or USCC, an open case registered in the last 90 calendar days; the other
organisations' cases only counted) with the choice to go on; one summary limit, 5000, on the page, the API and
the import; amounts written the Chinese way; the legal-aid and transfer dates prefilled with today.

The clock is frozen on 2026-12-07 10:00 in Shanghai: 90 days back is 2026-09-08 (Sep 8 → Dec 7: 22 days left of
September + 31 + 30 + 7 = 90)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
import time_machine

from mediation_hub.cases import service
from mediation_hub.cases.models import Case, CaseStatus
from mediation_hub.cases.rules import SUMMARY_MAX_LENGTH, to_amount
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.shanghai import SHANGHAI
from mediation_hub.extensions import db
from mediation_hub.imports import service as imports
from tests.factories import valid_id_number
from tests.factories_cases import case_data, organization_party, person
from tests.import_samples import row, write_csv

TODAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2026, 12, 7, 10, tzinfo=SHANGHAI), tick=False):
        yield


def _count(model=Case) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _mediator(make_user, org):
    return make_user(role=Role.mediator, organization=org).to_actor()


# --- the duplicate warning: the rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_on", "status", "warned"),
    [
        (date(2026, 9, 8), CaseStatus.registered, True),  # 90 days ago: still within the window
        (date(2026, 9, 7), CaseStatus.registered, False),  # 91 days ago
        (TODAY, CaseStatus.accepted, True),
        (date(2026, 12, 1), CaseStatus.in_mediation, True),
        (date(2026, 11, 1), CaseStatus.concluded, False),  # concluded: not open
        (date(2026, 11, 1), CaseStatus.declined, False),  # declined: not open
    ],
    ids=["90-days", "91-days", "accepted-today", "in-mediation", "concluded", "declined"],
)
def test_the_same_party_in_an_open_case_of_the_last_90_days_is_a_possible_duplicate(
    make_org, make_case, received_on, status, warned
):
    org = make_org()
    applicant = person("applicant")
    existing = make_case(org, status, parties=[applicant, person("respondent")], received_on=received_on)
    found = service.possible_duplicates(SYSTEM, [applicant])
    assert [c.id for c in found.candidates] == ([existing.id] if warned else [])
    assert bool(found) is warned


@pytest.mark.parametrize("party", ["respondent-person", "organization"])
def test_any_party_matches_by_its_number_whatever_its_role(make_org, make_case, party):
    org = make_org()
    other = person("respondent") if party == "respondent-person" else organization_party("respondent")
    existing = make_case(org, parties=[person("applicant"), other], received_on=TODAY)
    again = dict(other, role="applicant", name="另一个名字")  # the name does not matter, the number does
    assert [c.id for c in service.possible_duplicates(SYSTEM, [again]).candidates] == [existing.id]


def test_the_same_name_with_another_number_is_no_duplicate(make_org, make_case):
    org = make_org()
    make_case(org, parties=[person("applicant", name="张伟"), person("respondent")], received_on=TODAY)
    assert not service.possible_duplicates(SYSTEM, [person("applicant", name="张伟")])


def test_another_organisations_case_is_only_counted(make_org, make_case, make_user):
    theirs, ours = make_org(), make_org()
    applicant = person("applicant")
    elsewhere = make_case(theirs, parties=[applicant, person("respondent")], received_on=TODAY)
    found = service.possible_duplicates(_mediator(make_user, ours), [applicant])
    assert (found.candidates, found.elsewhere, found.case_ids) == ([], 1, [elsewhere.id])
    assert [c.id for c in service.possible_duplicates(_mediator(make_user, theirs), [applicant]).candidates] == [
        elsewhere.id
    ]


def test_registering_stops_on_a_duplicate_until_confirmed(make_org, make_case, make_user):
    org = make_org()
    actor = _mediator(make_user, org)
    applicant = person("applicant")
    existing = make_case(org, parties=[applicant, person("respondent")], received_on=TODAY)
    data = case_data(org.id, received_on=TODAY, parties=[applicant, person("respondent")])
    before = _count()
    with pytest.raises(service.PossibleDuplicate) as caught:
        service.register_case(actor, data, stop_on_duplicate=True)
    assert caught.value.status == 409 and caught.value.message.code == "possible_duplicate"
    assert [c.id for c in caught.value.check.candidates] == [existing.id]
    assert _count() == before  # raised before anything was written
    case, warnings = service.register_case(actor, data)  # confirmed: registered, with the warning
    assert [w["case_id"] for w in warnings] == [existing.id]
    assert case.events[0].data["possible_duplicates"] == [existing.id]


# --- the duplicate warning: the API -------------------------------------------------------------------------


def _body(org, applicant, **fields) -> dict:
    body = {
        "organization_id": org.id,
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水致楼下受损",
        "received_on": TODAY.isoformat(),
        "occurred_region_code": "110105",
        "parties": [applicant, person("respondent", with_number=False)],
    }
    return {**body, **fields}


def test_the_api_answers_409_with_the_candidates_and_registers_once_confirmed(api_as, make_org, make_case):
    org = make_org()
    applicant = person("applicant")
    existing = make_case(org, parties=[applicant, person("respondent")], received_on=date(2026, 11, 20))
    api = api_as(role=Role.mediator, organization=org)  # (signing in commits: the case outlives the 409's rollback)
    before = _count()
    refused = api.post("/api/v1/cases", json=_body(org, applicant))
    assert refused.status_code == 409 and refused.json["error"] == "possible_duplicate"
    [candidate] = refused.json["duplicates"]["candidates"]
    assert (candidate["case_id"], candidate["number"], candidate["received_on"], candidate["status"]) == (
        existing.id,
        existing.number,
        "2026-11-20",
        "registered",
    )
    assert refused.json["duplicates"]["elsewhere"] == 0
    assert applicant["id_number"] not in refused.get_data(as_text=True)  # parties masked
    assert _count() == before

    checked = api.post("/api/v1/cases/check-duplicates", json={"parties": [applicant]})
    assert checked.status_code == 200 and checked.json == refused.json["duplicates"]
    assert _count() == before

    confirmed = api.post("/api/v1/cases", json=_body(org, applicant, confirm_duplicate=True))
    assert confirmed.status_code == 201
    assert [w["number"] for w in confirmed.json["warnings"]] == [existing.number]


def test_the_api_names_no_case_of_another_organisation(api_as, make_org, make_case):
    theirs, ours = make_org(), make_org()
    applicant = person("applicant")
    elsewhere = make_case(theirs, parties=[applicant, person("respondent")], received_on=TODAY)
    api = api_as(role=Role.mediator, organization=ours)
    refused = api.post("/api/v1/cases", json=_body(ours, applicant))
    assert refused.status_code == 409
    assert refused.json["duplicates"] == {"candidates": [], "elsewhere": 1}
    assert elsewhere.number not in refused.get_data(as_text=True)
    confirmed = api.post("/api/v1/cases", json=_body(ours, applicant, confirm_duplicate=True))
    assert [(w["code"], w["case_id"]) for w in confirmed.json["warnings"]] == [("possible_duplicate_elsewhere", None)]


def test_officials_may_not_probe_for_duplicates(api_as):
    api = api_as(role=Role.coordinator, region_code="110000")
    assert api.post("/api/v1/cases/check-duplicates", json={"parties": [person("applicant")]}).status_code == 403


# --- amounts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("3，500。00", Decimal("3500.00")),  # Chinese comma and full stop
        ("３５００", Decimal("3500.00")),  # full-width digits
        ("3,500.00", Decimal("3500.00")),
        ("￥3500", Decimal("3500.00")),
        ("¥1,200.5元", Decimal("1200.50")),
        ("3500元", Decimal("3500.00")),
        (" 12.300 ", Decimal("12.30")),  # trailing zeros are no third decimal
        (1200, Decimal("1200.00")),
        (12.3, Decimal("12.30")),
        ("", None),
    ],
)
def test_amounts_as_people_write_them(written, amount):
    errors: dict = {}
    assert to_amount(written, "amount_yuan", errors) == amount
    assert errors == {}


@pytest.mark.parametrize(
    ("written", "code", "text"),
    [
        ("3.500.00", "amount_two_points", "金额只能有一个小数点"),
        ("12.345", "too_many_decimals", "金额最多两位小数"),
        ("abc", "invalid_amount", "金额只能填写数字，如 3500 或 3500.00"),
        ("3,5", "amount_bad_grouping", "金额中的逗号只能作千位分隔符（如 3,500.00）"),
        ("-5", "negative_amount", "金额不能为负数"),
        ("0", "amount_not_positive", "金额须大于 0；没有金额请留空"),
        ("0.00", "amount_not_positive", "金额须大于 0；没有金额请留空"),
        ("1000000000000", "amount_too_large", "金额超出允许范围（最多 999999999999.99 元）"),
    ],
)
def test_a_wrong_amount_says_exactly_what_is_wrong(written, code, text):
    errors: dict = {}
    assert to_amount(written, "amount_yuan", errors) is None
    [message] = errors["amount_yuan"]
    assert (message.code, str(message)) == (code, text)


def test_the_page_the_api_and_the_import_read_amounts_alike(signed_in, api_as, make_org, make_user, tmp_path):
    org = make_org()
    api = api_as(role=Role.mediator, organization=org)
    created = api.post("/api/v1/cases", json=_body(org, person("applicant"), amount_yuan="3，500。00"))
    assert created.status_code == 201 and created.json["amount_yuan"] == "3500.00"
    refused = api.post("/api/v1/cases", json=_body(org, person("applicant"), amount_yuan="0"))
    assert refused.status_code == 422
    assert refused.json["errors"]["json"]["amount_yuan"] == ["金额须大于 0；没有金额请留空"]

    client = signed_in(make_user(role=Role.mediator, organization=org))
    assert client.post("/cases/new", data=_form(amount_yuan="３５００")).status_code == 302
    page = client.post("/cases/new", data=_form(amount_yuan="3.500.00"))
    assert page.status_code == 422 and "金额只能有一个小数点" in page.get_data(as_text=True)

    summary = imports.import_file(
        write_csv(
            tmp_path / "amounts.csv",
            [row("A1", **{"涉及金额(元)": "3，500。00"}), row("A2", **{"涉及金额(元)": "12.345"})],
        ),
        org.id,
        SYSTEM,
        source_system="old",
    )
    assert (summary.imported, [(f.column, f.reason) for f in summary.failures]) == (
        1,
        [("涉及金额(元)", "金额最多两位小数")],
    )
    assert db.session.scalar(sa.select(Case.amount_yuan).where(Case.source_number == "A1")) == Decimal("3500.00")


# --- the summary: one limit, 5000 ---------------------------------------------------------------------------


def _form(**fields) -> dict:
    form = {
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水，协商未果",
        "received_on": TODAY.isoformat(),
        "occurred_region_code": "110105",
        "amount_yuan": "",
        "parties-0-role": "applicant",
        "parties-0-kind": "person",
        "parties-0-name": "张三",
        "parties-0-number": valid_id_number(),
        "parties-1-role": "respondent",
        "parties-1-kind": "person",
        "parties-1-name": "李四",
    }
    return {**form, **fields}


@pytest.mark.parametrize(
    ("length", "accepted"), [(SUMMARY_MAX_LENGTH, True), (SUMMARY_MAX_LENGTH + 1, False)], ids=["5000", "5001"]
)
def test_one_summary_limit_on_the_api_the_page_and_the_import(
    signed_in, api_as, make_org, make_user, tmp_path, length, accepted
):
    assert SUMMARY_MAX_LENGTH == 5000
    org = make_org()
    text = "纠" * length
    api = api_as(role=Role.mediator, organization=org)
    response = api.post("/api/v1/cases", json=_body(org, person("applicant"), summary=text))
    assert response.status_code == (201 if accepted else 422)
    if not accepted:
        assert set(response.json["errors"]["json"]) == {"summary"}

    client = signed_in(make_user(role=Role.mediator, organization=org))
    page = client.post("/cases/new", data=_form(summary=text))
    assert page.status_code == (302 if accepted else 422)
    if not accepted:
        html = page.get_data(as_text=True)
        assert 'id="summary-errors"' in html and "纠纷简要情况最多 5000 字，现有 5001 字" in html

    summary = imports.import_file(
        write_csv(tmp_path / "long.csv", [row("L1", **{"纠纷简要情况": text})]), org.id, SYSTEM, source_system="old"
    )
    assert summary.imported == (1 if accepted else 0)
    assert [f.column for f in summary.failures] == ([] if accepted else ["纠纷简要情况"])


def test_the_summary_has_a_counter_on_the_page(signed_in, make_user, make_org):
    client = signed_in(make_user(role=Role.mediator, organization=make_org()))
    html = client.get("/cases/new").get_data(as_text=True)
    assert 'data-max-length="5000"' in html and "js/char-counter.js" in html
    assert 'maxlength="' not in html.split('id="summary"')[0].rsplit("<textarea", 1)[-1]  # pasting is never cut


# --- the legal-aid and transfer forms: today prefilled, messages on the page --------------------------------


def test_the_legal_aid_form_is_prefilled_with_today_and_checked_by_the_server(signed_in, make_centre, make_officer):
    centre = make_centre()
    client = signed_in(make_officer(centre))
    html = client.get("/legal-aid/applications/new").get_data(as_text=True)
    assert 'value="2026-12-07"' in html.split('name="received_on"')[1].split(">")[0]
    assert "novalidate" in html.split('class="form la-filing"')[1].split(">")[0]


def test_the_transfer_and_legal_aid_step_dates_default_to_today(app):
    from mediation_hub.legal_aid.forms import AcceptForm as AcceptApplicationForm
    from mediation_hub.legal_aid.forms import AssignForm, CloseForm, DecideForm, TransferForm
    from mediation_hub.transfers.forms import AcceptTransferForm

    with app.test_request_context():
        assert AcceptTransferForm(formdata=None, meta={"csrf": False}).answered_on.data == TODAY
        for form, name in [
            (TransferForm, "transferred_on"),
            (AcceptApplicationForm, "accepted_on"),
            (DecideForm, "decided_on"),
            (AssignForm, "assigned_on"),
            (CloseForm, "closed_on"),
        ]:
            assert form(formdata=None, meta={"csrf": False})[name].data == TODAY, name
