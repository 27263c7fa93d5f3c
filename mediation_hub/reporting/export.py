"""The rates report as spreadsheet rows (xlsx or csv through ``core.export``), the same figures as the JSON."""

from __future__ import annotations

from flask import Response

from ..core.export import csv_response, xlsx_response

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
