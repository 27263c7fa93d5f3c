"""Case pages through the test client: worklist, registration, the case page and its actions, the list with
its filters, and the xlsx/csv export (masked, formula-safe)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date

import pytest
import sqlalchemy as sa
from flask import g
from openpyxl import load_workbook

from mediation_hub.audit.models import AuditEntry
from mediation_hub.cases.models import Case, CaseStatus, Outcome
from mediation_hub.core.actor import Role
from mediation_hub.core.shanghai import today_shanghai
from mediation_hub.extensions import db
from mediation_hub.notifications.service import notify
from tests.factories import valid_id_number, valid_phone
from tests.factories_cases import person

FULL_ID = re.compile(r"\d{17}[\dXx]")
ALL_ACTIONS = (
    "accept",
    "decline",
    "record_session",
    "conclude",
    "extend_time_limit",
    "apply_for_confirmation",
    "record_confirmation_result",
    "record_follow_up",
)
INJECTION = "=cmd|' /C calc'!A0"


@pytest.fixture
def mediator_client(signed_in, make_user, make_org, make_mediator):
    """A mediator of a fresh organisation (with one registered mediator), signed in."""
    org = make_org(name="朝阳区测试调解委员会")
    mediator = make_mediator(organization=org, name="王调解")
    user = make_user(role=Role.mediator, organization=org)
    client = as_user(signed_in, user)
    client.org, client.user, client.mediator = org, user, mediator
    client.actor = user.to_actor()
    return client


def as_user(signed_in, user):
    """Sign the test client in as ``user``; forget the previous request's user (the test's app context,
    and so ``g``, is shared by every request of one test)."""
    g.pop("_login_user", None)
    g.pop("actor", None)
    return signed_in(user)


def page_text(response) -> str:
    return response.get_data(as_text=True)


# --- worklist ------------------------------------------------------------------------------------------


def test_worklist_lists_open_cases_nearest_deadline_first_and_marks_overdue(mediator_client, make_case, make_org):
    today = today_shanghai()
    fresh = make_case(mediator_client.org, CaseStatus.accepted, received_on=today, accepted_on=today)
    # accepted 2026-03-02: due 30 days later, 2026-04-01 (a Wednesday, a working day) -> long overdue
    late = make_case(
        mediator_client.org, CaseStatus.in_mediation, received_on=date(2026, 3, 2), accepted_on=date(2026, 3, 2)
    )
    done = make_case(mediator_client.org, CaseStatus.concluded)
    elsewhere = make_case(make_org(), CaseStatus.accepted)
    db.session.commit()

    response = mediator_client.get("/cases/worklist")
    assert response.status_code == 200
    html = page_text(response)
    assert late.due_on == date(2026, 4, 1)
    assert html.index(late.number) < html.index(fresh.number)  # nearest (here: passed) deadline first
    assert done.number not in html and elsewhere.number not in html
    late_row = re.search(rf'<tr class="case-row overdue" data-case-id="{late.id}">(.*?)</tr>', html, re.S)
    assert late_row and "已超期" in late_row.group(1)
    assert f"超期 {(today - date(2026, 4, 1)).days} 天" in late_row.group(1)
    fresh_row = re.search(rf'<tr class="case-row" data-case-id="{fresh.id}">(.*?)</tr>', html, re.S)
    assert fresh_row and "已超期" not in fresh_row.group(1)
    assert f"{(fresh.due_on - today).days} 天" in fresh_row.group(1)


def test_home_sends_a_mediator_to_the_worklist(mediator_client):
    response = mediator_client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cases/worklist")


def test_worklist_shows_unread_notifications_for_the_user_and_the_organisation(mediator_client):
    notify(kind="transfer_received", message="收到一件转办案件", organization_id=mediator_client.org.id)
    notify(kind="reminder", message="请及时回访", user_id=mediator_client.user.id)
    read = notify(kind="reminder", message="已读的提醒", user_id=mediator_client.user.id)
    read.read_at = read.created_at
    db.session.commit()
    html = page_text(mediator_client.get("/cases/worklist"))
    assert "收到一件转办案件" in html and "请及时回访" in html
    assert "已读的提醒" not in html


# --- registration --------------------------------------------------------------------------------------


def registration_form(org_id=None, parties=None, **fields) -> dict:
    parties = (
        parties
        if parties is not None
        else [
            {
                "role": "applicant",
                "kind": "person",
                "name": "张三",
                "number": valid_id_number(),
                "phone": valid_phone(),
                "region_code": "110105",
            },
            {
                "role": "respondent",
                "kind": "person",
                "name": "李四",
                "number": "",
                "phone": "",
                "region_code": "110108",
            },
        ]
    )
    form = {
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水，协商未果",
        "received_on": today_shanghai().isoformat(),
        "occurred_region_code": "110105",
        "amount_yuan": "",
        **fields,
    }
    if org_id is not None:
        form["organization_id"] = str(org_id)
    for index, party in enumerate(parties):
        for key, value in party.items():
            form[f"parties-{index}-{key}"] = value
    return form


def test_registration_form_offers_two_party_fieldsets_and_the_region_picker(mediator_client):
    html = page_text(mediator_client.get("/cases/new"))
    assert 'name="parties-0-role"' in html and 'name="parties-1-role"' in html
    # spare fieldsets for "添加当事人": hidden and disabled, so never sent without a click
    for index in (2, 3, 4, 5):
        assert f'<fieldset class="party card spare" data-party-index="{index}" hidden disabled>' in html
    assert 'data-party-index="6"' not in html
    assert re.search(r'<option selected value="respondent">|<option value="respondent" selected>', html)
    assert html.count('class="region-picker"') == 7  # occurrence place and each party's region
    assert "js/cases.js" in html and "js/region-picker.js" in html
    assert "朝阳区测试调解委员会" in html  # a mediator registers for their own organisation


def test_registering_a_dispute_redirects_to_its_page(mediator_client):
    response = mediator_client.post("/cases/new", data=registration_form(amount_yuan="3500.50", major="y"))
    assert response.status_code == 302
    case = db.session.scalar(sa.select(Case).where(Case.organization_id == mediator_client.org.id))
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert case.status == CaseStatus.registered and case.major and str(case.amount_yuan) == "3500.50"
    assert [(p.role.value, p.name) for p in case.parties] == [("applicant", "张三"), ("respondent", "李四")]
    html = page_text(mediator_client.get(response.headers["Location"]))
    assert f"已登记案件 {case.number}" in html


def test_a_failed_registration_is_422_keeps_the_values_and_names_the_party_fields(mediator_client):
    good_id = valid_id_number()
    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # wrong check digit
    parties = [
        {
            "role": "applicant",
            "kind": "person",
            "name": "张三",
            "number": "110105198005171234",
            "phone": "12345",
            "region_code": "110105",
        },
        {"role": "respondent", "kind": "person", "name": "", "number": "", "phone": "", "region_code": "999999"},
    ]
    form = registration_form(parties=parties, summary="漏水纠纷，保留这段文字")
    form["parties-0-number"] = bad_id
    response = mediator_client.post("/cases/new", data=form)
    assert response.status_code == 422
    html = page_text(response)
    assert "漏水纠纷，保留这段文字" in html  # entered values kept
    assert f'value="{bad_id}"' in html and 'value="张三"' in html
    # each message sits next to its own party field
    assert re.search(r'id="parties-0-number-errors"><li>身份证号码', html)
    assert re.search(r'id="parties-0-phone-errors"><li>', html)
    assert re.search(r'id="parties-1-name-errors"><li>请填写当事人名称', html)
    assert re.search(r'id="parties-1-region_code-errors"><li>未知的行政区划代码', html)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Case).where(Case.organization_id == mediator_client.org.id)
        )
        == 0
    )


def test_registration_needs_an_applicant_and_a_respondent(mediator_client):
    parties = [
        {"role": "applicant", "kind": "person", "name": "甲", "number": valid_id_number()},
        {"role": "applicant", "kind": "person", "name": "乙", "number": valid_id_number()},
    ]
    response = mediator_client.post("/cases/new", data=registration_form(parties=parties))
    assert response.status_code == 422
    assert re.search(r'id="parties-errors"><li>至少需要一名申请人和一名被申请人', page_text(response))


def test_an_added_empty_party_fieldset_is_ignored_and_a_third_party_is_kept(mediator_client):
    parties = [
        {"role": "applicant", "kind": "person", "name": "甲", "number": valid_id_number()},
        {"role": "respondent", "kind": "organization", "name": "某物业公司", "number": ""},
        {"role": "third_party", "kind": "person", "name": "", "number": "", "phone": "", "region_code": ""},
        {"role": "third_party", "kind": "person", "name": "丙", "number": ""},
    ]
    form = registration_form(parties=parties)
    # a removed fieldset leaves a gap in the numbering: 0, 1, 2, 5
    for key in [k for k in form if k.startswith("parties-3-")]:
        form[key.replace("parties-3-", "parties-5-")] = form.pop(key)
    assert mediator_client.post("/cases/new", data=form).status_code == 302
    case = db.session.scalar(sa.select(Case).where(Case.organization_id == mediator_client.org.id))
    assert [(p.role.value, p.kind.value, p.name) for p in case.parties] == [
        ("applicant", "person", "甲"),
        ("respondent", "organization", "某物业公司"),
        ("third_party", "person", "丙"),
    ]


def test_a_possible_duplicate_is_shown_before_saving_and_registering_anyway_saves(mediator_client):
    applicant_id = valid_id_number()
    parties = [
        {"role": "applicant", "kind": "person", "name": "张三", "number": applicant_id},
        {"role": "respondent", "kind": "person", "name": "李四", "number": ""},
    ]
    first = mediator_client.post("/cases/new", data=registration_form(parties=parties))
    first_id = int(first.headers["Location"].rsplit("/", 1)[1])
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    second = mediator_client.post("/cases/new", data=registration_form(parties=parties))
    assert second.status_code == 409  # nothing saved: the form comes back with the candidate
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == count
    html = page_text(second)
    assert 'id="duplicate-warning"' in html and f'href="/cases/{first_id}"' in html
    assert applicant_id not in html.split('id="duplicate-warning"')[1].split("</section>")[0]
    seen = re.search(r'name="duplicates_seen" value="(\w+)"', html).group(1)  # what the warning showed
    third = mediator_client.post(
        "/cases/new",
        follow_redirects=True,
        data=registration_form(parties=parties, confirm_duplicate="y", duplicates_seen=seen),
    )
    assert third.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == count + 1
    assert 'class="flash warning"' in page_text(third) and f'href="/cases/{first_id}"' in page_text(third)


def test_an_admin_chooses_the_handling_organisation(signed_in, make_org):
    org = make_org(name="海淀区测试调解委员会", region_code="110108")
    client = signed_in(role=Role.admin)
    html = page_text(client.get("/cases/new"))
    assert 'name="organization_id"' in html and "海淀区测试调解委员会" in html
    response = client.post("/cases/new", data=registration_form(org_id=org.id))
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Case.organization_id).order_by(Case.id.desc()).limit(1)) == org.id


# --- the case page ---------------------------------------------------------------------------------------

EXPECTED_ACTIONS = [
    (CaseStatus.registered, None, {"accept", "decline"}),
    (CaseStatus.accepted, None, {"record_session", "conclude", "extend_time_limit"}),
    (CaseStatus.in_mediation, None, {"record_session", "conclude", "extend_time_limit"}),
    (CaseStatus.concluded, Outcome.agreement, {"apply_for_confirmation", "record_follow_up"}),
    (CaseStatus.concluded, Outcome.no_agreement, {"record_follow_up"}),
    (CaseStatus.declined, None, set()),
]


@pytest.mark.parametrize(("status", "outcome", "expected"), EXPECTED_ACTIONS)
def test_case_page_shows_only_the_actions_allowed_in_its_state(mediator_client, make_case, status, outcome, expected):
    case = make_case(mediator_client.org, status, outcome=outcome or Outcome.agreement)
    html = page_text(mediator_client.get(f"/cases/{case.id}"))
    shown = set(re.findall(r'data-action="([a-z_]+)"', html))
    assert shown == expected
    for action in set(ALL_ACTIONS) - expected:
        assert f'id="action-{action}"' not in html


def test_an_applied_confirmation_offers_the_result_only(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.concluded, confirmation="applied")
    html = page_text(mediator_client.get(f"/cases/{case.id}"))
    assert set(re.findall(r'data-action="([a-z_]+)"', html)) == {"record_confirmation_result", "record_follow_up"}


def test_a_coordinator_sees_the_case_but_no_actions_and_no_reveal(signed_in, make_case, make_org):
    case = make_case(make_org(region_code="110105"), CaseStatus.registered)
    client = signed_in(role=Role.coordinator, region_code="110000")
    html = page_text(client.get(f"/cases/{case.id}"))
    assert case.number in html
    assert "data-action=" not in html and "查看完整号码" not in html


def test_a_case_of_another_organisation_is_not_found(mediator_client, make_case, make_org):
    case = make_case(make_org(), CaseStatus.registered)
    db.session.commit()
    assert mediator_client.get(f"/cases/{case.id}").status_code == 404
    assert mediator_client.post(f"/cases/{case.id}/accept", data={}).status_code == 404


def test_accepting_through_the_page_sets_the_due_date_and_writes_the_timeline(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.registered, received_on=date(2026, 3, 2))
    response = mediator_client.post(
        f"/cases/{case.id}/accept",
        data={
            "accept-mediator_id": str(mediator_client.mediator.id),
            "accept-accepted_on": "2026-03-02",
            "accept-version": str(case.version),
        },
    )
    assert response.status_code == 302
    html = page_text(mediator_client.get(f"/cases/{case.id}"))
    db.session.refresh(case)
    # 2026-03-02 + 30 calendar days = 2026-04-01, a Wednesday (working day)
    assert case.status == CaseStatus.accepted and case.due_on == date(2026, 4, 1)
    assert "已受理" in html and "办理期限 2026-04-01" in html and "王调解" in html
    assert re.search(r"event-registered.*event-accepted", html, re.S)


def test_a_refused_transition_is_409_on_the_case_page(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.accepted)
    db.session.commit()  # the error page rolls the session back
    response = mediator_client.post(f"/cases/{case.id}/decline", data={"decline-reason": "不属于受理范围"})
    assert response.status_code == 409
    html = page_text(response)
    assert "action-error" in html and "不能不予受理" in html
    assert case.number in html


def test_a_stale_form_is_409(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.accepted)
    db.session.commit()  # the error page rolls the session back
    response = mediator_client.post(
        f"/cases/{case.id}/sessions",
        data={"record_session-summary": "调解", "record_session-version": str(case.version - 1)},
    )
    assert response.status_code == 409
    assert "案件已被他人修改" in page_text(response)


def test_a_rejected_conclusion_is_422_with_the_message_beside_the_field(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.in_mediation)
    db.session.commit()  # the error page rolls the session back
    response = mediator_client.post(
        f"/cases/{case.id}/conclude",
        data={
            "conclude-outcome": "no_agreement",
            "conclude-agreement_amount_yuan": "100",
            "conclude-concluded_on": case.accepted_on.isoformat(),
            "conclude-version": str(case.version),
        },
    )
    assert response.status_code == 422
    html = page_text(response)
    assert re.search(r'id="conclude-agreement_amount_yuan-errors"><li>只有达成协议时填写', html)
    assert 'value="100"' in html  # the entered value is kept
    db.session.refresh(case)
    assert case.status == CaseStatus.in_mediation


def test_concluding_with_an_agreement_shows_the_confirmation_reminder(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.in_mediation)
    concluded_on = case.last_step_on
    response = mediator_client.post(
        f"/cases/{case.id}/conclude",
        data={
            "conclude-outcome": "agreement",
            "conclude-agreement_amount_yuan": "8000",
            "conclude-terms": "分两期支付",
            "conclude-performed": "false",
            "conclude-concluded_on": concluded_on.isoformat(),
            "conclude-version": str(case.version),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    db.session.refresh(case)
    assert case.status == CaseStatus.concluded and str(case.agreement_amount_yuan) == "8000.00"
    assert case.agreement_performed is False
    html = page_text(response)
    left = (case.confirmation_deadline - today_shanghai()).days
    wording = f"剩余 {left} 天" if left >= 0 else f"已过期 {-left} 天"
    assert f"司法确认申请截止 {case.confirmation_deadline.isoformat()}，{wording}" in html
    assert f"回访截止 {case.follow_up_due_on.isoformat()}" in html
    assert "8000.00 元" in html


@pytest.mark.parametrize(
    ("action", "slug", "fields", "check"),
    [
        (
            "record_session",
            "sessions",
            {"summary": "第二次调解，双方各让一步"},
            lambda c: c.status == CaseStatus.in_mediation and len(c.sessions) == 2,
        ),
        (
            "extend_time_limit",
            "extend",
            {"days": "15", "consent_note": "双方书面同意延长"},
            lambda c: c.due_on == date(2026, 4, 16),
        ),  # 2026-04-01 + 15 days = Thursday 2026-04-16
    ],
)
def test_running_case_actions_through_the_page(mediator_client, make_case, action, slug, fields, check):
    case = make_case(mediator_client.org, CaseStatus.in_mediation, accepted_on=date(2026, 3, 2))
    data = {f"{action}-{k}": v for k, v in fields.items()}
    data[f"{action}-version"] = str(case.version)
    response = mediator_client.post(f"/cases/{case.id}/{slug}", data=data)
    assert response.status_code == 302
    db.session.refresh(case)
    assert check(case)


def test_a_session_names_the_mediator_who_held_it(signed_in, make_user, make_org, make_mediator, make_case):
    # the session form used to have no mediator, so the sessions table's 调解员 was always "—"
    org = make_org()
    own, colleague = make_mediator(organization=org, name="钱调解"), make_mediator(organization=org, name="孙调解")
    client = as_user(signed_in, make_user(role=Role.mediator, organization=org, mediator_id=own.id))
    case = make_case(org, CaseStatus.accepted, accepted_on=date(2026, 3, 2))
    html = page_text(client.get(f"/cases/{case.id}"))
    # the signed-in mediator's own record is preselected; a colleague can be chosen instead
    assert f'<option selected value="{own.id}">钱调解</option>' in html and "孙调解" in html
    response = client.post(
        f"/cases/{case.id}/sessions",
        data={
            "record_session-held_on": "2026-03-03",
            "record_session-summary": "双方到场",
            "record_session-mediator_id": str(colleague.id),
            "record_session-version": str(case.version),
        },
    )
    assert response.status_code == 302
    db.session.refresh(case)
    assert [s.mediator_id for s in case.sessions] == [colleague.id]
    assert "<td>2026-03-03</td><td>孙调解</td>" in page_text(client.get(f"/cases/{case.id}"))


def test_confirmation_and_follow_up_through_the_page(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.concluded)
    day = case.concluded_on.isoformat()
    assert (
        mediator_client.post(
            f"/cases/{case.id}/confirmation",
            data={"apply_for_confirmation-applied_on": day, "apply_for_confirmation-court": "朝阳区人民法院"},
        ).status_code
        == 302
    )
    assert (
        mediator_client.post(
            f"/cases/{case.id}/confirmation-result",
            data={"record_confirmation_result-confirmed": "true", "record_confirmation_result-decided_on": day},
        ).status_code
        == 302
    )
    assert (
        mediator_client.post(
            f"/cases/{case.id}/follow-ups",
            data={
                "record_follow_up-visited_on": day,
                "record_follow_up-summary": "已按期支付",
                "record_follow_up-performed": "true",
            },
        ).status_code
        == 302
    )
    html = page_text(mediator_client.get(f"/cases/{case.id}"))
    assert "已确认" in html and "已按期支付" in html
    assert "司法确认申请截止" not in html and "回访截止" not in html  # both reminders are done


def test_revealing_a_partys_numbers_shows_them_once_and_is_audited(mediator_client, make_case):
    id_number, phone = valid_id_number(), valid_phone()
    case = make_case(
        mediator_client.org,
        CaseStatus.registered,
        parties=[person("applicant", id_number=id_number, phone=phone), person("respondent")],
    )
    party = case.parties[0]
    html = page_text(mediator_client.get(f"/cases/{case.id}"))
    assert id_number not in html and party.id_number_masked in html and "查看完整号码" in html
    response = mediator_client.post(f"/cases/{case.id}/parties/{party.id}/reveal")
    assert response.status_code == 200
    assert id_number in page_text(response) and phone in page_text(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert id_number not in page_text(mediator_client.get(f"/cases/{case.id}"))  # once only
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "reveal_id_number"))
    assert entry.target_id == str(party.id) and id_number not in str(entry.detail)


# --- list, filters, export --------------------------------------------------------------------------------


@pytest.fixture
def listed_cases(mediator_client, make_case):
    """Three cases of the mediator's organisation: an overdue neighbour dispute whose summary is a formula,
    a registered contract dispute, and a concluded neighbour dispute."""
    injected = make_case(
        mediator_client.org,
        CaseStatus.accepted,
        summary=INJECTION,
        received_on=date(2026, 3, 2),
        accepted_on=date(2026, 3, 2),
    )
    contract = make_case(
        mediator_client.org,
        CaseStatus.registered,
        category="contract",
        summary="货款纠纷",
        received_on=date(2026, 6, 1),
    )
    concluded = make_case(mediator_client.org, CaseStatus.concluded, summary="邻里噪音", received_on=date(2026, 5, 4))
    db.session.commit()
    return {"injected": injected, "contract": contract, "concluded": concluded}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"injected", "contract", "concluded"}),
        ("status=registered", {"contract"}),
        ("category=contract", {"contract"}),
        ("date_from=2026-05-01&date_to=2026-05-31", {"concluded"}),
        ("overdue=1", {"injected"}),
        ("q=货款", {"contract"}),
        ("region_code=110000", {"injected", "contract", "concluded"}),
        ("region_code=130000", set()),
    ],
)
def test_case_list_filters(mediator_client, listed_cases, query, expected):
    html = page_text(mediator_client.get(f"/cases?{query}"))
    shown = {name for name, case in listed_cases.items() if case.number in html}
    assert shown == expected


def test_an_unknown_region_filter_is_shown_and_ignored(mediator_client, listed_cases):
    response = mediator_client.get("/cases?region_code=999999")
    assert response.status_code == 200
    html = page_text(response)
    assert "未知的行政区划代码" in html and listed_cases["contract"].number in html


def test_export_links_carry_the_filters(mediator_client, listed_cases):
    html = page_text(mediator_client.get("/cases?category=contract&page=1"))
    assert 'href="/cases/export.xlsx?category=contract"' in html
    assert 'href="/cases/export.csv?category=contract"' in html


def _xlsx_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _xlsx_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".xml"))


def test_xlsx_export_is_masked_inert_and_filtered(mediator_client, listed_cases):
    response = mediator_client.get("/cases/export.xlsx?category=neighbour")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f"cases-{today_shanghai().isoformat()}.xlsx" in response.headers["Content-Disposition"]
    content = response.get_data()
    assert not FULL_ID.search(_xlsx_xml(content))
    rows = _xlsx_rows(content)
    assert rows[0][0] == "案件编号"
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {listed_cases["injected"].number, listed_cases["concluded"].number}  # contract filtered out
    summary = next(row[-1] for row in rows[1:] if row[0] == listed_cases["injected"].number)
    assert summary == "'" + INJECTION
    assert "<f>" not in _xlsx_xml(content)  # no formula anywhere in the workbook
    party_cell = next(row[-2] for row in rows[1:] if row[0] == listed_cases["injected"].number)
    assert listed_cases["injected"].parties[0].id_number_masked in party_cell


def test_csv_export_is_masked_inert_and_filtered(mediator_client, listed_cases):
    response = mediator_client.get("/cases/export.csv?overdue=1")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # UTF-8 BOM so Excel reads the Chinese text
    text = raw.decode("utf-8-sig")
    assert not FULL_ID.search(text)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "案件编号"
    assert [row[0] for row in rows[1:]] == [listed_cases["injected"].number]
    assert rows[1][-1] == "'" + INJECTION
    assert rows[1][10] == "是"  # 是否超期


def test_export_is_audited_and_scoped(mediator_client, listed_cases, make_case, make_org):
    foreign = make_case(make_org(), CaseStatus.registered)
    db.session.commit()
    text = mediator_client.get("/cases/export.csv").get_data().decode("utf-8-sig")
    assert foreign.number not in text
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "personal_data_exported"))
    assert entry is not None and entry.detail["format"] == "csv"


def test_an_unknown_export_format_is_404(mediator_client):
    assert mediator_client.get("/cases/export.pdf").status_code == 404


def test_a_deadline_in_an_uncovered_year_is_shown_beside_the_date(mediator_client, make_case):
    # chinesecalendar starts in 2004, so a case accepted in 2003 cannot be given a due date
    case = make_case(mediator_client.org, CaseStatus.registered, received_on=date(2003, 3, 3))
    db.session.commit()  # the page's rollback of the refused step must not undo the registration
    response = mediator_client.post(
        f"/cases/{case.id}/accept", data={"accept-accepted_on": "2003-03-03", "accept-version": str(case.version)}
    )
    assert response.status_code == 422
    assert re.search(r'id="accept-accepted_on-errors"><li>2003年的工作日历尚未载入', page_text(response))
    db.session.refresh(case)
    assert case.status == CaseStatus.registered


def test_a_reshown_form_keeps_the_submitted_party_numbering(mediator_client):
    parties = [
        {"role": "applicant", "kind": "person", "name": "甲", "number": "bad"},
        {"role": "respondent", "kind": "person", "name": "乙"},
    ]
    form = registration_form(parties=parties)
    for key in [k for k in form if k.startswith("parties-1-")]:
        form[key.replace("parties-1-", "parties-4-")] = form.pop(key)  # the page had removed 1..3
    response = mediator_client.post("/cases/new", data=form)
    assert response.status_code == 422
    html = page_text(response)
    assert 'data-party-index="4"' in html and 'value="乙"' in html and 'name="parties-4-name"' in html
    assert '<fieldset class="party card spare" data-party-index="5" hidden disabled>' in html
    assert re.search(r'id="parties-0-number-errors"><li>', html)


def test_unreadable_filters_are_ignored_not_an_error(mediator_client, listed_cases):
    response = mediator_client.get("/cases?studio_id=abc&date_from=2026-13-40&status=bogus&overdue=maybe")
    assert response.status_code == 200
    html = page_text(response)
    assert all(case.number in html for case in listed_cases.values())
    assert mediator_client.get("/cases/export.csv?studio_id=abc&date_from=nope").status_code == 200
