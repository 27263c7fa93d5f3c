"""The filtered case list as xlsx or csv: masked ID numbers only, every text cell safe from formula injection
(through ``core.export``). The rows are read in chunks of ``CHUNK`` cases (their ids taken first, in the
list's order), so a background export can record its progress between chunks without holding a cursor open,
and memory stays flat however long the list is. Who may export, when the file is built in the request and
when in a background job: ``mediation_hub.exports``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..core.export import write_spreadsheet
from ..extensions import db
from .models import Case
from .rules import OUTCOME_LABELS, PARTY_ROLE_LABELS, STATUS_LABELS, is_overdue
from .service import masked_text, searched_number

# 期限暂定: 是 when the 办理期限 was counted over a year whose State Council holiday notice is not out yet
# (it may still move later once the notice is loaded); a column of its own so 办理期限 stays a date cell that
# sorts and filters as one, placed after 是否超期 so the columns before it keep their places.
HEADER = [
    "案件编号",
    "状态",
    "办结结果",
    "纠纷类别",
    "案件来源",
    "承办组织",
    "登记日期",
    "受理日期",
    "办理期限",
    "办结日期",
    "是否超期",
    "期限暂定",
    "跨区域",
    "重大纠纷",
    "涉及金额(元)",
    "协议金额(元)",
    "当事人",
    "纠纷简要情况",
]
FORMATS = ("xlsx", "csv")
SHEET_TITLE = "案件"
CHUNK = 500


def _party_cell(case: Case) -> str:
    """Each party with role, name and the masked numbers only (never the full values)."""
    parts = []
    for party in case.parties:
        numbers = ", ".join(n for n in (party.id_number_masked, party.phone_masked) if n)
        label = str(PARTY_ROLE_LABELS.get(party.role, party.role.value))
        parts.append(f"{label} {party.name}" + (f" ({numbers})" if numbers else ""))
    return "; ".join(parts)


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _row(case: Case, today: date) -> list:
    return [
        case.number,
        str(STATUS_LABELS.get(case.status, case.status.value)),
        str(OUTCOME_LABELS.get(case.outcome, "")) if case.outcome else "",
        case.category.name,
        case.source.name,
        case.organization.name,
        case.received_on,
        case.accepted_on,
        case.due_on,
        case.concluded_on,
        _yes_no(is_overdue(case, today)),
        _yes_no(case.due_on_provisional) if case.due_on else "",
        _yes_no(case.cross_region),
        _yes_no(case.major),
        case.amount_yuan,
        case.agreement_amount_yuan,
        _party_cell(case),
        case.summary,
    ]


def count_cases(stmt: sa.Select) -> int:
    """How many cases ``stmt`` selects: one COUNT in SQL."""
    ids = stmt.order_by(None).with_only_columns(Case.id).subquery()
    return db.session.execute(sa.select(sa.func.count()).select_from(ids)).scalar_one()


def case_rows(stmt: sa.Select, today: date) -> Iterator[list]:
    """One row per case of ``stmt``, in its order: the ids first, then ``CHUNK`` cases at a time with their
    parties and names. A chunk's rows are made before the first is handed out, so a commit by the consumer
    (a job recording its progress) never leaves a case half read."""
    ids = db.session.scalars(stmt.with_only_columns(Case.id)).all()
    loading = (
        selectinload(Case.parties),
        selectinload(Case.organization),
        selectinload(Case.category),
        selectinload(Case.source),
    )
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        cases = {
            case.id: case for case in db.session.scalars(sa.select(Case).where(Case.id.in_(chunk)).options(*loading))
        }
        rows = [_row(cases[case_id], today) for case_id in chunk if case_id in cases]
        yield from rows


def write_case_list(
    target: BinaryIO, stmt: sa.Select, fmt: str, today: date, *, rows: Iterator[list] | None = None
) -> int:
    """The cases of ``stmt`` as a complete xlsx or csv file in ``target``; returns how many rows it holds.
    ``rows`` replaces the rows read from ``stmt`` (a wrapper that counts them as they go)."""
    return write_spreadsheet(
        fmt, target, HEADER, case_rows(stmt, today) if rows is None else rows, sheet_title=SHEET_TITLE
    )


def export_filename(fmt: str, today: date) -> str:
    return f"cases-{today.isoformat()}.{fmt}"


def _masked(q: str) -> str:
    searched = searched_number(q)
    return searched.masked if searched else masked_text(q)


def audit_filters(filters: dict) -> dict:
    """The filters of an export as its audit row records them: the ones set, as text, with a personal number
    searched for (or written inside the search text) masked, never the number itself."""
    return {k: _masked(str(v)) if k == "q" else str(v) for k, v in filters.items() if v is not None}
