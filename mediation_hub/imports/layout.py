"""The column layout of an import file (Chinese headers), and how a cell's text becomes the API's value.

One row is one case with one applicant and one respondent. The header is the first row; columns may come in
any order; a column not listed here is ignored (and reported). Parsing only turns spreadsheet conventions
(``2024/3/5``, ``是``, ``婚姻家庭``, ``办结``) into the API's values; every rule about the values themselves is
the cases service's (``check_case_data``), as for a registration through the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from ..cases.models import CaseStatus, Outcome, PartyKind
from ..core.i18n import N_
from ..core.messages import coded


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    description: str  # N_(): shown through the catalogue
    aliases: tuple[str, ...] = ()


def _party_columns(prefix: str, label: str) -> list[Column]:
    return [
        Column(
            f"{prefix}_name",
            f"{label}姓名",
            True,
            N_("申请人姓名或单位名称") if prefix == "applicant" else N_("被申请人姓名或单位名称"),
        ),
        Column(f"{prefix}_kind", f"{label}类型", False, N_("个人 / 单位（空白为个人）"), (f"{label}类别",)),
        Column(
            f"{prefix}_id_number",
            f"{label}证件号码",
            False,
            N_("个人：18 位居民身份证号码；单位：统一社会信用代码（申请人必填）")
            if prefix == "applicant"
            else N_("个人：18 位居民身份证号码；单位：统一社会信用代码"),
            (f"{label}身份证号码", f"{label}证件号"),
        ),
        Column(f"{prefix}_phone", f"{label}电话", False, N_("手机或固定电话"), (f"{label}联系电话",)),
        Column(
            f"{prefix}_region_code",
            f"{label}地区代码",
            False,
            N_("住所地的 6 位行政区划代码或 9/12 位乡镇、村代码"),
            (f"{label}行政区划代码",),
        ),
    ]


COLUMNS: list[Column] = [
    Column(
        "source_number",
        "原系统案号",
        True,
        N_("原系统中的案件编号；同一组织、同一来源系统内唯一（重复导入时据此跳过）"),
    ),
    Column("received_on", "登记日期", True, N_("收到纠纷、登记的日期"), ("收案日期", "受理登记日期")),
    Column("category", "纠纷类型", True, N_("纠纷类别名称（如 婚姻家庭、邻里）或代码"), ("纠纷类别",)),
    Column("source", "案件来源", True, N_("来源名称（如 当事人申请、法院委派/委托）或代码")),
    Column("summary", "纠纷简要情况", True, N_("纠纷的简要情况（最多 5000 字）"), ("简要案情",)),
    Column(
        "occurred_region_code",
        "发生地行政区划代码",
        True,
        N_("纠纷发生地的 6 位行政区划代码或 9/12 位乡镇、村代码"),
        ("发生地代码",),
    ),
    Column("amount_yuan", "涉及金额(元)", False, N_("涉及金额，元，最多两位小数"), ("涉及金额",)),
    Column("major", "重大纠纷", False, N_("是 / 否（空白为否）")),
    Column("status", "状态", False, N_("登记 / 受理 / 调解中 / 办结 / 不予受理（空白为登记）"), ("案件状态",)),
    Column("accepted_on", "受理日期", False, N_("受理日期（状态为受理、调解中、办结时；空白取登记日期）")),
    Column("concluded_on", "办结日期", False, N_("办结日期（状态为办结时必填）"), ("结案日期",)),
    Column("outcome", "调解结果", False, N_("达成协议 / 未达成协议 / 撤回 / 转诉讼仲裁（状态为办结时必填）")),
    Column("agreement_amount_yuan", "协议金额(元)", False, N_("调解协议涉及金额（仅达成协议时）"), ("协议金额",)),
    Column("terms", "协议内容", False, N_("调解协议主要内容（达成协议时必填）")),
    Column("declined_on", "不予受理日期", False, N_("不予受理的日期（空白取登记日期）")),
    Column("decline_reason", "不予受理理由", False, N_("不予受理的理由（状态为不予受理时必填）")),
    *_party_columns("applicant", "申请人"),
    *_party_columns("respondent", "被申请人"),
]
BY_KEY = {c.key: c for c in COLUMNS}

# Where each field of the API (and of the history) comes from, to name the column at fault.
FIELD_COLUMNS = {
    "category": "category",
    "source": "source",
    "summary": "summary",
    "received_on": "received_on",
    "occurred_region_code": "occurred_region_code",
    "amount_yuan": "amount_yuan",
    "major": "major",
    "status": "status",
    "accepted_on": "accepted_on",
    "concluded_on": "concluded_on",
    "outcome": "outcome",
    "agreement_amount_yuan": "agreement_amount_yuan",
    "terms": "terms",
    "declined_on": "declined_on",
    "reason": "decline_reason",
    "decline_reason": "decline_reason",
    "source_number": "source_number",
}
for _index, _side in enumerate(("applicant", "respondent")):
    FIELD_COLUMNS.update(
        {
            f"parties.{_index}.name": f"{_side}_name",
            f"parties.{_index}.kind": f"{_side}_kind",
            f"parties.{_index}.role": f"{_side}_kind",
            f"parties.{_index}.id_number": f"{_side}_id_number",
            f"parties.{_index}.uscc": f"{_side}_id_number",
            f"parties.{_index}.phone": f"{_side}_phone",
            f"parties.{_index}.region_code": f"{_side}_region_code",
        }
    )


def column_label(field: str) -> str:
    """The header to show for an error on ``field`` (an API field name or a column key)."""
    key = FIELD_COLUMNS.get(field, field)
    if key in BY_KEY:
        return BY_KEY[key].header
    return {"parties": "当事人", "file": "文件", "organization_id": "承办组织"}.get(field, field)


def _normalise_header(text) -> str:
    text = "" if text is None else str(text)
    text = text.replace("\ufeff", "").replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", text)


_HEADER_INDEX = {_normalise_header(name): c.key for c in COLUMNS for name in (c.header, *c.aliases)}


@dataclass(frozen=True)
class HeaderMap:
    """Which position holds which column; the columns that are missing or unknown."""

    positions: dict[str, int]
    missing: list[str]
    ignored: list[str]
    duplicated: list[str]


def map_header(header: list) -> HeaderMap:
    positions: dict[str, int] = {}
    ignored, duplicated = [], []
    for index, text in enumerate(header):
        name = _normalise_header(text)
        if not name:
            continue
        key = _HEADER_INDEX.get(name)
        if key is None:
            ignored.append(str(text).strip())
        elif key in positions:
            duplicated.append(BY_KEY[key].header)
        else:
            positions[key] = index
    missing = [c.header for c in COLUMNS if c.required and c.key not in positions]
    return HeaderMap(positions, missing, ignored, duplicated)


# --- cells ------------------------------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as text: numbers without a spurious ``.0`` (codes and phones typed as numbers), dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value) -> date | None:
    """A date from a date cell or text such as 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305
    (a time after the date is ignored); None for a blank cell; ValueError with a message otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if not text:
        return None
    text = re.split(r"[ T]", text, maxsplit=1)[0]
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not match:
        raise ValueError(coded("invalid_date", "日期格式错误：%(value)s（应为 2024-03-05 或 2024/3/5）", value=text))
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise ValueError(coded("no_such_date", "日期不存在：%(value)s", value=text)) from exc


_YES = {"是", "y", "yes", "true", "1", "重大"}
_NO = {"否", "n", "no", "false", "0", "一般", ""}


def parse_yes_no(value) -> bool:
    text = cell_text(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(coded("yes_or_no", "应填写 是 或 否，而不是「%(value)s」", value=cell_text(value)))


def label_key(text: str) -> str:
    return re.sub(r"[\s/、]", "", text)


STATUS_LABELS = {
    "登记": CaseStatus.registered,
    "已登记": CaseStatus.registered,
    "受理": CaseStatus.accepted,
    "已受理": CaseStatus.accepted,
    "调解中": CaseStatus.in_mediation,
    "办结": CaseStatus.concluded,
    "已办结": CaseStatus.concluded,
    "结案": CaseStatus.concluded,
    "不予受理": CaseStatus.declined,
    **{s.value: s for s in CaseStatus},
}
OUTCOME_LABELS = {
    "达成协议": Outcome.agreement,
    "调解成功": Outcome.agreement,
    "未达成协议": Outcome.no_agreement,
    "调解不成功": Outcome.no_agreement,
    "撤回": Outcome.withdrawn,
    "撤回申请": Outcome.withdrawn,
    "转诉讼仲裁": Outcome.referred,
    "转诉讼": Outcome.referred,
    "转仲裁": Outcome.referred,
    **{o.value: o for o in Outcome},
}
PARTY_KIND_LABELS = {
    "个人": PartyKind.person,
    "自然人": PartyKind.person,
    "单位": PartyKind.organization,
    "法人": PartyKind.organization,
    "组织": PartyKind.organization,
    "非法人组织": PartyKind.organization,
    "法人或其他组织": PartyKind.organization,
    **{k.value: k for k in PartyKind},
}


def parse_status(value) -> CaseStatus:
    text = cell_text(value)
    if not text:
        return CaseStatus.registered
    try:
        return STATUS_LABELS[label_key(text)]
    except KeyError:
        raise ValueError(
            coded("unknown_status", "未知的状态「%(value)s」，应为 登记/受理/调解中/办结/不予受理", value=text)
        ) from None


def parse_outcome(value) -> str | None:
    """The outcome's code; an unknown label passes through for the service to reject with its own message."""
    text = cell_text(value)
    if not text:
        return None
    found = OUTCOME_LABELS.get(label_key(text))
    return found.value if found else text


def parse_party_kind(value) -> PartyKind:
    text = cell_text(value)
    if not text:
        return PartyKind.person
    try:
        return PARTY_KIND_LABELS[label_key(text)]
    except KeyError:
        raise ValueError(
            coded("unknown_party_kind", "未知的当事人类型「%(value)s」，应为 个人 或 单位", value=text)
        ) from None


def parse_amount(value) -> str | None:
    """Amount text for the API's decimal field: thousands separators and 元/¥ dropped."""
    text = cell_text(value)
    text = re.sub(r"[,，\s元¥￥]", "", text)
    return text or None
