"""The filtered case list as xlsx or csv: masked ID numbers only, every text cell safe from formula injection
(through ``core.export``), streamed rather than built in memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..core.export import csv_response, xlsx_response
from ..extensions import db
from .forms import PARTY_ROLE_LABELS
from .models import Case
from .rules import OUTCOME_LABELS, STATUS_LABELS, is_overdue

# 期限暂定: 是 when the 办理期限 was counted over a year whose State Council holiday notice is not out yet
# (it may still move later once the notice is loaded); a column of its own so 办理期限 stays a date cell that
# sorts and filters as one, placed after 是否超期 so the columns before it keep their places.
HEADER = [
    "案件编号", "状态", "办结结果", "纠纷类别", "案件来源", "承办组织", "登记日期", "受理日期", "办理期限",
    "办结日期", "是否超期", "期限暂定", "跨区域", "重大纠纷", "涉及金额(元)", "协议金额(元)", "当事人",
    "纠纷简要情况",
]
FORMATS = ("xlsx", "csv")


def _party_cell(case: Case) -> str:
    """Each party with role, name and the masked numbers only (never the full values)."""
    parts = []
    for party in case.parties:
        numbers = ", ".join(n for n in (party.id_number_masked, party.phone_masked) if n)
        label = PARTY_ROLE_LABELS.get(party.role, str(party.role))
        parts.append(f"{label} {party.name}" + (f" ({numbers})" if numbers else ""))
    return "; ".join(parts)


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def case_rows(stmt: sa.Select, today: date) -> Iterator[list]:
    """One row per case of ``stmt``, loaded in batches with their parties and names."""
    stmt = stmt.options(selectinload(Case.parties), selectinload(Case.organization), selectinload(Case.category),
                        selectinload(Case.source)).execution_options(yield_per=200)
    for case in db.session.scalars(stmt):
        yield [
            case.number, STATUS_LABELS.get(case.status, str(case.status)),
            OUTCOME_LABELS.get(case.outcome, "") if case.outcome else "",
            case.category.name, case.source.name, case.organization.name, case.received_on, case.accepted_on,
            case.due_on, case.concluded_on, _yes_no(is_overdue(case, today)),
            _yes_no(case.due_on_provisional) if case.due_on else "", _yes_no(case.cross_region), _yes_no(case.major),
            case.amount_yuan, case.agreement_amount_yuan, _party_cell(case), case.summary,
        ]


def export_cases(stmt: sa.Select, fmt: str, today: date):
    """A download response of the cases ``stmt`` selects, named with the day of export."""
    filename = f"cases-{today.isoformat()}.{fmt}"
    rows = case_rows(stmt, today)
    if fmt == "xlsx":
        return xlsx_response(filename, HEADER, rows, sheet_title="案件")
    return csv_response(filename, HEADER, rows)
