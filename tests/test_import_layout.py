"""The documented column layout (docs/IMPORT.md and the README) is the one the import reads, and the
spreadsheet conventions parse as documented."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from mediation_hub.cases.models import CaseStatus, PartyKind
from mediation_hub.imports import layout

ROOT = Path(__file__).resolve().parent.parent


def documented_columns(path: Path) -> list[tuple[str, bool, str, str]]:
    text = path.read_text(encoding="utf-8")
    start = text.index("| 表头 (header) |")
    lines = text[start : text.index("\n\n", start)].splitlines()[2:]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return [(c[0], c[1] == "是", c[2], c[3]) for c in cells]


@pytest.mark.parametrize("document", ["docs/IMPORT.md", "README.md"])
def test_the_documented_layout_is_the_one_the_import_reads(document):
    expected = [(c.header, c.required, c.description, "、".join(c.aliases)) for c in layout.COLUMNS]
    assert documented_columns(ROOT / document) == expected


def test_header_matching_ignores_spaces_brackets_and_order():
    mapped = layout.map_header(["  登记日期", "涉及金额（元）", "原系统案号", "备注", "收案日期", None])
    assert mapped.positions == {"received_on": 0, "amount_yuan": 1, "source_number": 2}
    assert mapped.ignored == ["备注"] and mapped.duplicated == ["登记日期"]
    assert "纠纷类型" in mapped.missing and "原系统案号" not in mapped.missing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", date(2024, 3, 5)),
        ("2024/3/5", date(2024, 3, 5)),
        ("2024.3.5", date(2024, 3, 5)),
        ("2024年3月5日", date(2024, 3, 5)),
        ("20240305", date(2024, 3, 5)),
        ("2024-03-05 10:30:00", date(2024, 3, 5)),
        (datetime(2024, 3, 5, 0, 0), date(2024, 3, 5)),
        (date(2024, 3, 5), date(2024, 3, 5)),
        ("", None),
        (None, None),
    ],
)
def test_dates(value, expected):
    assert layout.parse_date(value) == expected


@pytest.mark.parametrize("value", ["2024-13-01", "5/3/2024", "昨天", "2024-02-30"])
def test_bad_dates(value):
    with pytest.raises(ValueError, match=r"^日期(格式错误|不存在)"):
        layout.parse_date(value)


def test_cells_and_labels():
    assert layout.cell_text(13900001111.0) == "13900001111" and layout.cell_text(110105) == "110105"
    assert layout.cell_text(" 张三 ") == "张三" and layout.cell_text(None) == ""
    assert layout.parse_status("已办结") == CaseStatus.concluded and layout.parse_status("") == CaseStatus.registered
    assert layout.parse_outcome("转诉讼/仲裁") == "referred" and layout.parse_outcome("和解") == "和解"
    assert layout.parse_party_kind("法人") == PartyKind.organization
    assert layout.parse_yes_no("Y") is True and layout.parse_yes_no("") is False
    assert layout.parse_amount("¥1,200.50元") == "1200.50" and layout.parse_amount("") is None
    assert layout.column_label("parties.1.uscc") == "被申请人证件号码"
    assert layout.column_label("reason") == "不予受理理由"
