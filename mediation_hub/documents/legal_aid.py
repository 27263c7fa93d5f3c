"""The legal-aid papers: 法律援助申请表, 给予/不予法律援助决定书, 指派通知书 and 补充材料通知书.

Each builder reads a ``LegalAidApplication`` as it stands and returns a ``blocks.Doc``; it writes nothing. The
layout follows the national formats (司法部《法律援助文书格式》, 2023: 编号, the addressee, "本机构于…收到…",
the seal and date); the fixed wording (the legal basis lines, the applicant's 承诺, the way to object, the
consequence of not supplementing) restates the law (《中华人民共和国法律援助法》 arts. 31, 32, 41, 42, 43, 49) and
《办理法律援助案件程序规定》 (2023). These fixed texts are Chinese literals, not wrapped in ``_()``: this is a legal
document, not a UI, and the paper is Chinese whatever the interface language. A fact the hub has not recorded
prints blank, to be filled in by hand; docs/DOCUMENTS.md lists each field and where it comes from."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from ..auth.people import person_for_user
from ..extensions import db
from ..legal_aid.models import Hardship, LegalAidApplication
from ..registry.models import Organization, OrgKind
from . import common
from .blocks import Doc, chinese_date, fields, heading, items, kv, para, seal, signatures
from .common import Context
from .models import DocumentNumber

LAW = "《中华人民共和国法律援助法》"
# The decision's number (series 法援决 of ``numbering``), cited by the assignment notice once it was given.
OWNER_TYPE = "legal_aid"
DECISION_SERIES = "法援决"

BLANK = "＿"
BLANK_DATE = f"{BLANK * 4}年{BLANK * 2}月{BLANK * 2}日"
SUPPLEMENT_BLANK_LINES = 3

# A reference label ends with the article it comes from: "请求支付劳动报酬 (第三十一条第五项)".
_ARTICLE = re.compile(r"^(?P<name>.*?)\s*[（(](?P<article>第[^（()）]*)[)）]\s*$")

DECLARATION_PROMISE = (
    "本人自愿以个人诚信承诺的方式说明经济困难状况（《中华人民共和国法律援助法》第四十一条），承诺本表所填内容和"
    "所说明的经济困难状况真实、准确、完整，同意法律援助机构通过信息共享查询等方式进行核查，并予以配合。"
    "如有不实，本人愿意承担相应的法律责任。"
)
TRUTH_STATEMENT = "本人保证以上所填内容及所提交的材料真实有效。"
OBJECTION = (
    "你如对本决定有异议，可以向设立本机构的司法行政部门{bureau}提出。司法行政部门应当自收到异议之日起五日内进行审查，"
    "作出维持本机构决定或者责令本机构改正的决定。你对司法行政部门维持本机构决定不服的，可以依法申请行政复议或者"
    "提起行政诉讼（《中华人民共和国法律援助法》第四十九条）。"
)
SUPPLEMENT_CONSEQUENCE = (
    "你补充材料、作出说明所需的时间不计入审查期限（《办理法律援助案件程序规定》）。你未按要求补充材料或者作出"
    "说明的，视为撤回申请（《中华人民共和国法律援助法》第四十三条第二款）。"
)
ASSIGNMENT_DUTY = (
    "请你单位及时安排承办人员，并自收到本通知书之日起五日内与受援人或者其法定代理人、近亲属签订委托协议和"
    "授权委托书，因受援人原因或者其他客观原因无法按时签订的除外（《办理法律援助案件程序规定》）。"
)


def blank(value: object, width: int = 8) -> str:
    """The value inside a sentence, or a line to fill in by hand when it is not recorded."""
    text = "" if value is None else str(value).strip()
    return text or BLANK * width


def label_parts(label: str | None) -> tuple[str, str]:
    """("请求支付劳动报酬", "第三十一条第五项") from a reference label; the article is empty when it names none."""
    if not label:
        return "", ""
    found = _ARTICLE.match(label)
    return (found["name"], found["article"]) if found else (label, "")


def matter(application: LegalAidApplication) -> str:
    """The matter as the paper names it, without the article the hub's label carries."""
    return label_parts(application.matter_category_label)[0]


def legal_basis(application: LegalAidApplication) -> list[str]:
    """The articles a decision to grant rests on: the matter's (arts. 24–31), how hardship was established (art. 41;
    for an exempt applicant the art. 32 or 42 item), and the procedure (art. 43)."""
    if application.hardship == Hardship.exempt:
        hardship_article = label_parts(application.exempt_group_label)[1]
    else:
        hardship_article = label_parts(application.hardship_label)[1]
    articles = [label_parts(application.matter_category_label)[1], hardship_article, "第四十三条"]
    return list(dict.fromkeys(a for a in articles if a))


def matter_place(application: LegalAidApplication) -> str:
    region = application.matter_region
    return region.full_name.replace(" ", "") if region is not None else ""


def received_sentence(application: LegalAidApplication) -> str:
    """How the application reached the centre writing: filed there, or handed over under 通办 from another centre."""
    asked = f"（申请事项：{matter(application)}）"
    centre, filed_at = application.centre, application.filed_centre
    if filed_at is not None and centre is not None and filed_at.id != centre.id:
        return (
            f"你于{chinese_date(application.filed_on)}向{filed_at.name}提出的法律援助申请{asked}，经转交，"
            f"本机构于{blank(chinese_date(application.received_on), 10)}收到。"
        )
    return f"本机构于{chinese_date(application.filed_on)}收到你提出的法律援助申请{asked}。"


def justice_bureau(centre: Organization | None) -> Organization | None:
    """The 司法行政部门 that set up the centre, when the registry records it as the centre's parent."""
    parent = centre.parent if centre is not None else None
    return parent if parent is not None and parent.kind == OrgKind.justice_bureau else None


def decision_number(application: LegalAidApplication) -> str | None:
    """The 决定书's number when one was given (the decision was printed); None before that. Only reads."""
    with db.session.no_autoflush:
        return db.session.execute(
            sa.select(DocumentNumber.text).where(
                DocumentNumber.owner_type == OWNER_TYPE,
                DocumentNumber.owner_id == application.id,
                DocumentNumber.series == DECISION_SERIES,
            )
        ).scalar()


def centre_name(application: LegalAidApplication) -> str:
    return application.centre.name if application.centre is not None else ""


def addressee(name: str | None) -> dict | None:
    return para(f"{blank(name, 10)}：", indent=False)


# --- 法律援助申请表 ----------------------------------------------------------------------------------------


def build_application_form(application: LegalAidApplication, ctx: Context) -> Doc:
    """法律援助申请表: the applicant's particulars, the matter, the facts and reasons, the economic hardship
    (with the art. 41 承诺 when the applicant chose the declaration), where and when it was filed; the applicant
    signs and puts a fingerprint."""
    doc = Doc(title="法律援助申请表")
    filed_at = application.filed_centre
    doc.add(
        heading("申请人基本情况"),
        fields(
            [("姓名", application.applicant_name), ("性别", common.gender(application.applicant_gender))],
            [("民族", application.applicant_ethnicity), ("年龄", common.age_on(application, application.filed_on))],
            [("身份证件号码", common.id_number(application, ctx))],
            [("联系电话", common.phone(application, ctx)), ("工作单位或职业", application.applicant_occupation)],
            [("住址", application.applicant_address)],
        ),
        heading("申请事项"),
        fields(
            [("申请事项", matter(application))],
            [("事项发生地", matter_place(application))],
            *hardship_rows(application),
            columns=2,
        ),
        heading("案情及申请理由"),
        para(application.summary),
        heading("受理情况"),
        fields(
            [
                ("受理机构", filed_at.name if filed_at is not None else ""),
                ("申请日期", chinese_date(application.filed_on)),
            ],
            [
                ("申请登记号", application.number),
                ("登记人", person_for_user(application.filed_by_id).name if application.filed_by_id else ""),
            ],
        ),
        heading("申请人承诺"),
        para(TRUTH_STATEMENT),
    )
    if application.hardship == Hardship.declaration:
        doc.add(para(DECLARATION_PROMISE))
    doc.add(signatures(("申请人", application.applicant_name)))
    return doc


def hardship_rows(application: LegalAidApplication) -> list[list[tuple[str, object]]]:
    rows: list[list[tuple[str, object]]] = [[("经济困难状况", application.hardship_label)]]
    if application.hardship == Hardship.exempt:
        rows.append([("免予核查情形", application.exempt_group_label)])
    return rows


# --- 给予 / 不予法律援助决定书 --------------------------------------------------------------------------------


def build_decision(application: LegalAidApplication, ctx: Context) -> Doc:
    """给予法律援助决定书 or 不予法律援助决定书 as ``granted`` says: to the applicant, the application (date and
    matter), the decision and its legal basis; for a refusal the reasons and the way to object (art. 49); the
    centre's seal and the date of the decision."""
    if application.granted is None:
        raise ValueError("the application has not been decided")
    granted = bool(application.granted)
    doc = Doc(title="给予法律援助决定书" if granted else "不予法律援助决定书")
    doc.add(addressee(application.applicant_name))
    if granted:
        basis = "、".join(legal_basis(application))
        doc.add(
            para(
                f"{received_sentence(application)}经审查，你的申请符合法律援助条件。根据{LAW}{basis}的规定，本机构决定"
                "给予法律援助，并将自本决定作出之日起三日内指派法律援助人员为你提供法律援助。"
            )
        )
    else:
        bureau = justice_bureau(application.centre)
        doc.add(
            para(f"{received_sentence(application)}经审查，你的申请不符合法律援助条件，理由如下："),
            para(application.refusal_reason) or para(BLANK * 30),
            para(f"根据{LAW}第四十三条第一款的规定，本机构决定不予法律援助。"),
            para(OBJECTION.format(bureau=f"（{bureau.name}）" if bureau is not None else f"（{BLANK * 10}）")),
        )
    doc.add(seal(centre_name(application), application.decided_on))
    return doc


# --- 指派通知书 ------------------------------------------------------------------------------------------


def build_assignment_notice(application: LegalAidApplication, ctx: Context) -> Doc:
    """指派通知书 to the law firm (not recorded: blank) naming the assisted person, the matter, the decision (and
    its number once given), the lawyer and the date; the centre's seal."""
    doc = Doc(title="指派通知书")
    number = decision_number(application)
    cited = f"（{number}）" if number else ""
    doc.add(
        para(f"{BLANK * 12}（承办单位）：", indent=False),
        para(
            f"本机构于{blank(chinese_date(application.decided_on), 10)}决定给予{application.applicant_name}法律援助"
            f"{cited}。根据{LAW}第四十三条的规定，现指派你单位承办该法律援助事项。"
        ),
        para(ASSIGNMENT_DUTY),
        heading("受援人及案件情况"),
        fields(
            [("受援人", application.applicant_name), ("联系电话", common.phone(application, ctx))],
            [("申请事项", matter(application))],
            [("事项发生地", matter_place(application))],
            [("决定书编号", number or ""), ("决定日期", chinese_date(application.decided_on))],
            [("承办人员", application.lawyer_name), ("指派日期", chinese_date(application.assigned_on))],
        ),
        heading("案情摘要"),
        para(application.summary),
        seal(centre_name(application), application.assigned_on),
    )
    return doc


# --- 补充材料通知书 ---------------------------------------------------------------------------------------


def supplement_lines(application: LegalAidApplication) -> list[str]:
    """The materials or points, one per line as typed; blank lines to fill in when none is recorded."""
    lines = [line.strip() for line in (application.supplement_items or "").splitlines() if line.strip()]
    return lines or [BLANK * 30] * SUPPLEMENT_BLANK_LINES


def build_supplement_notice(application: LegalAidApplication, ctx: Context) -> Doc:
    """补充材料通知书: the one-time notice (art. 43 para. 2) of what to supplement or explain, the day to reply by,
    the consequence of not replying; the centre's seal and the day of the request."""
    doc = Doc(title="补充材料通知书")
    due: date | None = application.supplement_due_on
    doc.add(
        addressee(application.applicant_name),
        para(
            f"{received_sentence(application)}经审查，你提交的申请材料不齐全。根据{LAW}第四十三条第二款的规定，"
            "现一次性告知你需要补充的材料或者需要作出说明的事项如下："
        ),
        items(supplement_lines(application)),
        para(f"请你于{chinese_date(due) or BLANK_DATE}前补充上述材料或者作出说明。"),
        para(SUPPLEMENT_CONSEQUENCE),
        kv(("联系地址", application.centre.address if application.centre is not None else ""), ("联系电话", "")),
        seal(centre_name(application), application.supplement_requested_on),
    )
    return doc


__all__ = ["build_application_form", "build_assignment_notice", "build_decision", "build_supplement_notice"]
