"""The DOCX rendition of a document (issue 14, "DOCX for editing"): the blocks Typst prints as the PDF, read back
with python-docx. Every block type of ``blocks`` is printed, values whole, a blank line where nothing is recorded,
the header row of a table repeated on each page, the page numbers and the digest in the footer, and the same
content gives the same bytes."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime

import docx as python_docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Cm

from mediation_hub.documents import blocks
from mediation_hub.documents.blocks import Doc
from mediation_hub.documents.docx_parts import TEXT_WIDTH, column_widths
from mediation_hub.documents.docx_writer import docx

DIGEST = "5f" * 32
NUMBER = "（2026）保竞调字第 12 号"
CASE_NUMBER = "（2026）冀0602民调字第 7 号"
LONG = "".join(f"第{i}句：双方确认上述事实无误并自愿达成本协议。" for i in range(120))  # about 2,900 characters
TABLE_HEAD = ["序号", "事项", "金额"]


def agreement() -> Doc:
    """A document with a title block and every block type that is not the 卷宗's."""
    doc = Doc(
        title="人民调解协议书",
        number=NUMBER,
        subtitle="（供编辑）",
        copy_note="本件与存档原件一致",
        footer=CASE_NUMBER,
        author="保定市竞秀区人民调解委员会",
    )
    return doc.add(
        blocks.heading("一、当事人基本情况"),
        blocks.kv(("申请人", "张三"), ("身份证号", "130602********1234"), ("住址", "")),
        blocks.fields([("姓名", "李四"), ("性别", "女")], [("职业", "")], columns=4),
        blocks.para("甲乙双方因相邻通行发生纠纷。\n经调解双方自愿达成如下协议。"),
        blocks.para(LONG),
        blocks.para("不缩进的一段", indent=False),
        blocks.table(
            TABLE_HEAD, [["1", "赔偿修缮费用", "12,000.00 元"], ["2", "赔礼道歉", ""]], widths=["2cm", 1, "auto"]
        ),
        blocks.items(["李四于2026年12月31日前一次性支付张三12,000.00元", "双方就本纠纷再无其他争议\n（续行）"]),
        blocks.items(["一式三份", "各执一份"], numbered=False),
        blocks.note("注：本协议自双方签字并加盖调解委员会印章之日起生效。"),
        blocks.space(1.5),
        blocks.signatures(("申请人", "张三"), ("被申请人", None)),
        blocks.signatures(("人民调解员", "王五"), fingerprint=False),
        blocks.seal("保定市竞秀区人民调解委员会", date(2026, 12, 7)),
        blocks.seal("保定市竞秀区司法局"),
        blocks.pagebreak(),
        blocks.para("附页：送达情况"),
    )


def mediation_file() -> Doc:
    """The 卷宗: a cover, the 目录 and a nested document."""
    doc = Doc(title="人民调解卷宗", cover=True, footer=CASE_NUMBER, author="保定市竞秀区人民调解委员会")
    return doc.add(
        {"t": "cover", "title": "人民调解卷宗", "rows": [["卷号", NUMBER], ["立卷人", "赵六"], ["保管期限", ""]]},
        blocks.pagebreak(),
        {"t": "toc", "entries": [{"title": "人民调解协议书", "number": NUMBER, "ref": "agreement"}]},
        {"t": "document", "ref": "agreement", "doc": agreement().content()},
    )


def read(data: bytes):
    return python_docx.Document(io.BytesIO(data))


def all_text(document) -> str:
    """Every paragraph's and every table cell's text, in order."""
    parts = []
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            parts.extend(cell.text for row in item.rows for cell in row.cells)
        else:
            parts.append(item.text)
    return "\n".join(parts)


def footer_xml(document) -> str:
    return document.sections[0].footer._element.xml


def documented_block_types() -> set[str]:
    section = blocks.__doc__.split("Block types")[1]
    return set(re.findall(r"``(\w+)``", section)) - {"t"}


def used_block_types(doc: Doc) -> set[str]:
    used = set()
    for block in doc.blocks:
        used.add(block["t"])
        if block["t"] == "document":
            used |= {inner["t"] for inner in block["doc"]["blocks"]}
    return used


@pytest.mark.parametrize("build", [agreement, mediation_file])
def test_same_content_gives_the_same_bytes(build):
    first, second = docx(build(), DIGEST), docx(build(), DIGEST)
    assert first == second
    assert docx(build(), "0" * 64) != first
    entries = zipfile.ZipFile(io.BytesIO(first)).infolist()
    assert {entry.date_time for entry in entries} == {(1980, 1, 1, 0, 0, 0)}


def test_the_test_documents_use_every_block_type():
    assert used_block_types(mediation_file()) == documented_block_types()


@pytest.mark.parametrize("build", [agreement, mediation_file])
def test_texts_are_printed_whole(build):
    text = all_text(read(docx(build(), DIGEST)))
    expected = [
        "人民调解协议书",
        f"编号：{NUMBER}",
        "（供编辑）",
        "本件与存档原件一致",
        "一、当事人基本情况",
        "申请人：张三",
        "130602********1234",
        "李四",
        "甲乙双方因相邻通行发生纠纷。",
        LONG,
        "12,000.00 元",
        "赔偿修缮费用",
        "1.\t李四于2026年12月31日前一次性支付张三12,000.00元",
        "2.\t双方就本纠纷再无其他争议\n（续行）",
        "•\t一式三份",
        "注：本协议自双方签字并加盖调解委员会印章之日起生效。",
        "被申请人：",
        "日期：",
        "捺印",
        "保定市竞秀区人民调解委员会",
        "（盖章）",
        "2026年12月7日",
        "附页：送达情况",
    ]
    for value in expected:
        assert value in text


def test_a_long_text_is_one_paragraph_kept_whole():
    document = read(docx(agreement(), DIGEST))
    assert LONG in [p.text for p in document.paragraphs]


def test_a_text_with_line_breaks_prints_each_line_as_a_paragraph_indented_two_characters():
    paragraphs = {p.text: p for p in read(docx(agreement(), DIGEST)).paragraphs}
    for line in ("甲乙双方因相邻通行发生纠纷。", "经调解双方自愿达成如下协议。"):
        indent = paragraphs[line]._p.pPr.ind
        assert indent.get(qn("w:firstLineChars")) == "200"
    assert paragraphs["不缩进的一段"]._p.pPr.ind is None


def test_title_block_is_large_bold_and_centred_with_the_number_on_the_right():
    paragraphs = {p.text: p for p in read(docx(agreement(), DIGEST)).paragraphs}
    title = paragraphs["人民调解协议书"]
    assert title.alignment == python_docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size.pt == 20 and title.runs[0].font.bold
    assert paragraphs[f"编号：{NUMBER}"].alignment == python_docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
    assert paragraphs["本件与存档原件一致"].runs[0].font.size.pt == 8.5


def test_empty_values_print_as_a_blank_underline():
    document = read(docx(agreement(), DIGEST))
    address = next(p for p in document.paragraphs if p.text.startswith("住址："))
    blank = address.runs[-1]
    assert blank.font.underline and blank.text == "\u3000" * 6
    occupation = next(t for t in document.tables if t.cell(0, 0).text == "姓名").cell(1, 1)
    assert occupation.paragraphs[0].runs[0].font.underline


def test_layout_options_keep_blanks_underlined_and_broken_lines_unstretched():
    settings = read(docx(agreement(), DIGEST)).settings.element.find(qn("w:compat"))
    assert settings.find(qn("w:ulTrailSpace")) is not None
    assert settings.find(qn("w:doNotExpandShiftReturn")) is not None


def test_a_row_of_fields_spans_its_last_value_and_shades_its_labels():
    table = next(t for t in read(docx(agreement(), DIGEST)).tables if t.cell(0, 0).text == "姓名")
    assert [c.text for c in table.rows[0].cells] == ["姓名", "李四", "性别", "女"]
    spanned = table.rows[1]._tr.tc_lst[1]
    assert spanned.tcPr.gridSpan.val == 3
    shading = table.cell(0, 0)._tc.tcPr.find(qn("w:shd"))
    assert shading.get(qn("w:fill")) == "F5F5F5"


@pytest.mark.parametrize(
    ("build", "head"),
    [
        (agreement, TABLE_HEAD),
        (mediation_file, ["序号", "文书名称", "编号", "页号"]),
    ],
)
def test_the_header_row_repeats_on_every_page(build, head):
    table = next(t for t in read(docx(build(), DIGEST)).tables if [c.text for c in t.rows[0].cells] == head)
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr is None or row._tr.trPr.find(qn("w:tblHeader")) is None for row in table.rows[1:])


def test_table_cells_print_row_by_row():
    table = next(t for t in read(docx(agreement(), DIGEST)).tables if t.cell(0, 0).text == "序号")
    assert [[c.text for c in row.cells] for row in table.rows] == [
        TABLE_HEAD,
        ["1", "赔偿修缮费用", "12,000.00 元"],
        ["2", "赔礼道歉", ""],
    ]


def test_signatures_keep_a_dashed_box_for_the_fingerprint_only_where_asked():
    tables = [t for t in read(docx(agreement(), DIGEST)).tables if "日期：" in t.cell(0, 0).text]
    assert [t.cell(0, 0).text.split("：")[0] for t in tables] == ["申请人", "被申请人", "人民调解员"]
    assert [t.cell(0, 1).text for t in tables] == ["捺印", "捺印", ""]
    for table in tables:
        assert table.rows[0]._tr.trPr.find(qn("w:cantSplit")) is not None


def test_footer_has_page_fields_and_the_digest():
    document = read(docx(agreement(), DIGEST))
    xml = footer_xml(document)
    assert " PAGE " in xml and " NUMPAGES " in xml
    footer_text = "\n".join(p.text for p in document.sections[0].footer.paragraphs)
    assert footer_text.startswith("第 1 页 共 1 页")
    assert f"{CASE_NUMBER} 校验码 SHA-256：{DIGEST}" in footer_text


def test_page_is_a4_with_the_pdf_margins():
    section = read(docx(agreement(), DIGEST)).sections[0]
    measured = [
        section.page_width,
        section.page_height,
        section.top_margin,
        section.bottom_margin,
        section.left_margin,
        section.right_margin,
    ]
    assert [round(length.cm, 1) for length in measured] == [21.0, 29.7, 2.5, 2.6, 2.8, 2.6]


def test_fonts_are_set_for_east_asian_text():
    document = read(docx(agreement(), DIGEST))
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体" and normal.get(qn("w:ascii")) == "宋体"
    assert normal.get(qn("w:eastAsiaTheme")) is None
    assert document.styles["Normal"].font.size.pt == 12
    heading = next(p for p in document.paragraphs if p.text == "一、当事人基本情况").runs[0]
    assert heading.element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"


def test_metadata_carries_no_time_or_user_of_the_machine():
    properties = read(docx(agreement(), DIGEST)).core_properties
    assert properties.created == properties.modified == datetime(2000, 1, 1, tzinfo=UTC)
    assert properties.author == "保定市竞秀区人民调解委员会"
    assert properties.title == "人民调解协议书"
    assert properties.last_modified_by == "" and properties.comments == "" and properties.revision == 1


def test_the_file_puts_each_document_on_a_new_page_and_refers_to_it_from_the_contents():
    document = read(docx(mediation_file(), DIGEST))
    title = next(p for p in document.paragraphs if p.text == "人民调解协议书")
    assert title.paragraph_format.page_break_before
    bookmark = title._p.find(qn("w:bookmarkStart")).get(qn("w:name"))
    contents = next(t for t in document.tables if t.cell(0, 0).text == "序号")
    assert [c.text for c in contents.rows[1].cells] == ["1", "人民调解协议书", NUMBER, ""]
    assert f"PAGEREF {bookmark} " in contents.cell(1, 3)._tc.xml
    cover = next(t for t in document.tables if t.cell(0, 0).text == "卷号：")
    assert [[c.text for c in row.cells] for row in cover.rows] == [
        ["卷号：", NUMBER],
        ["立卷人：", "赵六"],
        ["保管期限：", ""],
    ]


def test_a_page_break_at_the_top_of_a_page_adds_no_empty_page():
    doc = Doc(title="封面", cover=True).add(
        blocks.pagebreak(), blocks.para("第一页"), blocks.pagebreak(), blocks.pagebreak(), blocks.para("第二页")
    )
    paragraphs = {p.text: p for p in read(docx(doc, DIGEST)).paragraphs}
    assert not paragraphs["第一页"].paragraph_format.page_break_before
    assert paragraphs["第二页"].paragraph_format.page_break_before
    assert len(read(docx(doc, DIGEST)).paragraphs) == 2


def test_an_unknown_block_type_is_an_error_not_a_silent_gap():
    with pytest.raises(ValueError, match="unknown document block type"):
        docx(Doc(title="文书").add({"t": "chart"}), DIGEST)


@pytest.mark.parametrize(
    ("widths", "expected_cm"),
    [
        (None, [5.2, 5.2, 5.2]),
        ([1, 2, 1], [3.9, 7.8, 3.9]),
        (["2cm", "1fr", "auto"], [2.0, 6.8, 6.8]),
        (["20mm", "24pt", "50%"], [2.0, 0.85, 7.8]),
        (["3em", 1, 1], [1.27, 7.17, 7.17]),
    ],
)
def test_typst_column_widths_are_read_as_lengths(widths, expected_cm):
    assert [w.cm for w in column_widths(widths, 3)] == pytest.approx(expected_cm, abs=0.01)


def test_shared_widths_fill_the_text_width():
    assert abs(sum(column_widths(["2cm", "1fr", "auto"], 3)) - TEXT_WIDTH) < Cm(0.01)
