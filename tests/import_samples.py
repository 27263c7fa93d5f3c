"""Import files for the import tests: the layout's header, rows as dicts, and csv/xlsx writers.

``sample_rows()`` gives the mixed file the issue asks for: good rows in every historical state, a wrong
check digit, an impossible date, an unknown region and a repeated source number, each at a known sheet row."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from tests.factories import valid_id_number

HEADER = [
    "原系统案号",
    "登记日期",
    "纠纷类型",
    "案件来源",
    "纠纷简要情况",
    "发生地行政区划代码",
    "涉及金额(元)",
    "重大纠纷",
    "状态",
    "受理日期",
    "办结日期",
    "调解结果",
    "协议金额(元)",
    "协议内容",
    "不予受理日期",
    "不予受理理由",
    "申请人姓名",
    "申请人类型",
    "申请人证件号码",
    "申请人电话",
    "申请人地区代码",
    "被申请人姓名",
    "被申请人类型",
    "被申请人证件号码",
    "被申请人电话",
    "被申请人地区代码",
]


def wrong_check_digit(number: str) -> str:
    digit = "0" if number[-1] != "0" else "1"
    return number[:-1] + digit


def row(source_number: str, **fields) -> dict:
    """A registered-only neighbour dispute in 朝阳区 between two people (fields override, by header)."""
    base = {
        "原系统案号": source_number,
        "登记日期": "2025-03-03",
        "纠纷类型": "邻里",
        "案件来源": "当事人申请",
        "纠纷简要情况": "楼上漏水致楼下墙面受损",
        "发生地行政区划代码": "110105",
        "涉及金额(元)": "",
        "重大纠纷": "否",
        "状态": "登记",
        "申请人姓名": f"张{source_number}",
        "申请人类型": "个人",
        "申请人证件号码": valid_id_number(),
        "申请人电话": "13900001111",
        "申请人地区代码": "110105",
        "被申请人姓名": f"李{source_number}",
        "被申请人类型": "个人",
        "被申请人证件号码": "",
        "被申请人电话": "",
        "被申请人地区代码": "110105",
    }
    base.update(fields)
    return base


def sample_rows(prefix: str = "J") -> list[dict]:
    """Sheet rows 2..10 (the header is row 1)."""
    return [
        # row 2: concluded with an agreement of 1,200 yuan (accepted 2025-03-04, a Tuesday: due 30 days later)
        row(
            f"{prefix}001",
            状态="办结",
            受理日期="2025/3/4",
            办结日期="2025年3月20日",
            调解结果="达成协议",
            **{"协议金额(元)": "1,200", "涉及金额(元)": "1500元"},
            协议内容="被申请人赔偿维修费",
        ),
        # row 3: declined at registration
        row(f"{prefix}002", 状态="不予受理", 不予受理理由="已起诉至法院"),
        # row 4: the applicant's ID number has a wrong check digit
        row(f"{prefix}003", 申请人证件号码=wrong_check_digit(valid_id_number())),
        # row 5: 30 February does not exist
        row(f"{prefix}004", 登记日期="2025-02-30"),
        # row 6: no region has the code 119999
        row(f"{prefix}005", 发生地行政区划代码="119999"),
        # row 7: the same source number as row 2
        row(f"{prefix}001", 纠纷简要情况="重复的记录"),
        # row 8: registered only, the respondent a company with a USCC
        row(f"{prefix}006", 被申请人类型="单位", 被申请人姓名="某物业公司", 被申请人证件号码="91110105MA01A2B3C4"),
        # row 9: concluded without agreement after mediation
        row(f"{prefix}007", 状态="办结", 受理日期="2025-03-05", 办结日期="2025-03-31", 调解结果="未达成协议"),
        # row 10: still in mediation
        row(f"{prefix}008", 状态="调解中", 受理日期="2025-03-06"),
    ]


def write_csv(path: Path, rows: list[dict], *, header: list[str] | None = None, encoding: str = "utf-8-sig") -> Path:
    header = header or HEADER
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for data in rows:
            writer.writerow([data.get(name, "") for name in header])
    return path


def excel_value(text: str):
    """What a person's spreadsheet holds: real dates for valid ISO dates, numbers for short digit strings
    (phones, region codes typed as numbers), text otherwise (ID numbers, which Excel would round)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if text.isdigit() and len(text) <= 11:
        return int(text)
    return text


def write_xlsx(path: Path, rows: list[dict], *, header: list[str] | None = None) -> Path:
    from openpyxl import Workbook

    header = header or HEADER
    book = Workbook(write_only=True)
    sheet = book.create_sheet("案件")
    sheet.append(header)
    for data in rows:
        sheet.append([excel_value(data.get(name, "")) for name in header])
    book.save(path)
    return path
