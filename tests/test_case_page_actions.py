"""Issue 13 points 2, 4 and 6 without a browser: an agreement needs its terms (service, API, page and import
alike, code ``terms_required``), the case page offers each action as a button with one form open at a time,
the irreversible steps carry their confirmation texts, and a greyed-out button says why in words."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import g

from mediation_hub.cases import service
from mediation_hub.cases.models import Case, CaseStatus, ConfirmationStatus, Outcome
from mediation_hub.cases.service.transitions import unavailable_actions
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.messages import code_of
from mediation_hub.errors import ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.imports import service as imports
from tests.import_samples import row, write_csv

BLANK_TERMS = pytest.mark.parametrize("terms", [None, "", "   ", "\n\t "], ids=["missing", "empty", "spaces", "blank"])


@pytest.fixture
def mediator_client(signed_in, make_user, make_org, make_mediator):
    org = make_org(name="竞秀区测试调解委员会")
    make_mediator(organization=org, name="李调解")
    user = make_user(role=Role.mediator, organization=org)
    g.pop("_login_user", None)
    g.pop("actor", None)
    client = signed_in(user)
    client.org = org
    return client


def html_of(response) -> str:
    return response.get_data(as_text=True)


# --- the rule: an agreement needs its terms ------------------------------------------------------------


@BLANK_TERMS
def test_the_service_refuses_an_agreement_without_terms(make_case, terms):
    case = make_case(status=CaseStatus.in_mediation)
    with pytest.raises(ValidationFailed) as caught:
        service.conclude_case(
            SYSTEM,
            case.id,
            outcome="agreement",
            concluded_on=case.last_step_on,
            agreement_amount_yuan="3500",
            terms=terms,
        )
    assert list(caught.value.errors) == ["terms"]
    assert code_of(caught.value.errors["terms"][0]) == "terms_required"
    assert caught.value.errors["terms"][0] == "达成协议的须填写协议内容"
    assert case.status == CaseStatus.in_mediation


@pytest.mark.parametrize(("amount", "stored"), [(None, None), ("3500", "3500.00")], ids=["no-amount", "amount"])
def test_an_agreement_with_terms_concludes_with_or_without_an_amount(make_case, amount, stored):
    case = make_case(status=CaseStatus.in_mediation)
    service.conclude_case(
        SYSTEM,
        case.id,
        outcome="agreement",
        concluded_on=case.last_step_on,
        agreement_amount_yuan=amount,
        terms="  双方互不追究  ",
    )
    assert case.status == CaseStatus.concluded and case.agreement_terms == "双方互不追究"
    assert (None if case.agreement_amount_yuan is None else str(case.agreement_amount_yuan)) == stored


@pytest.mark.parametrize("outcome", ["no_agreement", "withdrawn", "referred"])
def test_other_outcomes_need_no_terms(make_case, outcome):
    case = make_case(status=CaseStatus.in_mediation)
    service.conclude_case(SYSTEM, case.id, outcome=outcome, concluded_on=case.last_step_on)
    assert case.status == CaseStatus.concluded


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "agreement", "agreement_amount_yuan": "3500"},
        {"outcome": "agreement", "agreement_amount_yuan": "3500", "terms": ""},
        {"outcome": "agreement", "terms": "   "},
        {"outcome": "agreement", "terms": None},
    ],
    ids=["missing", "empty", "spaces", "null"],
)
def test_the_api_answers_422_naming_terms(api_as, make_case, body):
    case = make_case(status=CaseStatus.in_mediation)
    api = api_as(role=Role.admin)
    response = api.post(f"/api/v1/cases/{case.id}/conclude", json=body)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]["json"]
    assert "terms" in errors and errors["terms"] == ["达成协议的须填写协议内容"]
    assert response.json["error_codes"]["json"]["terms"] == ["terms_required"]
    assert db.session.get(Case, case.id).status == CaseStatus.in_mediation


def test_the_import_refuses_an_agreement_row_without_terms(make_org, tmp_path):
    org = make_org()
    rows = [
        row(
            "T001",
            状态="办结",
            受理日期="2025-03-04",
            办结日期="2025-03-20",
            调解结果="达成协议",
            **{"协议金额(元)": "1200"},
        ),
        row(
            "T002",
            状态="办结",
            受理日期="2025-03-04",
            办结日期="2025-03-20",
            调解结果="达成协议",
            协议内容="被申请人赔偿维修费",
        ),
    ]
    summary = imports.import_file(write_csv(tmp_path / "terms.csv", rows), org.id, SYSTEM, source_system="old")
    assert (summary.imported, summary.failed) == (1, 1)
    assert [(f.row, f.column, f.reason) for f in summary.failures] == [(2, "协议内容", "达成协议的须填写协议内容")]


# --- the page: the message beside the field, required when 达成协议 ------------------------------------


def test_the_page_shows_the_terms_message_beside_the_field(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.in_mediation)
    db.session.commit()  # the error page rolls the session back
    response = mediator_client.post(
        f"/cases/{case.id}/conclude",
        data={
            "conclude-outcome": "agreement",
            "conclude-agreement_amount_yuan": "3500",
            "conclude-terms": "  ",
            "conclude-concluded_on": case.last_step_on.isoformat(),
            "conclude-version": str(case.version),
        },
    )
    assert response.status_code == 422
    html = html_of(response)
    terms_field = re.search(r'<div class="field has-error" data-field="terms">(.*?)</div>', html, re.S)
    assert terms_field, html
    assert 'aria-invalid="true"' in terms_field.group(1)
    assert re.search(r'id="conclude-terms-errors"><li>达成协议的须填写协议内容</li>', terms_field.group(1))
    assert 'value="3500' in html  # what was entered stays
    # only the form with the error is open
    assert re.findall(r'<details class="action"[^>]*\sopen>', html) == [
        '<details class="action" name="case-action" id="action-conclude" data-action="conclude" open>'
    ]
    db.session.refresh(case)
    assert case.status == CaseStatus.in_mediation


def test_the_conclusion_form_says_which_fields_an_agreement_needs(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.in_mediation)
    html = html_of(mediator_client.get(f"/cases/{case.id}"))
    terms = re.search(r'data-field="terms">(.*?)</div>', html, re.S).group(1)
    assert "达成协议时必填" in terms
    amount = re.search(r'data-field="agreement_amount_yuan">(.*?)</div>', html, re.S).group(1)
    assert "没有金钱给付的协议可不填" in amount and 'data-unit="元"' in amount


# --- one form at a time, the confirmation texts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "actions", "confirmed"),
    [
        (CaseStatus.registered, ["accept", "decline"], {"decline": "确认不予受理"}),
        (CaseStatus.in_mediation, ["record_session", "conclude", "extend_time_limit"], {"conclude": "确认办结"}),
    ],
)
def test_each_action_is_a_button_with_one_form_open(mediator_client, make_case, status, actions, confirmed):
    case = make_case(mediator_client.org, status)
    html = html_of(mediator_client.get(f"/cases/{case.id}"))
    panels = re.findall(
        r'<details class="action" name="case-action" id="action-(\w+)" data-action="\w+"( open)?>', html
    )
    assert [name for name, _ in panels] == actions
    assert [name for name, opened in panels if opened] == [actions[0]]  # the first, and only the first
    assert re.findall(r'<summary class="action-button">([^<]+)</summary>', html)
    forms = re.findall(r'<form method="post" action="/cases/\d+/[\w-]+" class="form" novalidate([^>]*)>', html)
    asked = [re.search(r'data-confirm-yes="([^"]+)"', attrs) for attrs in forms]
    assert {a.group(1) for a in asked if a} == set(confirmed.values())
    for attrs in forms:
        if "data-confirm-title" in attrs:
            assert 'data-confirm-no="返回修改"' in attrs and "确认后不能撤销" in attrs
    assert "js/confirm.js" in html


@pytest.fixture
def transfer_scene(make_org, make_user, make_routed_case, request_transfer_as):
    """A 竞秀区 case sent to 朝阳区 and waiting for the answer."""
    hebei = make_org(name="竞秀区确认测试调解委员会", region_code="130602")
    beijing = make_org(name="朝阳区确认测试调解委员会", region_code="110105")
    case = make_routed_case(hebei, applicant="130602", respondent="110105")
    sender, receiver = make_user(organization=hebei), make_user(organization=beijing)
    transfer = request_transfer_as(sender, case, beijing, requested_on=date(2025, 9, 29))
    return {"case": case, "transfer": transfer, "sender": sender, "receiver": receiver, "beijing": beijing}


def as_user(signed_in, user):
    g.pop("_login_user", None)
    g.pop("actor", None)
    return signed_in(user)


def test_the_transfer_decline_form_asks_for_confirmation(signed_in, transfer_scene):
    transfer = transfer_scene["transfer"]
    html = html_of(as_user(signed_in, transfer_scene["receiver"]).get(f"/transfers/{transfer.id}"))
    decline = re.search(r'<form method="post" action="/transfers/\d+/decline"[^>]*>', html, re.S).group(0)
    assert 'data-confirm-title="确认退回"' in decline and 'data-confirm-no="返回修改"' in decline
    accept = re.search(r'<form method="post" action="/transfers/\d+/accept"[^>]*>', html, re.S).group(0)
    assert "data-confirm" not in accept  # accepting moves the case on: no question asked
    assert "js/confirm.js" in html


# --- greyed-out buttons say why ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (dict(status=CaseStatus.registered), [("conclude", "须先受理，受理后才能记录调解和办结")]),
        (dict(status=CaseStatus.in_mediation), []),
        (
            dict(status=CaseStatus.concluded),
            [("record_confirmation_result", "尚未申请司法确认，申请后才能记录裁定结果")],
        ),
        (
            dict(status=CaseStatus.concluded, confirmation=ConfirmationStatus.applied),
            [("apply_for_confirmation", "已于 2026-03-04 申请司法确认")],
        ),
        (dict(status=CaseStatus.concluded, outcome=Outcome.no_agreement), []),
    ],
    ids=["registered", "in_mediation", "agreement", "confirmation_applied", "no_agreement"],
)
def test_unavailable_actions_say_why(app, make_case, state, expected):
    # made cases: received 2026-03-02, accepted the same day, session 03-03, concluded (and applied) 03-04
    case = make_case(**state)
    with app.test_request_context():
        assert [(action, str(reason)) for action, reason in unavailable_actions(case)] == expected


def test_the_page_shows_a_greyed_out_button_with_its_reason(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.registered)
    html = html_of(mediator_client.get(f"/cases/{case.id}"))
    item = re.search(r'<ul class="action-unavailable">(.*?)</ul>', html, re.S).group(1)
    assert re.search(r'<button type="button" disabled aria-describedby="why-conclude">办结</button>', item)
    assert '<span class="why" id="why-conclude">须先受理，受理后才能记录调解和办结</span>' in item


def test_a_pending_transfer_greys_out_the_transfer_button_and_says_why(signed_in, transfer_scene):
    case, transfer = transfer_scene["case"], transfer_scene["transfer"]
    html = html_of(as_user(signed_in, transfer_scene["sender"]).get(f"/cases/{case.id}"))
    assert re.search(
        r'<button type="submit" name="mode" value="transfer" class="primary" disabled '
        r'aria-describedby="why-transfer-\d+">',
        html,
    )
    assert not re.search(r'value="joint" disabled', html)  # a joint request may still be asked for
    # requested Monday 2025-09-29: three working days, past the National Day holiday (10-01..10-08)
    assert transfer.respond_by == date(2025, 10, 10)
    assert re.search(
        r'class="why pending-why" id="why-transfer-\d+">已有待答复的转办（发往 '
        + re.escape(transfer_scene["beijing"].name)
        + r"，答复期限 2025-10-10）</span>",
        html,
    )
