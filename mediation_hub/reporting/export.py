"""The rates report and the dashboard as spreadsheets (xlsx or csv), the same figures as the JSON and the page.

Headers are Chinese and say exactly what a column counts: a figure's header is its title in ``definitions.py``
(the dashboard's tables read the same, through ``column_titles``), and its definition is on the xlsx's 说明 sheet,
beside the counting basis (统计口径 属地 or 承办) and the day counted to (统计截至); groups are shown by name
(婚姻家庭, 保定市, an organisation's name, 合计), never by internal code.
In the xlsx counts are numbers, rates are percentage cells holding the fraction (number format ``0.0%``) and a
rate without a denominator is an empty cell; the csv has the same headers, the fraction and an empty field, and
on every row the basis and the day counted to. The flows that reconcile the figures (流转核对) have a sheet of their
own, with the identity written out with the numbers."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import Response
from flask_babel import gettext

from ..core.export import CSV_MIMETYPE, XLSX_MIMETYPE, file_response, safe_cell, write_csv
from ..core.i18n import N_
from .definitions import (
    DEFINITIONS,
    FLOW_FIGURES,
    SECTION_FIGURES,
    basis_name,
    basis_note,
    basis_title,
    definitions,
    figure_title,
    flow_identity,
    flow_note,
    null_rate_note,
)

PERCENT = "0.0%"
DECIMAL = "0.0"
ISO_DATE = "yyyy-mm-dd"

RATE_COLUMNS = (
    "received",
    "accepted",
    "declined",
    "concluded",
    "agreement",
    "no_agreement",
    "withdrawn",
    "referred",
    "concluded_on_time",
    "concluded_on_time_original",
    "concluded_extended",
    "completed",
    "success_rate",
    "completion_rate",
    "on_time_rate",
    "on_time_original_rate",
)
RATE_KEYS = {"success_rate", "completion_rate", "on_time_rate", "on_time_original_rate"}
# one place for a figure's header: its definition's title, on the page, in the xlsx and in the csv
TITLES = {name: DEFINITIONS[name].label for name in RATE_COLUMNS}
# A month row counts what happened in that month, except the completion cohort: the completion rate and its
# numerator are of the cases registered in that month, concluded or declined by the as-of date (queries.py).
MONTH_TITLES = {
    "received": N_("本月登记数"),
    "accepted": N_("本月受理数"),
    "declined": N_("本月不予受理数"),
    "concluded": N_("本月办结数"),
    "agreement": N_("本月达成协议数"),
    "no_agreement": N_("本月未达成协议数"),
    "withdrawn": N_("本月撤回数"),
    "referred": N_("本月转其他途径数"),
    "concluded_on_time": N_("本月按期办结数"),
    "concluded_on_time_original": N_("本月按原期限办结数"),
    "concluded_extended": N_("本月延期办结数"),
    "completed": N_("本月登记的案件中已办结或不予受理数"),
    "success_rate": N_("调解成功率（本月办结的案件）"),
    "completion_rate": N_("调处办结率（按登记月份）"),
    "on_time_rate": N_("按期办结率（本月办结的案件）"),
    "on_time_original_rate": N_("按原期限办结率（本月办结的案件）"),
}
GROUP_TITLES = {
    "month": N_("月份"),
    "category": N_("纠纷类别"),
    "region": N_("地区"),
    "organization": N_("组织"),
    "studio": N_("工作室"),
    None: N_("范围"),
}
TOTAL_LABEL = N_("合计")
BASIS_COLUMN, COUNTED_TO_COLUMN = N_("统计口径"), N_("统计截至")


@dataclass(frozen=True)
class Column:
    """A spreadsheet column: the key of the value in a row dict, its header and how its cells are written
    (``text``, ``count``, ``rate``, ``decimal`` or ``date``)."""

    key: str
    title: str
    kind: str = "count"


def rate_columns(group_by: str | None) -> list[Column]:
    """The columns of a rates table: the group's name, then every count and rate (month rows labelled so)."""
    titles = MONTH_TITLES if group_by == "month" else TITLES
    return [Column("label", gettext(GROUP_TITLES[group_by]), "text")] + [
        Column(name, gettext(titles[name]), "rate" if name in RATE_KEYS else "count") for name in RATE_COLUMNS
    ]


def column_titles(group_by: str | None) -> dict[str, str]:
    """The translated header of each count and rate, as the page shows it (the same words as the xlsx)."""
    titles = MONTH_TITLES if group_by == "month" else TITLES
    return {name: gettext(text) for name, text in titles.items()}


def flow_titles() -> dict[str, str]:
    """The translated header of each figure of the flows block (流转核对), as the page shows it."""
    return {key: figure_title(name) for key, name in FLOW_FIGURES.items()}


def flow_columns() -> list[Column]:
    return [Column(key, header) for key, header in flow_titles().items()]


def report_rows(report: dict) -> list[dict]:
    """One row per group, then the totals (labelled 合计)."""
    return [*report["groups"], {**report["totals"], "label": gettext(TOTAL_LABEL)}]


def filename(report: dict, extension: str) -> str:
    scope = report["scope"]
    name = scope.get("studio_name") or scope.get("organization_name") or scope.get("region_name") or "全国"
    return f"调解统计_{name}_{report['from']:%Y%m%d}-{report['to']:%Y%m%d}.{extension}"


# --- writing -----------------------------------------------------------------------------------------------

FORMATS = {"rate": PERCENT, "decimal": DECIMAL, "date": ISO_DATE}


def _cell(sheet, value, kind: str):
    from openpyxl.cell import WriteOnlyCell

    if value is None:  # an empty cell: never "—" or 0 in a column of numbers
        return WriteOnlyCell(sheet, value=None)
    # WriteOnlyCell takes any cell value (a date too, which its stub leaves out)
    cell = WriteOnlyCell(sheet, value=safe_cell(value) if kind == "text" else value)  # type: ignore[arg-type]
    if kind in FORMATS:
        cell.number_format = FORMATS[kind]
    return cell


def _sheet(workbook, title: str, columns: list[Column], rows: list[dict]):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title=title[:31])
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 22 if column.kind == "text" else 14
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=safe_cell(column.title))  # type: ignore[arg-type]  # as above
        cell.font, cell.alignment = Font(bold=True), Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(sheet, row.get(column.key), column.kind) for column in columns])
    return sheet


def _notes_sheet(workbook, report: dict) -> None:
    """说明: the scope, period, as-of date and the day counted to, the counting basis, and every figure's
    definition."""
    sheet = workbook.create_sheet(title=gettext("说明"))
    for letter, width in zip("ABCDE", (18, 28, 40, 40, 50), strict=True):
        sheet.column_dimensions[letter].width = width
    scope = report["scope"]
    sheet.append(
        [gettext("统计范围"), scope.get("studio_name") or scope.get("organization_name") or scope.get("region_name")]
    )
    sheet.append([gettext("统计期间"), f"{report['from']:%Y-%m-%d} — {report['to']:%Y-%m-%d}"])
    sheet.append([gettext("统计截止日"), f"{report['as_of']:%Y-%m-%d}"])
    sheet.append([gettext(COUNTED_TO_COLUMN), f"{report['counted_to']:%Y-%m-%d}"])
    sheet.append([gettext(BASIS_COLUMN), basis_name(report["basis"])])
    sheet.append([gettext("口径说明"), f"{basis_title(report['basis'])}。{basis_note(report['basis'])}"])
    sheet.append([])
    sheet.append([gettext("指标"), gettext("计算方法"), gettext("分子"), gettext("分母"), gettext("说明")])
    for item in definitions().values():
        sheet.append([item.label, item.formula, item.numerator, item.denominator, item.note])
    sheet.append([])
    sheet.append([null_rate_note()])


def _flows_sheet(workbook, flows: dict[str, int]) -> None:
    """流转核对: the flows that reconcile the figures, then the identity written out with them."""
    sheet = _sheet(workbook, gettext("流转核对"), flow_columns(), [flows])
    sheet.append([])
    sheet.append([flow_identity(flows)])
    sheet.append([flow_note()])


def _workbook_response(build, name: str) -> Response:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return file_response(buffer, name, XLSX_MIMETYPE)


def report_download(report: dict, fmt: str) -> Response:
    """The rates report as an xlsx (the figures, the flows that reconcile them and the 说明 sheet) or a csv
    download (the figures, each row saying its basis and the day counted to)."""
    columns = rate_columns(report["group_by"])
    rows = report_rows(report)
    if fmt == "csv":
        buffer = io.BytesIO()
        said = [basis_name(report["basis"]), report["counted_to"].isoformat()]
        write_csv(
            buffer,
            [c.title for c in columns] + [gettext(BASIS_COLUMN), gettext(COUNTED_TO_COLUMN)],
            [[row.get(c.key) for c in columns] + said for row in rows],
        )
        return file_response(buffer, filename(report, "csv"), CSV_MIMETYPE)

    def build(workbook):
        _sheet(workbook, gettext("调解统计"), columns, rows)
        _flows_sheet(workbook, report["case_flows"])
        _notes_sheet(workbook, report)

    return _workbook_response(build, filename(report, "xlsx"))


SECTIONS = (
    ("by_category", N_("按纠纷类别"), "category"),
    ("by_month", N_("月度趋势"), "month"),
    ("by_region", N_("下级地区"), "region"),
    ("by_studio", N_("调解工作室"), "studio"),
)
FLOW_COLUMNS = (
    ("from_region_name", N_("转出地区"), "text"),
    ("to_region_name", N_("转入地区"), "text"),
    ("total", DEFINITIONS["transfers_total"].label, "count"),
    ("accepted", DEFINITIONS["transfers_accepted"].label, "count"),
    ("declined", DEFINITIONS["transfers_declined"].label, "count"),
    ("expired", DEFINITIONS["transfers_expired"].label, "count"),
    ("pending", DEFINITIONS["transfers_pending"].label, "count"),
    ("withdrawn", N_("撤回数"), "count"),
    ("acceptance_rate", DEFINITIONS["acceptance_rate"].label, "rate"),
    ("median_working_days", N_("答复用时中位数（工作日）"), "decimal"),
)
LEGAL_AID_COLUMNS = tuple(
    (key, DEFINITIONS[name].label, "rate" if name.endswith("_rate") else "count")
    for key, name in SECTION_FIGURES["legal_aid"].items()
)
OVERDUE_COLUMNS = (
    ("number", N_("案件编号"), "text"),
    ("category", N_("纠纷类别"), "text"),
    ("organization_name", N_("承办组织"), "text"),
    ("due_on", N_("办理期限"), "date"),
    ("days_overdue", N_("超期天数"), "count"),
    ("provisional", N_("期限暂定"), "text"),
)


def _columns(spec) -> list[Column]:
    return [Column(key, gettext(title), kind) for key, title, kind in spec]


def section_titles() -> dict[str, dict[str, str]]:
    """The translated headers of the transfers, legal-aid and overdue tables, as the page shows them."""
    specs = {"transfers": FLOW_COLUMNS, "legal_aid": LEGAL_AID_COLUMNS, "overdue": OVERDUE_COLUMNS}
    return {name: {column.key: column.title for column in _columns(spec)} for name, spec in specs.items()}


def dashboard_download(data: dict) -> Response:
    """The dashboard's figures as one workbook: totals, the flows that reconcile them, each grouping (no studios on
    the occurred basis, as on the page), transfer flows, legal aid, overdue cases, and the 说明 sheet with the
    basis and the definitions."""

    def build(workbook):
        _sheet(workbook, gettext("合计"), rate_columns(None), [{**data["totals"], "label": gettext(TOTAL_LABEL)}])
        _flows_sheet(workbook, data["case_flows"])
        for key, section, group_by in SECTIONS:
            if group_by == "studio" and data["basis"] == "occurred":
                continue
            _sheet(workbook, gettext(section), rate_columns(group_by), data[key])
        _sheet(workbook, gettext("跨区域流转"), _columns(FLOW_COLUMNS), (data["flows"] or {}).get("pairs", []))
        if data.get("legal_aid"):
            _sheet(workbook, gettext("法律援助"), _columns(LEGAL_AID_COLUMNS), [data["legal_aid"]])
        # 期限暂定: the 办理期限 was counted over a year whose holiday notice is not out yet (a column of its own,
        # so 办理期限 stays a date cell; the same as the case list export)
        overdue = [
            {**c, "provisional": gettext("是") if c.get("due_on_provisional") else gettext("否")}
            for c in data["overdue"]["cases"]
        ]
        _sheet(workbook, gettext("超期案件"), _columns(OVERDUE_COLUMNS), overdue)
        _notes_sheet(workbook, data)

    report = {"scope": data["scope"], "from": data["from"], "to": data["to"]}
    return _workbook_response(build, filename(report, "xlsx"))
