"""The legal-aid papers (documents/legal_aid.py): each built from an application moved through the service, its
blocks checked for the recorded facts, blanks where nothing is recorded, masked or full numbers as the context
says; a few rendered to PDF and read back."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from mediation_hub.core.actor import SYSTEM
from mediation_hub.documents import legal_aid, render
from mediation_hub.documents.common import Context
from mediation_hub.documents.models import DocumentNumber
from mediation_hub.extensions import db
from mediation_hub.legal_aid import service
from mediation_hub.legal_aid.models import ApplicationStatus as S
from mediation_hub.registry.models import OrgKind
from tests.factories_legal_aid import application_data

TODAY = date(2025, 9, 16)
MASKED = Context(full_numbers=False, today=TODAY)
FULL = Context(full_numbers=True, today=TODAY)
REASON = "申请人家庭人均月收入高于本省规定的经济困难标准。\n申请事项不属于法律援助法第三十一条规定的范围。"


def pairs(doc, t: str) -> dict[str, str]:
    """label → value of every ``fields`` (or ``kv``) block of the document."""
    found: dict[str, str] = {}
    for block in doc.blocks:
        if block["t"] == t == "fields":
            found.update({label: value for row in block["rows"] for label, value in row})
        elif block["t"] == t == "kv":
            found.update({label: value for label, value in block["items"]})
    return found


def texts(doc, t: str = "para") -> list[str]:
    return [b["text"] for b in doc.blocks if b["t"] == t]


def only(doc, t: str) -> dict:
    (block,) = [b for b in doc.blocks if b["t"] == t]
    return block


def with_particulars(application):
    application.applicant_gender = "female"
    application.applicant_ethnicity = "回族"
    application.applicant_address = "河北省保定市竞秀区东风路88号3单元502室"
    application.applicant_occupation = "保定某建筑公司 钢筋工"
    return application


def pdf_text(doc) -> str:
    data = render.pdf(doc, doc.digest())
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace(" ", "")


# --- 法律援助申请表 -----------------------------------------------------------------------------------------


def test_application_form_prints_the_recorded_particulars(make_application):
    application, tianjin, _ = make_application(S.filed)
    doc = legal_aid.build_application_form(with_particulars(application), MASKED)
    grid = pairs(doc, "fields")
    assert doc.title == "法律援助申请表"
    assert grid["姓名"] == "李秀英" and grid["性别"] == "女" and grid["民族"] == "回族"
    assert grid["年龄"] == "35岁"  # born 1990-04-02, filed 2025-09-10
    assert grid["住址"] == "河北省保定市竞秀区东风路88号3单元502室"
    assert grid["工作单位或职业"] == "保定某建筑公司 钢筋工"
    assert grid["申请事项"] == "请求确认劳动关系或者支付劳动报酬"
    assert grid["事项发生地"] == "河北省保定市竞秀区"
    assert grid["受理机构"] == tianjin.name and grid["申请日期"] == "2025年9月10日"
    assert grid["申请登记号"] == application.number
    assert "在天津务工被拖欠工资" in texts(doc)[0]
    assert only(doc, "signatures")["rows"] == [{"label": "申请人", "name": "李秀英", "print": True}]


def test_application_form_leaves_unrecorded_particulars_blank(make_application):
    application, _, _ = make_application(S.filed)
    application.set_id_number(None)
    application.set_phone(None)
    grid = pairs(legal_aid.build_application_form(application, MASKED), "fields")
    for label in ("性别", "民族", "年龄", "住址", "工作单位或职业", "身份证件号码", "联系电话", "登记人"):
        assert grid[label] == "", label


@pytest.mark.parametrize("ctx", [MASKED, FULL], ids=["masked", "full"])
def test_application_form_numbers_follow_the_context(make_application, ctx):
    application, _, _ = make_application(S.filed)
    grid = pairs(legal_aid.build_application_form(application, ctx), "fields")
    full_id, full_phone = application.full_id_number(), application.full_phone()
    if ctx.full_numbers:
        assert (grid["身份证件号码"], grid["联系电话"]) == (full_id, full_phone)
    else:
        assert (grid["身份证件号码"], grid["联系电话"]) == (application.id_number_masked, application.phone_masked)
        assert full_id not in str(grid) and full_phone not in str(grid)


@pytest.mark.parametrize(
    ("hardship", "exempt_group", "promise", "exempt_text"),
    [
        ("declaration", None, True, None),
        ("proof", None, False, None),
        ("exempt", "migrant_worker_wages_injury", False, "进城务工人员 (第四十二条第三项)"),
    ],
)
def test_application_form_hardship_and_the_art41_promise(
    make_application, hardship, exempt_group, promise, exempt_text
):
    application, _, _ = make_application(S.filed, hardship=hardship, exempt_group=exempt_group)
    doc = legal_aid.build_application_form(application, MASKED)
    grid = pairs(doc, "fields")
    assert grid["经济困难状况"] == application.hardship_label
    assert (legal_aid.DECLARATION_PROMISE in texts(doc)) is promise
    assert legal_aid.TRUTH_STATEMENT in texts(doc)
    if exempt_text:
        assert grid["免予核查情形"].endswith(exempt_text)
    else:
        assert "免予核查情形" not in grid


# --- 给予 / 不予法律援助决定书 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "title"),
    [
        (S.granted, "给予法律援助决定书"),
        (S.assigned, "给予法律援助决定书"),
        (S.closed, "给予法律援助决定书"),
        (S.refused, "不予法律援助决定书"),
    ],
)
def test_decision_title_follows_the_decision(make_application, status, title):
    application, _, baoding = make_application(status)
    doc = legal_aid.build_decision(application, MASKED)
    assert doc.title == title
    assert texts(doc)[0] == "李秀英："
    assert only(doc, "seal") == {"t": "seal", "org": baoding.name, "date": "2025年9月15日", "label": "（盖章）"}


@pytest.mark.parametrize("status", [S.filed, S.transferred, S.accepted])
def test_no_decision_paper_before_the_decision(make_application, status):
    application, _, _ = make_application(status)
    with pytest.raises(ValueError, match="has not been decided"):
        legal_aid.build_decision(application, MASKED)


def test_grant_names_the_application_and_its_legal_basis(make_application):
    application, tianjin, _ = make_application(S.granted)
    body = texts(legal_aid.build_decision(application, MASKED))[1]
    assert f"你于2025年9月10日向{tianjin.name}提出的法律援助申请（申请事项：请求确认劳动关系或者支付劳动报酬）" in body
    assert "经转交，本机构于2025年9月11日收到" in body
    assert (
        "根据《中华人民共和国法律援助法》第三十一条第五项、第四十一条、第四十三条的规定，本机构决定给予法律援助"
    ) in body
    assert "三日内指派法律援助人员" in body


def test_a_decision_of_the_centre_it_was_filed_at_says_received_on_filing(make_centre):
    centre = make_centre("130602")
    application = service.file_application(SYSTEM, application_data(centre.id))
    application = service.accept_application(SYSTEM, application.id, accepted_on=date(2025, 9, 11))
    application = service.decide_application(SYSTEM, application.id, granted=True, decided_on=date(2025, 9, 12))
    body = texts(legal_aid.build_decision(application, MASKED))[1]
    assert body.startswith(
        "本机构于2025年9月10日收到你提出的法律援助申请（申请事项：请求确认劳动关系或者支付劳动报酬）。"
    )


@pytest.mark.parametrize(
    ("matter_category", "hardship", "exempt_group", "basis"),
    [
        ("labour_remuneration", "declaration", None, ["第三十一条第五项", "第四十一条", "第四十三条"]),
        (
            "labour_remuneration",
            "exempt",
            "migrant_worker_wages_injury",
            ["第三十一条第五项", "第四十二条第三项", "第四十三条"],
        ),
        ("personal_injury", "exempt", "good_samaritan", ["第三十一条第七项", "第三十二条第二项", "第四十三条"]),
        ("maintenance", "proof", None, ["第三十一条第四项", "第四十一条", "第四十三条"]),
    ],
)
def test_legal_basis_reads_the_articles_of_the_matter_and_the_hardship(
    make_application, matter_category, hardship, exempt_group, basis
):
    application, _, _ = make_application(
        S.granted, matter_category=matter_category, hardship=hardship, exempt_group=exempt_group
    )
    assert legal_aid.legal_basis(application) == basis


@pytest.mark.parametrize(
    ("label", "parts"),
    [
        ("刑事辩护 (第二十四、二十五条)", ("刑事辩护", "第二十四、二十五条")),
        ("请求发给抚恤金（第三十一条第三项）", ("请求发给抚恤金", "第三十一条第三项")),
        ("没有条文的事项", ("没有条文的事项", "")),
        (None, ("", "")),
    ],
)
def test_label_parts(label, parts):
    assert legal_aid.label_parts(label) == parts


def test_refusal_gives_the_reasons_and_the_way_to_object(make_application, make_org):
    application, _, baoding = make_application(S.refused, hardship="proof")
    application.refusal_reason = REASON
    baoding.parent = make_org(name="保定市竞秀区司法局", kind=OrgKind.justice_bureau, region_code="130602")
    paras = texts(legal_aid.build_decision(application, MASKED))
    assert "经审查，你的申请不符合法律援助条件，理由如下：" in paras[1]
    assert REASON in paras  # typed text kept whole, its line break too
    assert "根据《中华人民共和国法律援助法》第四十三条第一款的规定，本机构决定不予法律援助。" in paras
    objection = paras[-1]
    assert "可以向设立本机构的司法行政部门（保定市竞秀区司法局）提出" in objection
    assert "五日内进行审查" in objection and "行政复议或者提起行政诉讼" in objection
    assert "第四十九条" in objection


def test_refusal_leaves_the_bureau_blank_when_the_registry_does_not_name_it(make_application):
    application, _, _ = make_application(S.refused)
    objection = texts(legal_aid.build_decision(application, MASKED))[-1]
    assert f"司法行政部门（{legal_aid.BLANK * 10}）提出" in objection


# --- 指派通知书 ------------------------------------------------------------------------------------------


def test_assignment_notice(make_application):
    application, _, baoding = make_application(S.assigned)
    doc = legal_aid.build_assignment_notice(application, MASKED)
    grid = pairs(doc, "fields")
    paras = texts(doc)
    assert doc.title == "指派通知书"
    assert paras[0] == f"{legal_aid.BLANK * 12}（承办单位）："  # the firm is not recorded
    assert paras[1].startswith(
        "本机构于2025年9月15日决定给予李秀英法律援助。根据《中华人民共和国法律援助法》第四十三条"
    )
    assert grid["受援人"] == "李秀英" and grid["联系电话"] == application.phone_masked
    assert grid["承办人员"] == "张律师" and grid["指派日期"] == "2025年9月16日"
    assert grid["决定书编号"] == "" and grid["决定日期"] == "2025年9月15日"
    assert "五日内与受援人" in paras[2]
    assert application.summary in paras
    assert only(doc, "seal")["org"] == baoding.name and only(doc, "seal")["date"] == "2025年9月16日"


def test_assignment_notice_cites_the_decision_number_once_given(make_application):
    application, _, baoding = make_application(S.assigned)
    number = "（2025）保竞法援决字第 7 号"
    db.session.add(
        DocumentNumber(
            owner_type="legal_aid",
            owner_id=application.id,
            series="法援决",
            organization_id=baoding.id,
            year=2025,
            sequence=7,
            text=number,
        )
    )
    db.session.flush()
    doc = legal_aid.build_assignment_notice(application, MASKED)
    assert pairs(doc, "fields")["决定书编号"] == number
    assert f"决定给予李秀英法律援助（{number}）。" in texts(doc)[1]


# --- 补充材料通知书 ---------------------------------------------------------------------------------------


def test_supplement_notice_lists_each_item_once(make_application):
    application, _, baoding = make_application(S.accepted)
    baoding.address = "保定市竞秀区朝阳南大街100号"
    # typed with an empty line and stray spaces: each item once, trimmed
    application.supplement_items = (
        "劳动合同或者其他证明劳动关系的材料\n\n  被拖欠工资的计算说明  \n用人单位的名称和住所\n"
    )
    application.supplement_requested_on = date(2025, 9, 12)
    application.supplement_due_on = date(2025, 9, 19)
    doc = legal_aid.build_supplement_notice(application, MASKED)
    paras = texts(doc)
    assert doc.title == "补充材料通知书" and paras[0] == "李秀英："
    assert "现一次性告知你需要补充的材料或者需要作出说明的事项如下" in paras[1]
    assert "第四十三条第二款" in paras[1]
    assert only(doc, "list") == {
        "t": "list",
        "numbered": True,
        "items": ["劳动合同或者其他证明劳动关系的材料", "被拖欠工资的计算说明", "用人单位的名称和住所"],
    }
    assert "请你于2025年9月19日前补充上述材料或者作出说明。" in paras
    assert "视为撤回申请（《中华人民共和国法律援助法》第四十三条第二款）" in paras[-1]
    assert "不计入审查期限" in paras[-1]
    assert pairs(doc, "kv") == {"联系地址": "保定市竞秀区朝阳南大街100号", "联系电话": ""}
    assert only(doc, "seal")["org"] == baoding.name and only(doc, "seal")["date"] == "2025年9月12日"


def test_supplement_notice_without_recorded_request_prints_blanks(make_application):
    application, _, _ = make_application(S.accepted)
    doc = legal_aid.build_supplement_notice(application, MASKED)
    assert only(doc, "list")["items"] == [legal_aid.BLANK * 30] * legal_aid.SUPPLEMENT_BLANK_LINES
    assert f"请你于{legal_aid.BLANK_DATE}前补充上述材料或者作出说明。" in texts(doc)
    assert only(doc, "seal")["date"] is None  # 年 月 日 printed blank by the seal
    assert pairs(doc, "kv")["联系地址"] == ""


# --- printed ---------------------------------------------------------------------------------------------


def test_refusal_pdf_reads_back(make_application):
    application, _, baoding = make_application(S.refused)
    application.refusal_reason = REASON
    doc = legal_aid.build_decision(application, MASKED)
    doc.number, doc.footer = "（2025）保竞法援决字第 3 号", f"申请 {application.number}"
    text = pdf_text(doc)
    for expected in (
        "不予法律援助决定书",
        "李秀英",
        "申请人家庭人均月收入高于本省规定的经济困难标准",
        "申请事项不属于法律援助法第三十一条规定的范围",
        "第四十九条",
        baoding.name,
        "（2025）保竞法援决字第3号",
        doc.digest(),
    ):
        assert expected in text, expected


def test_application_form_pdf_shows_the_masked_number_only(make_application):
    application, _, _ = make_application(S.filed)
    doc = legal_aid.build_application_form(with_particulars(application), MASKED)
    text = pdf_text(doc)
    assert application.id_number_masked in text and application.full_id_number() not in text
    assert application.full_phone() not in text
    for expected in (
        "法律援助申请表",
        "李秀英",
        "回族",
        "河北省保定市竞秀区东风路88号3单元502室",
        "在天津务工被拖欠工资",
    ):
        assert expected in text, expected
