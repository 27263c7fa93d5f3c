"""The mediation documents (documents/mediation.py) built from real cases: the blocks carry the recorded facts,
an unrecorded fact is a blank to fill in by hand, ID numbers and phones are full or masked as the context says,
and every document renders to a PDF whose text reads back."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from mediation_hub.cases import service
from mediation_hub.cases.models import CaseStatus, Outcome
from mediation_hub.core.actor import SYSTEM, Actor
from mediation_hub.core.pii import mask_id_number, mask_phone, mask_uscc
from mediation_hub.documents import mediation, render
from mediation_hub.documents.common import Context
from mediation_hub.documents.models import DocumentNumber
from mediation_hub.extensions import db
from tests.factories import valid_id_number
from tests.factories_cases import organization_party, person, valid_uscc

TODAY = date(2026, 12, 7)  # the day of generation: no document prints it, so no clock is involved
NUMBER = "（2026）测调字第 7 号"
APPLICANT_ID = valid_id_number(born=date(1980, 5, 17), sequence=11)
RESPONDENT_ID = valid_id_number(born=date(1990, 1, 2), sequence=22)
APPLICANT_PHONE, RESPONDENT_PHONE = "13912345678", "13987654321"
COMPANY_USCC = valid_uscc()
TERMS = "一、被申请人于2026年3月31日前支付维修费1200元；\n二、双方再无其他争议。"
FOLLOW_UP_ON = date(2026, 3, 20)


def actor_of(user) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role, organization_id=user.organization_id)


@pytest.fixture
def dispute(make_org, make_mediator, make_user, make_case):
    """A concluded case with an agreement between a person with every particular recorded (张三), a person with
    none (李四) and a company; two mediators (王调解 leads); registered by 赵登记; one session, one follow-up."""
    org = make_org(name="测试街道人民调解委员会", address="测试市测试路1号")
    lead = make_mediator(organization=org, name="王调解")
    second = make_mediator(organization=org, name="李协助")
    registrar = make_user(organization=org, display_name="赵登记")
    actor = actor_of(registrar)
    parties = [
        person("applicant", "张三", id_number=APPLICANT_ID, phone=APPLICANT_PHONE),
        person("respondent", "李四", id_number=RESPONDENT_ID, phone=RESPONDENT_PHONE),
        organization_party("respondent", "某某物业有限公司", code=COMPANY_USCC),
    ]
    case = make_case(org, CaseStatus.concluded, actor=actor, parties=parties, mediator_ids=[lead.id, second.id])
    service.record_follow_up(actor, case.id, visited_on=FOLLOW_UP_ON, summary="申请人已收到赔偿款", performed=True)
    zhang, _li, company = case.parties
    zhang.gender, zhang.ethnicity, zhang.occupation, zhang.address = "male", "汉族", "教师", "测试市幸福小区3号楼502室"
    company.representative, company.address = "钱法人", "测试市工业路8号"
    case.agreement_terms = TERMS
    db.session.flush()
    return case


def ctx(full: bool = False, item=None, number: str | None = NUMBER) -> Context:
    return Context(full_numbers=full, today=TODAY, number=number, item=item)


def grid(doc) -> list[tuple[str, str]]:
    """Every (label, value) of the document's form grids, in order."""
    return [tuple(cell) for b in doc.blocks if b["t"] == "fields" for row in b["rows"] for cell in row]


def grids(doc) -> list[dict[str, str]]:
    """Each form grid as a dict (one per party in the particulars)."""
    return [{label: value for row in b["rows"] for label, value in row} for b in doc.blocks if b["t"] == "fields"]


def pairs(doc) -> dict[str, str]:
    return {label: value for b in doc.blocks if b["t"] == "kv" for label, value in b["items"]}


def paragraphs(doc) -> str:
    return "\n".join(b["text"] for b in doc.blocks if b["t"] in ("para", "heading"))


def signed(doc) -> list[tuple[str, str | None, bool]]:
    return [(r["label"], r["name"], r["print"]) for b in doc.blocks if b["t"] == "signatures" for r in b["rows"]]


def seals(doc) -> list[dict]:
    return [b for b in doc.blocks if b["t"] == "seal"]


def pdf_text(doc) -> str:
    """The PDF's text without the spaces and line breaks the typesetter put in (a name may wrap in a cell)."""
    data = render.pdf(doc, doc.digest())
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace(" ", "").replace("\n", "")


# -- the particulars and the numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("full", [True, False])
def test_agreement_particulars_full_or_masked_as_the_context_says(dispute, full):
    zhang, li, company = mediation.build_agreement(dispute, ctx(full=full)).blocks[:3]
    zhang, li, company = ({label: value for row in b["rows"] for label, value in row} for b in (zhang, li, company))
    assert zhang == {
        "申请人": "张三",
        "性别": "男",
        "民族": "汉族",
        "年龄": "45岁",
        "职业或职务": "教师",
        "联系电话": APPLICANT_PHONE if full else mask_phone(APPLICANT_PHONE),
        "公民身份号码": APPLICANT_ID if full else mask_id_number(APPLICANT_ID),
        "住址": "测试市幸福小区3号楼502室",
    }
    # nothing recorded about 李四 but name, numbers and birth date: blanks to fill in by hand, nothing guessed
    assert li == {
        "被申请人": "李四",
        "性别": "",
        "民族": "",
        "年龄": "36岁",
        "职业或职务": "",
        "联系电话": RESPONDENT_PHONE if full else mask_phone(RESPONDENT_PHONE),
        "公民身份号码": RESPONDENT_ID if full else mask_id_number(RESPONDENT_ID),
        "住址": "",
    }
    assert company == {
        "被申请人": "某某物业有限公司",
        "法定代表人": "钱法人",
        "统一社会信用代码": COMPANY_USCC if full else mask_uscc(COMPANY_USCC),
        "联系电话": "",
        "住所地": "测试市工业路8号",
    }


@pytest.mark.parametrize(
    "build",
    [
        mediation.build_application,
        mediation.build_registration,
        mediation.build_oral_agreement,
        mediation.build_confirmation_application,
    ],
)
def test_masked_documents_never_hold_a_full_number(dispute, build):
    doc = build(dispute, ctx(full=False))
    printed = str(doc.content())
    assert APPLICANT_ID not in printed and APPLICANT_PHONE not in printed and COMPANY_USCC not in printed


# -- each document ------------------------------------------------------------------------------------------


def test_application(dispute):
    doc = mediation.build_application(dispute, ctx(number=None))
    assert doc.title == "人民调解申请书"
    assert [g.get("申请人") or g.get("被申请人") for g in grids(doc)] == ["张三", "李四", "某某物业有限公司"]
    assert grids(doc)[0]["年龄"] == "45岁"  # on the day it was received, 2026-03-02
    assert dispute.summary in paragraphs(doc)
    assert pairs(doc) == {"涉及金额": ""}  # no amount recorded: a blank, not 0
    assert "测试街道人民调解委员会已将申请人民调解的相关规定告知申请人" in paragraphs(doc)
    assert signed(doc) == [("申请人（签名盖章或者按指印）", "张三", True)]  # the applicants sign, not the respondents


def test_application_prints_the_amount_in_dispute(make_case):
    case = make_case(amount_yuan="3500")
    assert pairs(mediation.build_application(case, ctx()))["涉及金额"] == "3,500.00 元"


def test_registration_of_an_accepted_case(dispute):
    doc = mediation.build_registration(dispute, ctx())
    assert doc.title == "人民调解受理登记表"
    assert grid(doc) == [
        ("案件来源", "当事人申请"),
        ("登记日期", "2026年3月2日"),
        ("纠纷类型", "邻里"),
        ("申请人", "张三"),
        ("联系电话", mask_phone(APPLICANT_PHONE)),
        ("被申请人", "李四"),
        ("联系电话", mask_phone(RESPONDENT_PHONE)),
        ("被申请人", "某某物业有限公司"),
        ("联系电话", ""),
        ("纠纷简要情况", dispute.summary),
        ("受理情况", "受理"),
        ("日期", "2026年3月2日"),
        ("人民调解员", "王调解、李协助"),
    ]
    assert "2026年3月2日，本人民调解委员会经当事人同意，调解张三、李四、某某物业有限公司之间的纠纷。" in paragraphs(doc)
    assert signed(doc)[-1] == ("登记人（签名）", "赵登记", False)
    assert [s["date"] for s in seals(doc)] == ["2026年3月2日"]


def test_registration_of_a_declined_case_gives_the_reason(make_case):
    doc = mediation.build_registration(make_case(status=CaseStatus.declined), ctx())
    values = dict(grid(doc))
    assert values["受理情况"] == "不予受理" and values["不予受理理由"] == "不属于人民调解受理范围"
    assert "经当事人同意" not in paragraphs(doc)
    assert signed(doc)[-1] == ("登记人（签名）", None, False)  # registered by the system: nobody to name


def test_rights_notice(dispute):
    doc = mediation.build_rights_notice(dispute, ctx(number=None))
    text = paragraphs(doc)
    assert text.startswith("张三、李四、某某物业有限公司：")
    for right in (
        "选择或者接受人民调解员",
        "接受调解、拒绝调解或者要求终止调解",
        "要求调解公开进行或者不公开进行",
        "自主表达意愿、自愿达成调解协议",
    ):  # 人民调解法 art. 23
        assert right in text
    for duty in ("如实陈述纠纷事实", "遵守调解现场秩序，尊重人民调解员", "尊重对方当事人行使权利"):  # art. 24
        assert duty in text
    assert signed(doc) == [
        ("当事人（签名）", "张三", True),
        ("当事人（签名）", "李四", True),
        ("当事人（签名）", "某某物业有限公司", False),
    ]
    assert [(s["org"], s["date"]) for s in seals(doc)] == [("测试街道人民调解委员会", "2026年3月2日")]


@pytest.mark.parametrize(("session_mediator", "shown"), [(None, "王调解"), ("second", "李协助")])
def test_session_record(dispute, session_mediator, shown):
    session = dispute.sessions[0]
    if session_mediator:
        session.mediator_id = next(m.mediator_id for m in dispute.mediators if not m.lead)
    session.place, session.attendees, session.recorder = "调解室", "网格员 孙六\n物业经理 周七", "钱记录"
    doc = mediation.build_session_record(dispute, ctx(item=session, number=None))
    assert doc.title == "人民调解记录" and doc.subtitle == "（第一次调解）"
    assert dict(grid(doc)) == {
        "时间": "2026年3月3日",
        "地点": "调解室",
        "事由": "张三与李四等邻里纠纷",
        "当事人": "张三、李四、某某物业有限公司",
        "人民调解员": shown,
        "记录人": "钱记录",
        "参加人员": "网格员 孙六\n物业经理 周七",
    }
    assert "双方到场，陈述事实" in paragraphs(doc)
    assert signed(doc)[-2:] == [("人民调解员（签名）", shown, False), ("记录人（签名）", "钱记录", False)]


def test_session_record_leaves_unrecorded_place_attendees_and_recorder_blank(dispute):
    doc = mediation.build_session_record(dispute, ctx(item=dispute.sessions[0], number=None))
    values = dict(grid(doc))
    assert values["地点"] == values["参加人员"] == values["记录人"] == ""
    assert signed(doc)[-1] == ("记录人（签名）", None, False)


def test_agreement(dispute):
    doc = mediation.build_agreement(dispute, ctx(full=True))
    text = paragraphs(doc)
    assert doc.title == "人民调解协议书"
    assert dispute.summary in text and TERMS in text
    assert pairs(doc) == {"协议金额": "1,200.00 元"}
    assert "本协议一式四份，当事人各执一份，人民调解委员会留存一份。" in text  # three parties and the committee
    assert "自本协议生效之日起三十日内共同向人民法院申请司法确认" in text
    assert signed(doc) == [
        ("申请人", "张三", True),
        ("被申请人", "李四", True),
        ("被申请人", "某某物业有限公司", False),
        ("人民调解员", "王调解", False),
        ("人民调解员", "李协助", False),
    ]
    assert [(s["org"], s["date"]) for s in seals(doc)] == [("测试街道人民调解委员会", "2026年3月4日")]


def test_agreement_without_a_sum_prints_no_amount(dispute):
    dispute.agreement_amount_yuan = None  # a settlement without money (an apology, a repair)
    assert "协议金额" not in pairs(mediation.build_agreement(dispute, ctx()))


def test_oral_agreement(dispute):
    dispute.agreement_form = "oral"
    doc = mediation.build_oral_agreement(dispute, ctx())
    values = dict(grid(doc))
    assert doc.title == "人民调解口头协议登记表"
    assert values["纠纷事实"] == dispute.summary and values["协议内容\n（含履行方式、期限）"] == TERMS
    assert values["协议金额"] == "1,200.00 元" and values["登记人"] == "王调解"
    assert values["达成协议日期"] == values["登记日期"] == "2026年3月4日"
    assert "口头调解协议自各方当事人达成协议之日起生效" in paragraphs(doc)
    assert signed(doc)[-1] == ("登记人（签名）", "王调解", False)


@pytest.mark.parametrize(
    ("method", "label"), [("visit", "上门回访"), ("phone", "电话回访"), ("other", "其他"), (None, "")]
)
@pytest.mark.parametrize(("performed", "state"), [(True, "已履行"), (False, "未履行"), (None, "")])
def test_follow_up(dispute, method, label, performed, state):
    follow_up = dispute.follow_ups[0]
    follow_up.method, follow_up.visitor, follow_up.performed = method, "孙回访", performed
    doc = mediation.build_follow_up(dispute, ctx(item=follow_up, number=None))
    values = dict(grid(doc))
    assert doc.title == "人民调解回访记录"
    assert values["回访方式"] == label and values["协议履行情况"] == state
    assert values["回访时间"] == "2026年3月20日" and values["回访情况"] == "申请人已收到赔偿款"
    assert values["被回访人"] == "张三、李四、某某物业有限公司" and values["回访人"] == "孙回访"
    assert signed(doc) == [("回访人（签名）", "孙回访", False)]


def test_follow_up_visitor_defaults_to_who_recorded_it(dispute):
    doc = mediation.build_follow_up(dispute, ctx(item=dispute.follow_ups[0], number=None))
    assert dict(grid(doc))["回访人"] == "赵登记"


def test_follow_up_cites_the_agreement_number_once_given(dispute):
    follow_up = dispute.follow_ups[0]
    assert dict(grid(mediation.build_follow_up(dispute, ctx(item=follow_up, number=None))))["调解协议编号"] == ""
    db.session.add(
        DocumentNumber(
            owner_type="case",
            owner_id=dispute.id,
            series="调",
            organization_id=dispute.organization_id,
            year=2026,
            sequence=7,
            text=NUMBER,
        )
    )
    db.session.flush()
    assert dict(grid(mediation.build_follow_up(dispute, ctx(item=follow_up, number=None))))["调解协议编号"] == NUMBER


def test_follow_up_of_a_case_without_agreement_has_no_agreement_number(make_case):
    case = make_case(status=CaseStatus.concluded, outcome=Outcome.no_agreement)
    service.record_follow_up(SYSTEM, case.id, visited_on=FOLLOW_UP_ON, summary="双方未再发生争执")
    doc = mediation.build_follow_up(case, ctx(item=case.follow_ups[0]))
    values = dict(grid(doc))
    assert values["调解协议编号"] == "" and values["回访人"] == "" and values["协议履行情况"] == ""


@pytest.mark.parametrize("court", [None, "测试市测试区人民法院"])
def test_confirmation_application(dispute, court):
    if court:
        service.apply_for_confirmation(SYSTEM, dispute.id, applied_on=date(2026, 3, 21), court=court)
        db.session.expire(dispute, ["events"])
    doc = mediation.build_confirmation_application(dispute, ctx(full=True))
    text = paragraphs(doc)
    assert doc.title == "司法确认申请书"
    assert [g["申请人"] for g in grids(doc)] == ["张三", "李四", "某某物业有限公司"]
    assert grids(doc)[0]["公民身份号码"] == APPLICANT_ID
    assert (
        "请求确认申请人张三、申请人李四与申请人某某物业有限公司于2026年3月4日经测试街道人民调解委员会主持调解达成的"
        "人民调解协议有效。"
    ) in text
    assert f"（人民调解协议书编号：{NUMBER}）" in text and TERMS in text
    assert "不存在恶意串通、规避法律的行为" in text and "不损害国家利益、社会公共利益和他人的合法权益" in text
    assert pairs(doc) == {"协议金额": "1,200.00 元", "受理人民法院": court or ""}
    assert [name for _label, name, _print in signed(doc)] == ["张三", "李四", "某某物业有限公司"]
    package = next(b for b in doc.blocks if b["t"] == "table")
    assert package["head"] == ["序号", "材料名称", "份数", "备注"]
    assert [row[1] for row in package["rows"]] == [
        "人民调解协议书",
        "当事人身份证明",
        "调解组织主持调解的证明",
        "与争议有关的证明材料",
        "其他材料",
    ]
    assert package["rows"][0][3] == f"编号：{NUMBER}" and package["rows"][2][3] == "由测试街道人民调解委员会出具"


# -- printed ------------------------------------------------------------------------------------------------

KINDS = [
    "application",
    "registration",
    "rights_notice",
    "session_record",
    "agreement",
    "oral_agreement",
    "follow_up",
    "confirmation_application",
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_document_prints_and_reads_back(dispute, kind):
    item = {"session_record": dispute.sessions[0], "follow_up": dispute.follow_ups[0]}.get(kind)
    doc = getattr(mediation, f"build_{kind}")(dispute, ctx(item=item))
    text = pdf_text(doc)
    assert doc.title in text and "张三" in text and "某某物业有限公司" in text


@pytest.mark.parametrize("full", [True, False])
def test_printed_agreement_holds_number_terms_amount_and_the_numbers_as_asked(dispute, full):
    doc = mediation.build_agreement(dispute, ctx(full=full))
    doc.number = NUMBER
    text = pdf_text(doc)
    assert NUMBER.replace(" ", "") in text and "被申请人于2026年3月31日前支付维修费1200元" in text
    assert "1,200.00元" in text and "张三" in text and "李四" in text
    assert (APPLICANT_ID in text) is full and (mask_id_number(APPLICANT_ID) in text) is not full


def test_two_parties_sign_three_copies(make_case):
    text = paragraphs(mediation.build_agreement(make_case(status=CaseStatus.concluded), ctx()))
    assert "本协议一式三份，当事人各执一份，人民调解委员会留存一份。" in text
