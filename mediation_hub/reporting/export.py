"""The rates report as spreadsheet rows (xlsx or csv through ``core.export``), the same figures as the JSON."""

from __future__ import annotations

import io

from flask import Response

from ..core.export import XLSX_MIMETYPE, _disposition, csv_response, safe_cell, xlsx_response

COLUMNS = [
    ("key", "分组代码"), ("label", "分组"), ("received", "登记受理数 received"), ("accepted", "受理 accepted"),
    ("declined", "不予受理 declined"), ("concluded", "办结 concluded"), ("agreement", "达成协议 agreement"),
    ("no_agreement", "未达成协议 no_agreement"), ("withdrawn", "撤回 withdrawn"), ("referred", "转其他途径 referred"),
    ("concluded_on_time", "按期办结 concluded_on_time"), ("completed", "已办结或不予受理 completed"),
    ("success_rate", "调解成功率 success_rate"), ("completion_rate", "调处办结率 completion_rate"),
    ("on_time_rate", "按期办结率 on_time_rate"),
]
RATE_KEYS = {"success_rate", "completion_rate", "on_time_rate"}
NULL_RATE = "—"


def report_rows(report: dict) -> list[list]:
    """One row per group, then the totals; a null rate is written as "—" (never 0)."""
    def row(block: dict, key, label) -> list:
        values = {**block, "key": key, "label": label}
        return [NULL_RATE if name in RATE_KEYS and values[name] is None else values[name] for name, _ in COLUMNS]

    rows = [row(group, group["key"], group["label"]) for group in report["groups"]]
    rows.append(row(report["totals"], "total", "合计"))
    return rows


def filename(report: dict, extension: str) -> str:
    scope = report["scope"]
    name = scope.get("studio_name") or scope.get("organization_name") or scope.get("region_name") or "全国"
    return f"调解统计_{name}_{report['from']:%Y%m%d}-{report['to']:%Y%m%d}.{extension}"


def report_download(report: dict, fmt: str) -> Response:
    """The report as an xlsx or csv download."""
    header = [title for _, title in COLUMNS]
    if fmt == "csv":
        return csv_response(filename(report, "csv"), header, report_rows(report))
    return xlsx_response(filename(report, "xlsx"), header, report_rows(report), sheet_title="rates")


SECTIONS = (("by_category", "按纠纷类别"), ("by_month", "月度趋势"), ("by_region", "下级地区"),
            ("by_studio", "调解工作室"))
FLOW_COLUMNS = [("from_region_name", "转出地区"), ("to_region_name", "转入地区"), ("total", "转办数 sent"),
                ("accepted", "接收 accepted"), ("declined", "退回 declined"), ("expired", "超期 expired"),
                ("pending", "待答复 pending"), ("withdrawn", "撤回 withdrawn"),
                ("acceptance_rate", "接收率 acceptance_rate"), ("median_working_days", "答复用时中位数(工作日)")]


def _sheet(workbook, title: str, header: list[str], rows: list[list]) -> None:
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([safe_cell(h) for h in header])
    for row in rows:
        sheet.append([safe_cell(v) for v in row])


def dashboard_download(data: dict) -> Response:
    """The dashboard's figures as one workbook: totals, each grouping, transfer flows, overdue cases."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    header = [title for _, title in COLUMNS]
    _sheet(workbook, "合计", header, report_rows({"groups": [], "totals": data["totals"]}))
    for key, title in SECTIONS:
        _sheet(workbook, title, header, report_rows({"groups": data[key], "totals": data["totals"]})[:-1])
    pairs = (data["flows"] or {}).get("pairs", [])
    _sheet(workbook, "跨区域流转", [t for _, t in FLOW_COLUMNS],
           [[NULL_RATE if p[k] is None else p[k] for k, _ in FLOW_COLUMNS] for p in pairs])
    overdue = data["overdue"]["cases"]
    # 期限暂定: the 办理期限 was counted over a year whose holiday notice is not out yet (a column of its own, so
    # 办理期限 stays a date cell; the same as the case list export)
    _sheet(workbook, "超期案件", ["案件编号", "类别", "承办组织", "办理期限", "超期天数", "期限暂定"],
           [[c["number"], c["category"], c["organization_name"], c["due_on"], c["days_overdue"],
             "是" if c.get("due_on_provisional") else "否"] for c in overdue])
    buffer = io.BytesIO()
    workbook.save(buffer)
    name = filename({"scope": data["scope"], "from": data["from"], "to": data["to"]}, "xlsx")
    return Response(buffer.getvalue(), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": _disposition(name), "Cache-Control": "no-store"})
