"""The documents of the people's-mediation file, each built from the case as it stands.

Each ``build_<kind>(case, ctx)`` reads the case (and, for a session record or a follow-up, ``ctx.item``) and
returns a ``blocks.Doc``; it writes nothing. The fields and their order follow the 司法部 formats of people's-
mediation documents (人民调解申请书, 受理登记表, 当事人权利义务告知书, 人民调解记录, 人民调解协议书, 口头协议登记表,
回访记录) and, for the 司法确认申请书, the court's format under 法释〔2011〕5号 and 民事诉讼法 arts. 205–206;
docs/DOCUMENTS.md says where each field comes from. A fact the hub has not recorded prints as a blank to fill
in by hand, never a guess. Personal numbers go only through ``common.id_number`` / ``common.phone``.

The fixed wording (the rights and duties, the legal basis, the effect of an agreement, the declarations) is the
paper's own Chinese text, not user interface: it is deliberately not wrapped in ``_()`` — a legal document
reads the same whatever language the page is shown in.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..auth.people import person_for_user
from ..cases.models import Case, FollowUp, MediationSession, Outcome, Party, PartyKind, PartyRole
from ..extensions import db
from ..registry.models import Mediator
from .blocks import Doc, chinese_date, fields, heading, kv, pagebreak, para, seal, signatures, table, text, yuan
from .common import Context, age_on, gender, id_number, phone
from .models import DocumentNumber

ROLE_LABELS = {PartyRole.applicant: "申请人", PartyRole.respondent: "被申请人", PartyRole.third_party: "第三人"}
FOLLOW_UP_METHODS = {"visit": "上门回访", "phone": "电话回访", "other": "其他"}
PERFORMED: dict[bool | None, str] = {True: "已履行", False: "未履行"}
MEDIATION_SERIES = "调"  # the series of the case's number (kinds.MEDIATION_SERIES); the agreement carries it
DIGITS = "零一二三四五六七八九"

LAW = "《中华人民共和国人民调解法》"
CONFIRMATION_RULES = "《最高人民法院关于人民调解协议司法确认程序的若干规定》（法释〔2011〕5号）"

# 人民调解法 arts. 7, 4, 3, 23, 24, 26, 28–33: what the committee tells the parties before it mediates (art. 30 of
# the 司法部's 人民调解工作若干规定), in the words of the law.
NOTICE_INTRO = (
    "根据" + LAW + "的规定，现将人民调解的性质、原则和效力，以及当事人在人民调解活动中享有的权利和承担的义务告知如下："
)
NOTICE_NATURE = (
    "人民调解委员会是依法设立的调解民间纠纷的群众性组织（第七条）。人民调解委员会调解民间纠纷，"
    "不收取任何费用（第四条）。"
)
NOTICE_PRINCIPLES = (
    "（一）在当事人自愿、平等的基础上进行调解；\n"
    "（二）不违背法律、法规和国家政策；\n"
    "（三）尊重当事人的权利，不得因调解而阻止当事人依法通过仲裁、行政、司法等途径维护自己的权利。"
)
NOTICE_RIGHTS = (
    "（一）选择或者接受人民调解员；\n"
    "（二）接受调解、拒绝调解或者要求终止调解；\n"
    "（三）要求调解公开进行或者不公开进行；\n"
    "（四）自主表达意愿、自愿达成调解协议。"
)
NOTICE_DUTIES = "（一）如实陈述纠纷事实；\n（二）遵守调解现场秩序，尊重人民调解员；\n（三）尊重对方当事人行使权利。"
NOTICE_EFFECT = (
    "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行（第三十一条）。"
    "调解协议书自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效；"
    "口头调解协议自各方当事人达成协议之日起生效（第二十九条、第三十条）。\n"
    "经人民调解委员会调解达成调解协议后，双方当事人认为有必要的，可以自调解协议生效之日起三十日内共同向人民法院"
    "申请司法确认（第三十三条）。\n"
    "调解不成的，人民调解员应当终止调解，并依据有关法律、法规的规定，告知当事人可以依法通过仲裁、行政、司法等途径"
    "维护自己的权利（第二十六条）。"
)
NOTICE_ACKNOWLEDGED = "以上内容，本人民调解委员会已告知，当事人已知悉。"

RECORD_READ_BACK = "以上记录已经当事人阅读（或者向当事人宣读），确认无误。"

AGREEMENT_EFFECT = (
    "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效（"
    + LAW
    + "第二十九条）。经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行（第三十一条）。"
    "双方当事人认为有必要的，可以自本协议生效之日起三十日内共同向人民法院申请司法确认（第三十三条）；"
    "人民法院依法确认调解协议有效，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院申请强制执行。"
)
ORAL_EFFECT = (
    "口头调解协议自各方当事人达成协议之日起生效，具有法律约束力，当事人应当按照约定履行（"
    + LAW
    + "第三十条、第三十一条）。本表由人民调解员记录协议内容（第二十八条）。"
)

# 法释〔2011〕5号 arts. 3, 4, 6 and 7 (the court refuses an agreement that breaks a mandatory rule, harms the state,
# the public or a third person, offends public order, or is unclear) and 民事诉讼法 arts. 205–206: what the
# applicants declare to the court.
CONFIRMATION_DECLARATIONS = (
    "一、本调解协议系申请人出于解决纠纷的目的自愿达成，不存在欺诈、胁迫或者重大误解等情形；\n"
    "二、申请人之间不存在恶意串通、规避法律的行为，调解协议不损害国家利益、社会公共利益和他人的合法权益，"
    "不违反法律、行政法规的强制性规定，不违背公序良俗；\n"
    "三、调解协议的内容明确，不涉及确认身份关系、收养关系或者婚姻关系；\n"
    "四、申请人向人民法院如实陈述调解协议的有关情况，保证提交的证明材料真实、合法；如因该协议内容给他人造成损害，"
    "愿意承担相应的民事责任和其他法律责任。"
)
CONFIRMATION_PACKAGE = (
    ("人民调解协议书", ""),
    (
        "当事人身份证明",
        "居民身份证复印件；法人或者其他组织提交营业执照（登记证书）复印件和法定代表人（负责人）身份证明",
    ),
    ("调解组织主持调解的证明", ""),
    ("与争议有关的证明材料", "与调解协议相关的财产权利证明等"),
    ("其他材料", "委托他人代为申请的，提交委托人签名或者盖章的授权委托书"),
)


# -- shared pieces ------------------------------------------------------------------------------------------


def _role(party: Party) -> str:
    return ROLE_LABELS[party.role]


def _ordered(case: Case) -> list[Party]:
    """Applicants, then respondents, then third parties, each in the order they were registered."""
    order = list(ROLE_LABELS)
    return sorted(case.parties, key=lambda p: (order.index(p.role), p.position, p.id))


def _names(parties: list[Party]) -> str:
    return "、".join(p.name for p in parties)


def _joined(names: list[str]) -> str:
    """张三与李四; 张三、李四与王五."""
    if len(names) <= 1:
        return "".join(names)
    return "、".join(names[:-1]) + "与" + names[-1]


def _dispute(case: Case) -> str:
    """The dispute's name as the file names it: 张三与李四邻里纠纷."""
    names = [p.name for p in _ordered(case) if p.role != PartyRole.third_party]
    return f"{'与'.join(names[:2])}{'等' if len(names) > 2 else ''}{case.category.name}纠纷"


def _mediator_names(case: Case) -> list[str]:
    """The case's mediators, the lead first."""
    ordered = sorted(case.mediators, key=lambda m: (not m.lead, m.mediator_id))
    return [m.mediator.name for m in ordered]


def _mediator_name(mediator_id: int | None) -> str:
    mediator = db.session.get(Mediator, mediator_id) if mediator_id else None
    return mediator.name if mediator is not None else ""


def _user_name(user_id: int | None) -> str:
    """The person behind an account, by name; empty when nobody is recorded (an import, the system)."""
    return person_for_user(user_id).name if user_id is not None else ""


def _count(n: int) -> str:
    """一, 三, 十二: the number of copies as an agreement writes it (figures from a hundred on)."""
    if n >= 100:
        return str(n)
    if n < 10:
        return DIGITS[n]
    tens, ones = divmod(n, 10)
    return f"{DIGITS[tens] if tens > 1 else ''}十{DIGITS[ones] if ones else ''}"


def _particulars(party: Party, ctx: Context, on: date | None, label: str | None = None) -> dict:
    """A party's particulars as a form grid: a person's name, 性别, 民族, age, 职业, phone, ID number and 住址; an
    organisation's name, 法定代表人, USCC, phone and 住所地. Unrecorded facts stay blank."""
    label = label or _role(party)
    if party.kind == PartyKind.organization:
        return fields(
            [(label, party.name), ("法定代表人", party.representative)],
            [("统一社会信用代码", id_number(party, ctx)), ("联系电话", phone(party, ctx))],
            [("住所地", party.address)],
        )
    return fields(
        [(label, party.name), ("性别", gender(party.gender))],
        [("民族", party.ethnicity), ("年龄", age_on(party, on) if on else "")],
        [("职业或职务", party.occupation), ("联系电话", phone(party, ctx))],
        [("公民身份号码", id_number(party, ctx))],
        [("住址", party.address)],
    )


def _party_signatures(parties: list[Party], label: str | None = None, *, fingerprint: bool = True) -> dict:
    """One signature row per party; with ``fingerprint`` a person also leaves a fingerprint (an organisation
    signs and stamps, it has none)."""
    block = signatures(*[(label or _role(p), p.name) for p in parties], fingerprint=fingerprint)
    for row, party in zip(block["rows"], parties, strict=True):
        row["print"] = fingerprint and party.kind == PartyKind.person
    return block


def _mediator_signatures(names: list[str], label: str = "人民调解员") -> dict:
    rows: list[tuple[str, str | None]] = [(label, name) for name in names] or [(label, None)]
    return signatures(*rows, fingerprint=False)


def _agreement_amount(case: Case) -> dict | None:
    """The sum agreed, when the agreement is about money (no amount: a settlement without a sum)."""
    if case.agreement_amount_yuan is None:
        return None
    return kv(("协议金额", yuan(case.agreement_amount_yuan)))


def _agreement_number(case: Case, ctx: Context) -> str:
    """The number of the case's agreement (the case's number in the 调 series), once it has been given; blank
    for a case that ended without one."""
    if case.outcome != Outcome.agreement:
        return ""
    if ctx.number:
        return ctx.number
    return (
        db.session.scalar(
            sa.select(DocumentNumber.text).where(
                DocumentNumber.owner_type == "case",
                DocumentNumber.owner_id == case.id,
                DocumentNumber.series == MEDIATION_SERIES,
            )
        )
        or ""
    )


def _court(case: Case) -> str:
    """The court named when the parties applied for 司法确认 (the latest application), else blank."""
    for event in reversed(case.events):
        if event.code == "confirmation_applied":
            return text((event.data or {}).get("court"))
    return ""


# -- the documents ------------------------------------------------------------------------------------------


def build_application(case: Case, ctx: Context) -> Doc:
    """人民调解申请书: who applies against whom, the dispute and what is asked, signed by the applicants."""
    org = case.organization
    parties = _ordered(case)
    doc = Doc("人民调解申请书")
    for party in parties:
        doc.add(_particulars(party, ctx, case.received_on))
    doc.add(
        heading("纠纷简要情况及申请事项"),
        para(case.summary),
        kv(("涉及金额", yuan(case.amount_yuan))),
        para(f"{org.name}已将申请人民调解的相关规定告知申请人，申请人自愿申请{org.name}进行调解。"),
        para("此致"),
        para(org.name, indent=False),
    )
    applicants = [p for p in parties if p.role == PartyRole.applicant]
    doc.add(_party_signatures(applicants, "申请人（签名盖章或者按指印）"))
    return doc


def build_registration(case: Case, ctx: Context) -> Doc:
    """人民调解受理登记表: the form the committee fills in when it takes (or declines) a dispute."""
    org = case.organization
    parties = _ordered(case)
    declined = case.declined_on is not None
    decided_on = case.declined_on if declined else case.accepted_on
    decision = "不予受理" if declined else ("受理" if case.accepted_on else "")
    rows: list[list[tuple[str, object]]] = [
        [("案件来源", case.source.name), ("登记日期", chinese_date(case.received_on))],
        [("纠纷类型", case.category.name)],
    ]
    rows += [[(_role(p), p.name), ("联系电话", phone(p, ctx))] for p in parties]
    rows += [[("纠纷简要情况", case.summary)], [("受理情况", decision), ("日期", chinese_date(decided_on))]]
    if declined:
        rows.append([("不予受理理由", case.decline_reason)])
    rows.append([("人民调解员", "、".join(_mediator_names(case)))])
    doc = Doc("人民调解受理登记表")
    if case.accepted_on and not declined:
        doc.add(
            para(f"{chinese_date(case.accepted_on)}，本人民调解委员会经当事人同意，调解{_names(parties)}之间的纠纷。")
        )
    doc.add(fields(*rows))
    signed = _party_signatures(parties, "当事人（签名）", fingerprint=False)
    # the official form has the registrar sign under the parties: the name is the account that registered it
    signed["rows"] += signatures(("登记人（签名）", _user_name(case.registered_by_id) or None), fingerprint=False)[
        "rows"
    ]
    doc.add(signed, seal(org.name, decided_on or case.received_on, "（印章）"))
    return doc


def build_rights_notice(case: Case, ctx: Context) -> Doc:
    """当事人权利义务告知书: the nature, principles and effect of people's mediation and the parties' rights
    (人民调解法 art. 23) and duties (art. 24), signed by each party as told."""
    parties = _ordered(case)
    doc = Doc("当事人权利义务告知书")
    doc.add(
        para(f"{_names(parties)}：", indent=False),
        para(NOTICE_INTRO),
        heading("一、人民调解委员会的性质"),
        para(NOTICE_NATURE),
        heading("二、人民调解的原则（第三条）"),
        para(NOTICE_PRINCIPLES),
        heading("三、当事人在人民调解活动中享有下列权利（第二十三条）"),
        para(NOTICE_RIGHTS),
        heading("四、当事人在人民调解活动中履行下列义务（第二十四条）"),
        para(NOTICE_DUTIES),
        heading("五、人民调解协议的效力"),
        para(NOTICE_EFFECT),
        para(NOTICE_ACKNOWLEDGED),
    )
    doc.add(_party_signatures(parties, "当事人（签名）"))
    doc.add(seal(case.organization.name, case.accepted_on))
    return doc


def build_session_record(case: Case, ctx: Context) -> Doc:
    """人民调解记录 of one session (``ctx.item``): when, where, who, and what was said, signed by the parties,
    the mediator and the recorder."""
    session = ctx.item
    assert isinstance(session, MediationSession), "a session record is of one session"
    parties = _ordered(case)
    position = next((i for i, s in enumerate(case.sessions, start=1) if s.id == session.id), None)
    mediator = _mediator_name(session.mediator_id) or next(iter(_mediator_names(case)), "")
    doc = Doc("人民调解记录", subtitle=f"（第{_count(position)}次调解）" if position else None)
    doc.add(
        fields(
            [("时间", chinese_date(session.held_on)), ("地点", session.place)],
            [("事由", _dispute(case))],
            [("当事人", _names(parties))],
            [("人民调解员", mediator), ("记录人", session.recorder)],
            [("参加人员", session.attendees)],
        ),
        heading("记录内容"),
        para(session.summary),
        para(RECORD_READ_BACK),
    )
    doc.add(_party_signatures(parties, "当事人（签名）"))
    doc.add(
        signatures(
            ("人民调解员（签名）", mediator or None), ("记录人（签名）", session.recorder or None), fingerprint=False
        )
    )
    return doc


def build_agreement(case: Case, ctx: Context) -> Doc:
    """人民调解协议书 with the contents of 人民调解法 art. 29: the parties, the facts and what was in dispute, what
    was agreed and how and when it is performed; signed by every party and the mediators, sealed."""
    parties = _ordered(case)
    doc = Doc("人民调解协议书")
    for party in parties:
        doc.add(_particulars(party, ctx, case.concluded_on))
    doc.add(
        heading("纠纷的主要事实、争议事项"),
        para(case.summary),
        heading("经调解，各方当事人自愿达成如下协议（各方当事人的责任、协议内容及履行的方式、期限）"),
        para(case.agreement_terms),
        _agreement_amount(case),
        para(f"本协议一式{_count(len(parties) + 1)}份，当事人各执一份，人民调解委员会留存一份。"),
        para(AGREEMENT_EFFECT),
    )
    doc.add(_party_signatures(parties, None))
    doc.add(_mediator_signatures(_mediator_names(case)), seal(case.organization.name, case.concluded_on))
    return doc


def build_oral_agreement(case: Case, ctx: Context) -> Doc:
    """人民调解口头协议登记表: the mediator's record of an agreement made by word of mouth (人民调解法 art. 28)."""
    parties = _ordered(case)
    mediators = _mediator_names(case)
    rows: list[list[tuple[str, object]]] = [[(_role(p), p.name), ("联系电话", phone(p, ctx))] for p in parties]
    rows += [
        [("达成协议日期", chinese_date(case.concluded_on))],
        [("纠纷事实", case.summary)],
        [("协议内容\n（含履行方式、期限）", case.agreement_terms)],
    ]
    if case.agreement_amount_yuan is not None:
        rows.append([("协议金额", yuan(case.agreement_amount_yuan))])
    rows.append([("登记人", mediators[0] if mediators else ""), ("登记日期", chinese_date(case.concluded_on))])
    doc = Doc("人民调解口头协议登记表")
    doc.add(fields(*rows), para(ORAL_EFFECT))
    doc.add(_party_signatures(parties, "当事人（签名）"))
    doc.add(_mediator_signatures(mediators[:1], "登记人（签名）"), seal(case.organization.name, case.concluded_on))
    return doc


def build_follow_up(case: Case, ctx: Context) -> Doc:
    """人民调解回访记录 of one follow-up (``ctx.item``): who was visited how and when, whether the agreement is
    being performed, and what was found."""
    follow_up = ctx.item
    assert isinstance(follow_up, FollowUp), "a follow-up record is of one follow-up"
    visitor = (follow_up.visitor or "").strip() or _user_name(follow_up.recorded_by_id)
    doc = Doc("人民调解回访记录")
    doc.add(
        fields(
            [("被回访人", _names(_ordered(case))), ("调解协议编号", _agreement_number(case, ctx))],
            [("回访事由", _dispute(case))],
            [
                ("回访时间", chinese_date(follow_up.visited_on)),
                ("回访方式", FOLLOW_UP_METHODS.get(follow_up.method or "", "")),
            ],
            [("回访人", visitor)],
            [("协议履行情况", PERFORMED.get(follow_up.performed, ""))],
            [("回访情况", follow_up.summary)],
        )
    )
    doc.add(signatures(("回访人（签名）", visitor or None), fingerprint=False))
    return doc


def build_confirmation_application(case: Case, ctx: Context) -> Doc:
    """司法确认申请书: the parties' joint application to the court to confirm the agreement (人民调解法 art. 33,
    法释〔2011〕5号, 民事诉讼法 arts. 205–206), with their declarations and the list of what they hand in."""
    org = case.organization
    parties = _ordered(case)
    applicants = _joined([f"申请人{p.name}" for p in parties])
    cited = f"（人民调解协议书编号：{ctx.number}）" if ctx.number else ""
    doc = Doc("司法确认申请书")
    for party in parties:
        doc.add(_particulars(party, ctx, case.concluded_on, "申请人"))
    doc.add(
        heading("请求事项"),
        para(f"请求确认{applicants}于{chinese_date(case.concluded_on)}经{org.name}主持调解达成的人民调解协议有效。"),
        heading("事实和理由"),
        para(
            f"申请人{_names(parties)}因{case.category.name}纠纷，于{chinese_date(case.concluded_on)}经"
            f"{org.name}主持调解，自愿达成人民调解协议{cited}，协议内容如下："
        ),
        para(case.agreement_terms),
        _agreement_amount(case),
        para(
            f"为此，申请人依照{LAW}第三十三条、《中华人民共和国民事诉讼法》第二百零五条、第二百零六条及"
            f"{CONFIRMATION_RULES}的规定，自调解协议生效之日起三十日内共同向人民法院申请确认上述调解协议有效。"
        ),
        heading("申请人承诺"),
        para(CONFIRMATION_DECLARATIONS),
        para("此致"),
        kv(("受理人民法院", _court(case))),
    )
    doc.add(_party_signatures(parties, "申请人（签名或者盖章）"))
    doc.add(
        pagebreak(),
        heading("附：提交材料清单"),
        table(
            ["序号", "材料名称", "份数", "备注"],
            [
                [str(i), name, "", _package_note(name, note, org.name, ctx)]
                for i, (name, note) in enumerate(CONFIRMATION_PACKAGE, start=1)
            ],
            widths=[0.6, 2.6, 0.7, 4],
        ),
    )
    return doc


def _package_note(name: str, note: str, organization: str, ctx: Context) -> str:
    if name == "人民调解协议书":
        return f"编号：{ctx.number}" if ctx.number else ""
    if name == "调解组织主持调解的证明":
        return f"由{organization}出具"
    return note


__all__ = [
    "build_agreement",
    "build_application",
    "build_confirmation_application",
    "build_follow_up",
    "build_oral_agreement",
    "build_registration",
    "build_rights_notice",
    "build_session_record",
]
