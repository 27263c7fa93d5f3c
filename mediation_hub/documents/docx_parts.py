"""The WordprocessingML pieces ``docx_writer`` builds its blocks from: runs with East Asian fonts, Word fields,
bookmarks, indents in characters, table borders, shading and widths, and Typst's column widths read as lengths.

python-docx covers text, paragraphs and plain tables; what it lacks (shading, borders, repeated header rows, rows
kept whole, fields) is written here as elements, each put in the place the schema orders it (Word refuses a file
with a property out of order, so each insertion names the elements that must follow it).
"""

from __future__ import annotations

import re
from typing import TypedDict, Unpack

from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Length, Pt, RGBColor
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

BODY_FONT = "宋体"
LABEL_FONT = "黑体"
EM = 12  # points: Typst's em at the body size
PAGE_WIDTH, PAGE_HEIGHT = Cm(21), Cm(29.7)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Cm(2.5), Cm(2.6), Cm(2.8), Cm(2.6)
TEXT_WIDTH = Length(PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT)
BLANK = "\u3000"  # an ideographic space: one em in every CJK font; underlined, a blank to fill in by hand
CELL_INSET_X, CELL_INSET_Y = Pt(5), Pt(6)  # Typst's table inset
THIN_LINE = 4  # eighths of a point: Typst's 0.5 pt strokes


class Look(TypedDict, total=False):
    """How a run looks: the keyword arguments of ``run`` that travel together (``**LABEL``, a seal's lines)."""

    font: str | None
    size: Length | None
    bold: bool
    color: str | None
    underline: bool
    tracking: Length | None


LABEL: Look = {"font": LABEL_FONT, "size": Pt(10.5)}
HEADER_FILL, LABEL_FILL = "EBEBEB", "F5F5F5"  # luma(235), luma(245)

# Children that follow the one inserted, in the schema's order (Word rejects a file with them out of order)
RPR_AFTER_SPACING = (
    "w:w",
    "w:kern",
    "w:position",
    "w:sz",
    "w:szCs",
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
)
TCPR_AFTER_SHD = (
    "w:noWrap",
    "w:tcMar",
    "w:textDirection",
    "w:tcFitText",
    "w:vAlign",
    "w:hideMark",
    "w:headers",
    "w:cellIns",
    "w:cellDel",
    "w:cellMerge",
    "w:tcPrChange",
)
TCPR_AFTER_BORDERS = ("w:shd", *TCPR_AFTER_SHD)
TBLPR_AFTER_BORDERS = (
    "w:shd",
    "w:tblLayout",
    "w:tblCellMar",
    "w:tblLook",
    "w:tblCaption",
    "w:tblDescription",
    "w:tblPrChange",
)
TBLPR_AFTER_INDENT = ("w:tblBorders", *TBLPR_AFTER_BORDERS)
TBLPR_AFTER_CELL_MARGINS = ("w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
TRPR_AFTER_CANT_SPLIT = (
    "w:trHeight",
    "w:tblHeader",
    "w:tblCellSpacing",
    "w:jc",
    "w:hidden",
    "w:ins",
    "w:del",
    "w:trPrChange",
)
TRPR_AFTER_HEADER = ("w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange")
SIDES = ("top", "left", "bottom", "right")


def run(
    paragraph: Paragraph,
    value: str,
    *,
    font: str | None = None,
    size: Length | None = None,
    bold: bool = False,
    color: str | None = None,
    underline: bool = False,
    tracking: Length | None = None,
) -> Run:
    """A run of text (a line break in ``value`` becomes a line break in the paragraph, nothing is dropped)."""
    piece = paragraph.add_run(value)
    if font:
        set_fonts(piece.element.get_or_add_rPr(), font)
    if size is not None:
        piece.font.size = size
    if bold:
        piece.font.bold = True
    if color:
        piece.font.color.rgb = RGBColor.from_string(color)
    if underline:
        piece.font.underline = True
    if tracking is not None:
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(tracking.twips))
        piece.element.get_or_add_rPr().insert_element_before(spacing, *RPR_AFTER_SPACING)
    return piece


def set_fonts(rpr, name: str) -> None:
    """The font for Latin, East Asian and complex-script text alike; the template's theme fonts dropped (a theme
    font overrides a named one)."""
    fonts = rpr.get_or_add_rFonts()
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)


def field_code(paragraph: Paragraph, instruction: str, shown: str, **look: Unpack[Look]) -> None:
    """A Word field (PAGE, NUMPAGES, PAGEREF): begin, instruction, the result ``shown`` until updated, end."""

    def char(kind: str) -> None:
        mark = OxmlElement("w:fldChar")
        mark.set(qn("w:fldCharType"), kind)
        run(paragraph, "", **look).element.append(mark)

    char("begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    run(paragraph, "", **look).element.append(code)
    char("separate")
    if shown:
        run(paragraph, shown, **look)
    char("end")


def bookmark_name(number: int) -> str:
    """Word allows letters, digits and "_" in a bookmark's name; a leading "_" keeps it out of the bookmark list."""
    return f"_Doc{number}"


def bookmark_start(paragraph: Paragraph, number: int) -> None:
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), bookmark_name(number))
    paragraph._p.append(start)


def bookmark_end(paragraph: Paragraph, number: int) -> None:
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    paragraph._p.append(end)


def single_spaced(paragraph: Paragraph, align: WD_ALIGN_PARAGRAPH) -> None:
    form = paragraph.paragraph_format
    form.alignment = align
    form.line_spacing = 1.0
    form.space_before = form.space_after = Pt(0)


def indent(paragraph: Paragraph, *, first_line_chars: int = 0, hanging_chars: int = 0) -> None:
    """An indent in characters (``w:firstLineChars`` / ``w:hangingChars``, as Word's 首行缩进 2 字符), with the
    length at the body size for readers that ignore characters."""
    form = paragraph.paragraph_format
    if first_line_chars:
        form.first_line_indent = Pt(first_line_chars * EM)
        paragraph._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), str(first_line_chars * 100))
    if hanging_chars:
        form.left_indent = Pt(hanging_chars * EM)
        form.first_line_indent = Pt(-hanging_chars * EM)
        ind = paragraph._p.get_or_add_pPr().get_or_add_ind()  # there: the indents above wrote it
        ind.set(qn("w:leftChars"), str(hanging_chars * 100))
        ind.set(qn("w:hangingChars"), str(hanging_chars * 100))


def cell_paragraph(cell: _Cell) -> Paragraph:
    """The cell's paragraph: cells hold no spacing between paragraphs."""
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    return paragraph


def header_row(table: Table, head: list[str]) -> None:
    """The first row as a header, shaded and set in the label font, repeated at the top of every page."""
    row = table.rows[0]
    header = OxmlElement("w:tblHeader")
    row._tr.get_or_add_trPr().insert_element_before(header, *TRPR_AFTER_HEADER)
    for c, label in enumerate(head):
        cell = table.cell(0, c)
        shade(cell, HEADER_FILL)
        run(cell_paragraph(cell), label, **LABEL)


def keep_row(row: _Row, height: Length | None = None) -> None:
    """A row never split across pages; ``height`` its least height."""
    cant_split = OxmlElement("w:cantSplit")
    row._tr.get_or_add_trPr().insert_element_before(cant_split, *TRPR_AFTER_CANT_SPLIT)
    if height is not None:
        row.height = height
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST


def shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().insert_element_before(shading, *TCPR_AFTER_SHD)


def border(tag: str, style: str) -> BaseOxmlElement:
    line = OxmlElement(tag)
    line.set(qn("w:val"), style)
    if style != "nil":
        line.set(qn("w:sz"), str(THIN_LINE))
        line.set(qn("w:space"), "0")
        line.set(qn("w:color"), "000000")
    return line


def cell_borders(cell: _Cell, style: str, sides: tuple[str, ...] = SIDES) -> None:
    borders = OxmlElement("w:tcBorders")
    for side in SIDES:
        if side in sides:
            borders.append(border(f"w:{side}", style))
    cell._tc.get_or_add_tcPr().insert_element_before(borders, *TCPR_AFTER_BORDERS)


def table_borders(table: Table, style: str) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in (*SIDES, "insideH", "insideV"):
        borders.append(border(f"w:{side}", style))
    table._tbl.tblPr.insert_element_before(borders, *TBLPR_AFTER_BORDERS)
    table_cell_margins(table, vertical=CELL_INSET_Y, horizontal=CELL_INSET_X)


def table_cell_margins(table: Table, *, vertical: Length, horizontal: Length) -> None:
    """Typst's cell inset: ``vertical`` above and below, ``horizontal`` either side."""
    table_props = table._tbl.tblPr
    existing = table_props.find(qn("w:tblCellMar"))
    if existing is not None:
        table_props.remove(existing)
    margins = OxmlElement("w:tblCellMar")
    for side, size in (("top", vertical), ("left", horizontal), ("bottom", vertical), ("right", horizontal)):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(size.twips))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    table_props.insert_element_before(margins, *TBLPR_AFTER_CELL_MARGINS)


def table_indent(table: Table, cell_margin: Length) -> None:
    """A left-aligned table's border on the text's margin, as Typst places it: Word (in the compatibility mode of
    the template) measures a table's indent to the text in its first cell, not to its border."""
    indent_element = OxmlElement("w:tblInd")
    indent_element.set(qn("w:w"), str(cell_margin.twips))
    indent_element.set(qn("w:type"), "dxa")
    table._tbl.tblPr.insert_element_before(indent_element, *TBLPR_AFTER_INDENT)


def table_width(table: Table, widths: list[Length]) -> None:
    """Fixed column widths (the grid and every cell) and the table's width their sum."""
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    total = table._tbl.tblPr.find(qn("w:tblW"))
    total.set(qn("w:type"), "dxa")
    total.set(qn("w:w"), str(sum(Length(w).twips for w in widths)))


def align_cells(table: Table, align: WD_CELL_VERTICAL_ALIGNMENT) -> None:
    for row in table.rows:
        for tc in row._tr.tc_lst:
            if tc.tcPr is None or tc.tcPr.vAlign is None:
                _Cell(tc, table).vertical_alignment = align


# -- widths


def text_width(chars: int, points: float, least: Length, most: Length) -> Length:
    """The width of ``chars`` full-width characters at ``points`` and a cell's inset, within [least, most]."""
    return Length(min(max(Pt(chars * points + 10), least), most))


def field_widths(rows: list[list], columns: int) -> list[Length]:
    """Label columns as wide as their longest label (Typst's ``auto``), value columns sharing the rest."""
    label_columns = range(0, columns, 2)
    widths: dict[int, Length] = {}
    for c in label_columns:
        longest = max((len(str(row[c // 2][0])) for row in rows if len(row) > c // 2), default=2)
        widths[c] = text_width(longest, 10.5, Cm(1.6), Cm(4.5))
    value_columns = [c for c in range(columns) if c not in widths]
    share = Length((TEXT_WIDTH - sum(widths.values())) // max(len(value_columns), 1))
    return [widths.get(c, share) for c in range(columns)]


LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(cm|mm|pt|in|em|fr|%)\s*$")
UNIT = {"cm": Cm(1), "mm": Cm(0.1), "pt": Pt(1), "in": Pt(72), "em": Pt(EM)}


def column_widths(widths: list | None, count: int) -> list[Length]:
    """Typst column widths read as lengths: a number or "1fr" a share of what fixed widths leave, "2cm", "30mm",
    "12pt", "1in", "3em" or "20%" fixed; "auto" (sized to content in Typst) is read as one share."""
    if not widths or len(widths) != count:
        widths = [1] * count
    fixed: dict[int, float] = {}
    shares: dict[int, float] = {}
    for i, width in enumerate(widths):
        if isinstance(width, int | float):
            shares[i] = float(width)
            continue
        match = LENGTH.match(str(width))
        if match is None or match.group(2) == "fr":
            shares[i] = float(match.group(1)) if match else 1.0
        elif match.group(2) == "%":
            fixed[i] = TEXT_WIDTH * float(match.group(1)) / 100
        else:
            fixed[i] = UNIT[match.group(2)] * float(match.group(1))
    rest = max(TEXT_WIDTH - sum(fixed.values()), Cm(1) * len(shares))
    total_shares = sum(shares.values()) or 1
    return [Length(int(fixed[i] if i in fixed else rest * shares[i] / total_shares)) for i in range(count)]
