"""Issue 14: the facts the documents need that the hub did not record are optional fields of the API and the
pages, never invented: a party's 性别/民族/职业/住址 (an organisation's 住所地 and 法定代表人), a session's place,
attendees and recorder, whether an agreement is written or oral, how a follow-up was made and by whom. The 民族
list is published as a reference list."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import g

from mediation_hub.cases import service
from mediation_hub.cases.models import Case, CaseStatus, FollowUp, MediationSession, Outcome, Party
from mediation_hub.core.actor import SYSTEM, Role
from mediation_hub.core.messages import code_of
from mediation_hub.errors import ValidationFailed
from mediation_hub.extensions import db
from mediation_hub.reference.lists import items
from tests.factories import valid_id_number, valid_phone
from tests.factories_cases import organization_party, person


@pytest.fixture
def mediator_api(api_as, make_org):
    org = make_org()
    return api_as(role=Role.mediator, organization=org), org


@pytest.fixture
def mediator_client(signed_in, make_user, make_org, make_mediator):
    """A mediator with a display name, signed in to the pages of a fresh organisation."""
    org = make_org(name="竞秀区文书测试调解委员会")
    make_mediator(organization=org, name="赵调解")
    user = make_user(role=Role.mediator, organization=org, display_name="孙记录")
    g.pop("_login_user", None)
    g.pop("actor", None)
    client = signed_in(user)
    client.org = org
    return client


def _registration(org, parties) -> dict:
    return {
        "organization_id": org.id,
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水致楼下受损",
        "received_on": "2026-03-02",
        "occurred_region_code": "110105",
        "parties": parties,
    }


def _errors(response) -> tuple[dict, dict]:
    return response.json["errors"]["json"], response.json["error_codes"]["json"]


def html_of(response) -> str:
    return response.get_data(as_text=True)


# --- the reference list ----------------------------------------------------------------------------------


def test_the_ethnicities_are_published_with_their_gb_3304_codes(mediator_api):
    api, _org = mediator_api
    listed = api.get("/api/v1/reference/ethnicities").json["items"]
    assert len(listed) == 58  # the 56 nationalities, 其他, 外国血统中国籍人士
    assert listed[0] == {"code": "01", "name": "汉族"} and listed[55] == {"code": "56", "name": "基诺族"}
    assert {"code": "11", "name": "满族"} in listed and {"code": "97", "name": "其他"} in listed
    assert len({item["code"] for item in listed}) == len({item["name"] for item in listed}) == 58


def test_the_openapi_document_describes_the_new_fields(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    party_in = schemas["PartyIn"]["properties"]
    assert party_in["ethnicity"]["enum"] == [code for code, _name in items("ethnicities")]
    assert "/api/v1/reference/ethnicities" in party_in["ethnicity"]["description"]
    assert party_in["gender"]["enum"] == ["male", "female"]
    assert {"occupation", "address", "representative"} <= set(party_in)
    assert {"place", "attendees", "recorder"} <= set(schemas["SessionIn"]["properties"])
    assert schemas["ConcludeIn"]["properties"]["agreement_form"]["enum"] == ["written", "oral"]
    assert schemas["FollowUpIn"]["properties"]["method"]["enum"] == ["visit", "phone", "other"]
    for name, fields in (
        ("PartyOut", {"gender", "ethnicity", "occupation", "address", "representative"}),
        ("SessionOut", {"place", "attendees", "recorder"}),
        ("CaseOut", {"agreement_form"}),
        ("FollowUpOut", {"method", "visitor"}),
    ):
        assert fields <= set(schemas[name]["properties"]), name


# --- the API: every field round trip ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"), [("01", "汉族"), ("满族", "满族"), (" 回族 ", "回族"), ("98", "外国血统中国籍人士")]
)
def test_a_registration_keeps_the_parties_particulars(mediator_api, given, stored):
    api, org = mediator_api
    home = "北京市朝阳区幸福路 1 号 3 单元 201 室"
    applicant = dict(
        person("applicant", name="王芳"), gender="female", ethnicity=given, occupation="教师", address=home
    )
    company = dict(
        organization_party("respondent", name="某物业公司"), address="北京市朝阳区光明路 8 号", representative="刘经理"
    )
    response = api.post("/api/v1/cases", json=_registration(org, [applicant, company]))
    assert response.status_code == 201, response.json
    shown = [
        {key: p[key] for key in ("gender", "ethnicity", "occupation", "address", "representative")}
        for p in response.json["parties"]
    ]
    assert shown == [
        {"gender": "female", "ethnicity": stored, "occupation": "教师", "address": home, "representative": None},
        {
            "gender": None,
            "ethnicity": None,
            "occupation": None,
            "address": "北京市朝阳区光明路 8 号",
            "representative": "刘经理",
        },
    ]
    again = api.get(f"/api/v1/cases/{response.json['id']}").json["parties"]
    assert [p["ethnicity"] for p in again] == [stored, None]
    party = db.session.get(Party, response.json["parties"][0]["id"])
    assert (party.gender, party.ethnicity, party.occupation) == ("female", stored, "教师")


def test_the_particulars_are_optional(mediator_api):
    api, org = mediator_api
    response = api.post("/api/v1/cases", json=_registration(org, [person("applicant"), person("respondent")]))
    assert response.status_code == 201, response.json
    assert {
        (p["gender"], p["ethnicity"], p["occupation"], p["address"], p["representative"])
        for p in response.json["parties"]
    } == {(None, None, None, None, None)}


@pytest.mark.parametrize(
    ("index", "extra", "field", "code"),
    [
        (1, {"gender": "male"}, "gender", "only_for_person"),
        (1, {"ethnicity": "汉族"}, "ethnicity", "only_for_person"),
        (1, {"occupation": "经理"}, "occupation", "only_for_person"),
        (0, {"representative": "刘经理"}, "representative", "representative_only_for_organization"),
        (0, {"gender": "unknown"}, "gender", "unknown_gender"),
        (0, {"gender": "男性"}, "gender", "unknown_gender"),
        (0, {"ethnicity": "火星族"}, "ethnicity", "unknown_ethnicity"),
        (0, {"ethnicity": "99"}, "ethnicity", "unknown_ethnicity"),
    ],
    ids=[
        "gender-of-organisation",
        "ethnicity-of-organisation",
        "occupation-of-organisation",
        "representative-of-person",
        "unknown-gender",
        "chinese-gender-word",
        "unknown-ethnicity",
        "unknown-code",
    ],
)
def test_a_particular_that_does_not_fit_is_422_naming_it(mediator_api, index, extra, field, code):
    api, org = mediator_api
    parties = [person("applicant"), organization_party("respondent")]
    parties[index] = dict(parties[index], **extra)
    response = api.post("/api/v1/cases", json=_registration(org, parties))
    assert response.status_code == 422, response.json
    messages, codes = _errors(response)
    key = f"parties.{index}.{field}"
    assert list(codes) == [key] and codes[key] == [code]
    assert re.search(r"[\u4e00-\u9fff]", messages[key][0]) and not re.search(r"[A-Za-z]{2,}", messages[key][0])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.organization_id == org.id)) == 0


@pytest.mark.parametrize(
    ("field", "length"), [("occupation", 61), ("address", 201), ("representative", 61), ("ethnicity", 21)]
)
def test_a_particular_too_long_is_422(mediator_api, field, length):
    api, org = mediator_api
    party = organization_party("respondent") if field == "representative" else person("respondent")
    parties = [person("applicant"), dict(party, **{field: "长" * length})]
    response = api.post("/api/v1/cases", json=_registration(org, parties))
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]["parties"]["1"]


def test_a_session_keeps_its_place_attendees_and_recorder(mediator_api, make_case):
    api, org = mediator_api
    case = make_case(org, CaseStatus.accepted)
    response = api.post(
        f"/api/v1/cases/{case.id}/sessions",
        json={
            "held_on": case.last_step_on.isoformat(),
            "summary": "双方到场，陈述事实",
            "place": "竞秀区人民调解委员会调解室",
            "attendees": "申请人 王芳\r\n被申请人代理人 刘经理\n",
            "recorder": " 孙记录 ",
        },
    )
    assert response.status_code == 201, response.json
    session = response.json["sessions"][-1]
    assert (session["place"], session["attendees"], session["recorder"]) == (
        "竞秀区人民调解委员会调解室",
        "申请人 王芳\n被申请人代理人 刘经理",
        "孙记录",
    )


def test_a_session_without_them_leaves_them_blank(mediator_api, make_case):
    api, org = mediator_api
    case = make_case(org, CaseStatus.accepted)
    response = api.post(
        f"/api/v1/cases/{case.id}/sessions",
        json={"held_on": case.last_step_on.isoformat(), "summary": "电话沟通", "place": "  "},
    )
    assert response.status_code == 201, response.json
    session = response.json["sessions"][-1]
    assert (session["place"], session["attendees"], session["recorder"]) == (None, None, None)


@pytest.mark.parametrize(
    ("given", "stored"),
    [("oral", "oral"), ("written", "written"), (None, "written")],
    ids=["oral", "written", "default-written"],
)
def test_an_agreement_is_written_or_oral(mediator_api, make_case, given, stored):
    api, org = mediator_api
    case = make_case(org, CaseStatus.in_mediation)
    body = {"outcome": "agreement", "terms": "被申请人赔偿维修费 800 元", "concluded_on": case.last_step_on.isoformat()}
    if given is not None:
        body["agreement_form"] = given
    response = api.post(f"/api/v1/cases/{case.id}/conclude", json=body)
    assert response.status_code == 200, response.json
    assert response.json["agreement_form"] == stored
    assert db.session.get(Case, case.id).agreement_form == stored
    concluded = [e for e in api.get(f"/api/v1/cases/{case.id}/events").json["items"] if e["code"] == "concluded"]
    assert concluded[0]["data"]["agreement_form"] == stored


@pytest.mark.parametrize("outcome", ["no_agreement", "withdrawn", "referred"])
def test_another_outcome_has_no_agreement_form(mediator_api, make_case, outcome):
    api, org = mediator_api
    case = make_case(org, CaseStatus.in_mediation)
    response = api.post(
        f"/api/v1/cases/{case.id}/conclude", json={"outcome": outcome, "concluded_on": case.last_step_on.isoformat()}
    )
    assert response.status_code == 200, response.json
    assert response.json["agreement_form"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"outcome": "no_agreement", "agreement_form": "oral"}, "only_with_agreement"),
        ({"outcome": "withdrawn", "agreement_form": "written"}, "only_with_agreement"),
        ({"outcome": "agreement", "terms": "双方互不追究", "agreement_form": "verbal"}, "unknown_agreement_form"),
        ({"outcome": "agreement", "terms": "双方互不追究", "agreement_form": "口头"}, "unknown_agreement_form"),
    ],
    ids=["no-agreement", "withdrawn", "unknown", "chinese-word"],
)
def test_a_wrong_agreement_form_is_422(mediator_api, make_case, body, code):
    api, org = mediator_api
    case = make_case(org, CaseStatus.in_mediation)
    db.session.commit()  # the refusal rolls the session back
    response = api.post(
        f"/api/v1/cases/{case.id}/conclude", json=dict(body, concluded_on=case.last_step_on.isoformat())
    )
    assert response.status_code == 422, response.json
    assert _errors(response)[1] == {"agreement_form": [code]}
    assert db.session.get(Case, case.id).status == CaseStatus.in_mediation


@pytest.mark.parametrize("method", ["visit", "phone", "other"])
def test_a_follow_up_keeps_how_and_by_whom(mediator_api, make_case, method):
    api, org = mediator_api
    case = make_case(org, CaseStatus.concluded)
    response = api.post(
        f"/api/v1/cases/{case.id}/follow-ups",
        json={
            "visited_on": case.last_step_on.isoformat(),
            "summary": "已按协议支付",
            "performed": True,
            "method": method,
            "visitor": "孙回访",
        },
    )
    assert response.status_code == 201, response.json
    follow_up = response.json["follow_ups"][-1]
    assert (follow_up["method"], follow_up["visitor"]) == (method, "孙回访")


@pytest.mark.parametrize("method", ["email", "电话", "PHONE"])
def test_an_unknown_follow_up_method_is_422(mediator_api, make_case, method):
    api, org = mediator_api
    case = make_case(org, CaseStatus.concluded)
    db.session.commit()  # the refusal rolls the session back
    response = api.post(
        f"/api/v1/cases/{case.id}/follow-ups",
        json={"visited_on": case.last_step_on.isoformat(), "summary": "已按协议支付", "method": method},
    )
    assert response.status_code == 422, response.json
    messages, codes = _errors(response)
    assert codes == {"method": ["unknown_follow_up_method"]}
    assert messages["method"] == ["回访方式须为 上门回访、电话回访 或 其他"]
    assert not db.session.get(Case, case.id).follow_ups


# --- the service and the database ------------------------------------------------------------------------


def test_the_service_refuses_an_agreement_form_without_an_agreement(make_case):
    case = make_case(status=CaseStatus.in_mediation)
    with pytest.raises(ValidationFailed) as caught:
        service.conclude_case(
            SYSTEM, case.id, outcome=Outcome.no_agreement, concluded_on=case.last_step_on, agreement_form="oral"
        )
    assert [code_of(m) for m in caught.value.errors["agreement_form"]] == ["only_with_agreement"]


@pytest.mark.parametrize(
    ("outcome", "change", "constraint"),
    [
        (Outcome.no_agreement, lambda case: setattr(case, "agreement_form", "oral"), "agreement_form_needs_agreement"),
        (Outcome.agreement, lambda case: setattr(case, "agreement_form", "sung"), "agreement_form_known"),
        (Outcome.agreement, lambda case: setattr(case.parties[1], "gender", "male"), "gender_only_for_person"),
        (Outcome.agreement, lambda case: setattr(case.parties[0], "gender", "x"), "gender_known"),
        (
            Outcome.agreement,
            lambda case: setattr(case.parties[0], "representative", "刘经理"),
            "representative_only_for_organization",
        ),
    ],
    ids=["form-needs-agreement", "form-known", "gender-of-organisation", "gender-known", "representative-of-person"],
)
def test_the_database_holds_the_rules_too(make_case, outcome, change, constraint):
    case = make_case(
        status=CaseStatus.concluded, outcome=outcome, parties=[person("applicant"), organization_party("respondent")]
    )
    savepoint = db.session.begin_nested()
    change(case)
    with pytest.raises(sa.exc.IntegrityError, match=constraint):
        db.session.flush()
    savepoint.rollback()


def test_the_database_refuses_an_unknown_follow_up_method(make_case):
    case = make_case(status=CaseStatus.concluded)
    savepoint = db.session.begin_nested()
    db.session.add(FollowUp(case_id=case.id, visited_on=case.last_step_on, summary="回访", method="email"))
    with pytest.raises(sa.exc.IntegrityError, match="method_known"):
        db.session.flush()
    savepoint.rollback()


# --- the pages -------------------------------------------------------------------------------------------


def _registration_form(parties: list[dict]) -> dict:
    form = {
        "category": "neighbour",
        "source": "party_application",
        "summary": "楼上漏水，协商未果",
        "received_on": "2026-03-02",
        "occurred_region_code": "110105",
        "amount_yuan": "",
    }
    for index, party in enumerate(parties):
        form.update({f"parties-{index}-{key}": value for key, value in party.items()})
    return form


def test_the_registration_form_folds_the_particulars_for_every_party(mediator_client):
    html = html_of(mediator_client.get("/cases/new"))
    # the two parties and the four spare fieldsets "添加当事人" reveals
    assert html.count('<details class="party-more">') == 6
    assert html.count("更多当事人信息（制作文书用）") == 6
    for name in ("gender", "ethnicity", "occupation", "address", "representative"):
        assert f'name="parties-0-{name}"' in html and f'name="parties-5-{name}"' in html
    assert '<option value="汉族">汉族</option>' in html and '<option value="female">女</option>' in html


def test_the_registration_form_saves_the_particulars(mediator_client):
    response = mediator_client.post(
        "/cases/new",
        data=_registration_form(
            [
                {
                    "role": "applicant",
                    "kind": "person",
                    "name": "张三",
                    "number": valid_id_number(),
                    "phone": valid_phone(),
                    "region_code": "110105",
                    "gender": "male",
                    "ethnicity": "蒙古族",
                    "occupation": "个体工商户",
                    "address": "河北省保定市竞秀区朝阳南大街 100 号",
                },
                {
                    "role": "respondent",
                    "kind": "organization",
                    "name": "某建筑公司",
                    "address": "保定市竞秀区东风路 2 号",
                    "representative": "钱总",
                    "gender": "",
                    "ethnicity": "",
                },
            ]
        ),
    )
    assert response.status_code == 302, html_of(response)
    case = db.session.scalar(sa.select(Case).where(Case.organization_id == mediator_client.org.id))
    assert [(p.gender, p.ethnicity, p.occupation, p.address, p.representative) for p in case.parties] == [
        ("male", "蒙古族", "个体工商户", "河北省保定市竞秀区朝阳南大街 100 号", None),
        (None, None, None, "保定市竞秀区东风路 2 号", "钱总"),
    ]
    page = html_of(mediator_client.get(response.headers["Location"]))
    particulars = re.findall(r'<td class="particulars"[^>]*>(.*?)</td>', page, re.S)
    for shown in ("性别：男", "民族：蒙古族", "职业或工作单位：个体工商户"):
        assert shown in particulars[0]
    for shown in ("法定代表人或主要负责人：钱总", "住址或住所地：保定市竞秀区东风路 2 号"):
        assert shown in particulars[1]


def test_a_particular_that_does_not_fit_is_shown_beside_its_field(mediator_client):
    response = mediator_client.post(
        "/cases/new",
        data=_registration_form(
            [
                {
                    "role": "applicant",
                    "kind": "person",
                    "name": "张三",
                    "number": valid_id_number(),
                    "region_code": "110105",
                    "representative": "李四",
                },
                {"role": "respondent", "kind": "organization", "name": "某建筑公司", "gender": "female"},
            ]
        ),
    )
    assert response.status_code == 422
    html = html_of(response)
    assert re.search(r'id="parties-0-representative-errors"><li>只有组织当事人填写法定代表人或主要负责人</li>', html)
    assert re.search(r'id="parties-1-gender-errors"><li>只有自然人当事人填写此项</li>', html)
    # the fold with a message in it is open
    assert html.count('<details class="party-more" open>') == 2


def test_the_session_form_saves_place_attendees_and_recorder(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.accepted)
    db.session.commit()
    page = html_of(mediator_client.get(f"/cases/{case.id}"))
    assert "更多信息（制作文书用）" in page and 'name="record_session-place"' in page
    response = mediator_client.post(
        f"/cases/{case.id}/sessions",
        data={
            "record_session-held_on": case.last_step_on.isoformat(),
            "record_session-summary": "双方到场",
            "record_session-place": "竞秀区调解室",
            "record_session-attendees": "申请人 张三\r\n被申请人 李四",
            "record_session-recorder": "孙记录",
            "record_session-version": str(case.version),
        },
    )
    assert response.status_code == 302, html_of(response)
    session = db.session.scalars(sa.select(MediationSession).where(MediationSession.case_id == case.id)).one()
    assert (session.place, session.attendees, session.recorder) == (
        "竞秀区调解室",
        "申请人 张三\n被申请人 李四",
        "孙记录",
    )
    page = html_of(mediator_client.get(f"/cases/{case.id}"))
    row = re.search(rf'<tr data-session-id="{session.id}">(.*?)</tr>', page, re.S).group(1)
    assert "竞秀区调解室" in row and "申请人 张三<br>被申请人 李四" in row and "孙记录" in row


@pytest.mark.parametrize(
    ("outcome", "chosen", "stored"),
    [
        ("agreement", "oral", "oral"),
        ("agreement", "written", "written"),
        # without scripts the select still sends its first choice: it is not read for another outcome
        ("no_agreement", "written", None),
    ],
)
def test_the_conclusion_form_records_how_the_agreement_was_made(mediator_client, make_case, outcome, chosen, stored):
    case = make_case(mediator_client.org, CaseStatus.in_mediation)
    db.session.commit()
    form = {
        "conclude-outcome": outcome,
        "conclude-concluded_on": case.last_step_on.isoformat(),
        "conclude-agreement_form": chosen,
        "conclude-version": str(case.version),
    }
    if outcome == "agreement":
        form["conclude-terms"] = "被申请人赔偿维修费"
    response = mediator_client.post(f"/cases/{case.id}/conclude", data=form)
    assert response.status_code == 302, html_of(response)
    db.session.refresh(case)
    assert case.status == CaseStatus.concluded and case.agreement_form == stored
    page = html_of(mediator_client.get(f"/cases/{case.id}"))
    shown = re.search(r'<dd class="agreement-form">(.*?)</dd>', page)
    assert (shown.group(1) if shown else None) == {"oral": "口头协议", "written": "书面协议", None: None}[stored]


def test_the_follow_up_form_offers_the_signed_in_name_and_saves_how_and_by_whom(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.concluded)
    db.session.commit()
    page = html_of(mediator_client.get(f"/cases/{case.id}"))
    assert re.search(r'<input[^>]*id="record_follow_up-visitor"[^>]*value="孙记录"', page) or re.search(
        r'<input[^>]*value="孙记录"[^>]*id="record_follow_up-visitor"', page
    ), page
    response = mediator_client.post(
        f"/cases/{case.id}/follow-ups",
        data={
            "record_follow_up-visited_on": case.last_step_on.isoformat(),
            "record_follow_up-summary": "已履行完毕",
            "record_follow_up-performed": "true",
            "record_follow_up-method": "phone",
            "record_follow_up-visitor": "周回访",
            "record_follow_up-version": str(case.version),
        },
    )
    assert response.status_code == 302, html_of(response)
    follow_up = db.session.scalars(sa.select(FollowUp).where(FollowUp.case_id == case.id)).one()
    assert (follow_up.method, follow_up.visitor) == ("phone", "周回访")
    row = re.search(
        rf'<tr data-follow-up-id="{follow_up.id}">(.*?)</tr>', html_of(mediator_client.get(f"/cases/{case.id}")), re.S
    ).group(1)
    assert "电话回访" in row and "周回访" in row


def test_the_follow_up_form_without_a_method_leaves_it_blank(mediator_client, make_case):
    case = make_case(mediator_client.org, CaseStatus.concluded)
    db.session.commit()
    response = mediator_client.post(
        f"/cases/{case.id}/follow-ups",
        data={
            "record_follow_up-visited_on": case.last_step_on.isoformat(),
            "record_follow_up-summary": "电话未接通",
            "record_follow_up-method": "",
            "record_follow_up-visitor": "",
            "record_follow_up-version": str(case.version),
        },
    )
    assert response.status_code == 302, html_of(response)
    follow_up = db.session.scalars(sa.select(FollowUp).where(FollowUp.case_id == case.id)).one()
    assert (follow_up.method, follow_up.visitor) == (None, None)
