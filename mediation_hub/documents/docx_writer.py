"""The DOCX rendition of a document, for editing: the twin of ``typst/document.typ``.

Why a block interpreter on plain python-docx, not docxtpl: docxtpl fills a .docx template with Jinja tags, which
serves a paper whose layout is fixed and whose holes are few. Our documents are lists of blocks (``blocks.Doc``):
headings, field grids, tables, signature rows and seals come in any number and order, and the 卷宗 nests whole
documents. A template per document would write each layout a second time beside its builder and the Typst
interpreter, and the PDF and the DOCX would drift apart; one template looping over the blocks would be this
interpreter written in Jinja inside WordprocessingML, harder to read and to test. So ``docx`` walks the blocks
that Typst prints, type by type, with the same page, margins, sizes and spacing: both renditions print one
content and cannot disagree on what the paper says.

Where the DOCX differs, because it is a copy to edit:

- 页号 in the 卷内目录 is left blank: each holds a PAGEREF field to a bookmark on its document's title, filled when
  the fields are updated (F9 in Word); the footer's page numbers are PAGE and NUMPAGES fields.
- The seal's circle is a space of the same height under "（盖章）", not a drawn circle.
- Lists are numbered in the text ("1." and a tab), not by Word's numbering, so they read the same in any editor.
- A column of Typst width ``auto`` (sized to its content) takes a share of the width, as ``1fr`` would.
- A blank to fill in is a run of underlined ideographic spaces (one em each in every CJK font), kept underlined at a
  line's end by the layout option ``ulTrailSpace``.
- Fonts are those Word users have: 宋体 for the body, 黑体 for labels and headings (the PDF embeds Noto Serif /
  Sans CJK SC, their free equivalents), set for East Asian text (``w:eastAsia``) as for Latin text.

The fixed words of the paper (编号、日期、捺印、卷内目录、第 x 页 共 y 页) are those of the official formats and of
``typst/document.typ``: the paper is Chinese whatever language the page asking for it speaks, so they are
constants here as there, not catalogue messages, and the bytes do not depend on the request's locale.

Same content, same bytes: the core properties carry a fixed date and no user of the machine, and the package is
zipped again with fixed entry times (python-docx stamps the current time), so a DOCX handed out can be made again
byte for byte (with the same python-docx and zlib) and matched to its SHA-256.

``docx_parts`` holds the WordprocessingML pieces python-docx lacks (fields, shading, borders, repeated headers).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Unpack

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Length, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from .blocks import Doc, text
from .docx_parts import (
    BLANK,
    BODY_FONT,
    CELL_INSET_X,
    EM,
    LABEL,
    LABEL_FILL,
    LABEL_FONT,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    TEXT_WIDTH,
    Look,
    align_cells,
    bookmark_end,
    bookmark_name,
    bookmark_start,
    cell_borders,
    cell_paragraph,
    column_widths,
    field_code,
    field_widths,
    header_row,
    indent,
    keep_row,
    run,
    set_fonts,
    shade,
    single_spaced,
    table_borders,
    table_cell_margins,
    table_indent,
    table_width,
    text_width,
)

BODY_SIZE = Pt(12)
LINE_PITCH = Pt(21)  # 12 pt text and Typst's leading of 0.75 em
PARAGRAPH_GAP = Pt(1.8)  # Typst's paragraph spacing (0.9 em) less its leading
FIXED_TIME = datetime(2000, 1, 1, tzinfo=UTC)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
IDEOGRAPHIC_SPACE = "\u3000"


def docx(doc: Doc, digest: str) -> bytes:
    """The document as a DOCX to edit: the blocks Typst prints as the PDF, on A4 with the same margins, the page
    numbers and the digest in the footer. The same ``doc`` and ``digest`` give the same bytes."""
    document = Document()
    _set_up(document, doc)
    _footer(document.sections[0], doc.footer, digest)
    writer = _Writer(document)
    if not doc.cover:
        writer.title_block(doc.content())
    writer.blocks(doc.blocks)
    out = io.BytesIO()
    document.save(out)
    return _fixed_zip(out.getvalue())


# -- the document as a whole: page, fonts, properties, footer, zip


def _set_up(document: DocxDocument, doc: Doc) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.footer_distance = Cm(1)
    _set_default_fonts(document)
    _set_compatibility(document)
    normal = document.styles["Normal"]
    set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    normal.font.size = BODY_SIZE
    spacing = normal.paragraph_format
    spacing.space_before, spacing.space_after = Pt(0), Pt(0)
    spacing.line_spacing = LINE_PITCH
    spacing.line_spacing_rule = WD_LINE_SPACING.AT_LEAST
    spacing.widow_control = True
    _set_properties(document, doc)


def _set_default_fonts(document: DocxDocument) -> None:
    """Chinese defaults for the whole file: the template's theme fonts and Japanese East Asian language replaced."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(run_defaults, BODY_FONT)
    language = run_defaults.find(qn("w:lang"))
    language.set(qn("w:eastAsia"), "zh-CN")
    theme_language = document.settings.element.find(qn("w:themeFontLang"))
    if theme_language is not None:
        theme_language.set(qn("w:eastAsia"), "zh-CN")


def _set_compatibility(document: DocxDocument) -> None:
    """Two of Word's layout options, as Typst lays out: a blank at a line's end keeps its underline
    (``ulTrailSpace``), and a justified line ending in a line break is not stretched (``doNotExpandShiftReturn``).
    Both come before the template's ``useFELayout`` in the schema's order."""
    compat = document.settings.element.find(qn("w:compat"))
    for position, tag in enumerate(("w:ulTrailSpace", "w:doNotExpandShiftReturn")):
        compat.insert(position, OxmlElement(tag))


def _set_properties(document: DocxDocument, doc: Doc) -> None:
    """Fixed metadata: the title and the organisation, no date or user of the machine that made the file."""
    props = document.core_properties
    props.title = doc.title[:255]
    props.author = doc.author[:255]
    props.last_modified_by = ""
    props.comments = props.subject = props.keywords = props.category = ""
    props.revision = 1
    props.created = props.modified = FIXED_TIME
    package_rels = document.part.package.rels
    for rid in [rid for rid, rel in package_rels.items() if rel.reltype == RELATIONSHIP_TYPE.THUMBNAIL]:
        del package_rels[rid]  # the template's picture of an empty page


def _footer(section: Section, footer: str, digest: str) -> None:
    """ "第 x 页 共 y 页" (PAGE and NUMPAGES fields) and the small print with the digest, as on the PDF."""
    pages = section.footer.paragraphs[0]
    single_spaced(pages, WD_ALIGN_PARAGRAPH.CENTER)
    size = Pt(9)
    run(pages, "第 ", size=size)
    field_code(pages, "PAGE", "1", size=size)
    run(pages, " 页 共 ", size=size)
    field_code(pages, "NUMPAGES", "1", size=size)
    run(pages, " 页", size=size)
    if digest:
        small = section.footer.add_paragraph()
        single_spaced(small, WD_ALIGN_PARAGRAPH.CENTER)
        line = " ".join(part for part in (footer, f"校验码 SHA-256：{digest}") if part)
        run(small, line, size=Pt(6.5), color="5A5A5A")


def _fixed_zip(data: bytes) -> bytes:
    """The package zipped again with fixed entry times and attributes, in the same order: same content, same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 0
            fixed.external_attr = 0
            target.writestr(fixed, source.read(entry))
    return out.getvalue()


# -- the blocks


class _Writer:
    """Appends blocks to a python-docx document, one method per block type of ``blocks``.

    A page break is weak as in Typst (none at the top of a page): it waits for the next paragraph and becomes its
    "page break before", so no empty line is left at the top of the new page."""

    def __init__(self, document: DocxDocument):
        self.document = document
        self.at_page_start = True
        self.break_pending = False
        self.bookmarks: dict[str, int] = {}
        self.handlers: dict[str, Callable[[dict], None]] = {
            "heading": self.heading,
            "para": self.para,
            "kv": self.kv,
            "fields": self.fields,
            "table": self.table_block,
            "list": self.list_block,
            "signatures": self.signatures,
            "seal": self.seal,
            "note": self.note,
            "space": lambda b: self.space(float(b.get("em", 1))),
            "pagebreak": lambda b: self.pagebreak(),
            "cover": self.cover,
            "toc": self.toc,
            "document": self.document_block,
        }

    def blocks(self, blocks: Iterable[dict]) -> None:
        for block in blocks:
            handler = self.handlers.get(block["t"])
            if handler is None:
                raise ValueError(f"unknown document block type {block['t']!r}")
            handler(block)

    # the parts blocks are made of

    def paragraph(
        self,
        align: WD_ALIGN_PARAGRAPH | None = None,
        *,
        space_after: Length = PARAGRAPH_GAP,
        keep_with_next: bool = False,
    ) -> Paragraph:
        paragraph = self.document.add_paragraph()
        if self.break_pending:
            paragraph.paragraph_format.page_break_before = True
        self.break_pending = self.at_page_start = False
        form = paragraph.paragraph_format
        if align is not None:
            form.alignment = align
        form.space_after = space_after
        if keep_with_next:
            form.keep_with_next = True
        return paragraph

    def space(self, em: float) -> None:
        """Vertical space of ``em`` body ems: an empty paragraph of exactly that height."""
        if em <= 0:
            return
        paragraph = self.paragraph(space_after=Pt(0))
        form = paragraph.paragraph_format
        form.line_spacing = Pt(max(em * EM, 1))
        form.line_spacing_rule = WD_LINE_SPACING.EXACTLY

    def pagebreak(self) -> None:
        if not self.at_page_start:
            self.break_pending = True

    def table(
        self, rows: int, widths: list[Length], *, borders: bool = True, align: WD_TABLE_ALIGNMENT | None = None
    ) -> Table:
        """A table of fixed column widths; a page break waiting goes to a tiny paragraph before it (Word does not
        break a page before a paragraph inside a table)."""
        if self.break_pending:
            self.space(0.1)
        self.at_page_start = False
        table = self.document.add_table(rows, len(widths))
        table.autofit = False
        if align is not None:
            table.alignment = align
        else:
            table_indent(table, CELL_INSET_X)
        table_width(table, widths)
        table_borders(table, "single" if borders else "nil")
        return table

    def value(self, paragraph: Paragraph, value: object, *, width_em: int = 6, **look: Unpack[Look]) -> None:
        """A recorded value, or a blank line to fill in by hand (``width_em`` wide) when none is recorded."""
        if text(value):
            run(paragraph, text(value), **look)
        else:
            run(paragraph, BLANK * width_em, underline=True)

    def bookmark(self, ref: str) -> int:
        """The number of the bookmark on the title of the document ``ref`` (the 目录 may name it first)."""
        return self.bookmarks.setdefault(ref, len(self.bookmarks) + 1)

    def title_block(self, content: dict, bookmark: int | None = None) -> None:
        title = self.paragraph(WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(2))
        if bookmark is not None:
            bookmark_start(title, bookmark)
        run(title, text(content.get("title")), size=Pt(20), bold=True, tracking=Pt(2))
        if bookmark is not None:
            bookmark_end(title, bookmark)
        last = title
        if content.get("subtitle") is not None:
            last = self.paragraph(WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(2))
            run(last, text(content["subtitle"]))
        if content.get("number") is not None:
            last = self.paragraph(WD_ALIGN_PARAGRAPH.RIGHT, space_after=Pt(0))
            last.paragraph_format.space_before = Pt(2.4)
            run(last, f"编号：{content['number']}", size=Pt(11))
        if content.get("copy_note") is not None:
            last = self.paragraph(WD_ALIGN_PARAGRAPH.RIGHT, space_after=Pt(0))
            run(last, text(content["copy_note"]), size=Pt(8.5), color="505050")
        last.paragraph_format.space_after = Pt(0.6 * EM + 1.8)

    # one method per block type

    def heading(self, block: dict) -> None:
        paragraph = self.paragraph(space_after=Pt(1.2), keep_with_next=True)
        paragraph.paragraph_format.space_before = Pt(3.6)
        run(paragraph, text(block["text"]), font=LABEL_FONT, size=Pt(12.5), bold=True)

    def para(self, block: dict) -> None:
        """Each line its own paragraph, justified, its first line indented two characters unless ``indent`` is off."""
        for line in text(block["text"]).split("\n"):
            paragraph = self.paragraph(WD_ALIGN_PARAGRAPH.JUSTIFY)
            if block.get("indent", True):
                indent(paragraph, first_line_chars=2)
            if line.rstrip("\r"):
                run(paragraph, line.rstrip("\r"))

    def kv(self, block: dict) -> None:
        for label, value in block["items"]:
            paragraph = self.paragraph(WD_ALIGN_PARAGRAPH.JUSTIFY)
            indent(paragraph, hanging_chars=2)
            run(paragraph, text(label), font=LABEL_FONT, size=Pt(11))
            run(paragraph, "：")
            self.value(paragraph, value)

    def fields(self, block: dict) -> None:
        """A bordered grid of label and value cells, labels shaded; a row's last value spans the rest of the row."""
        columns = int(block.get("columns", 4))
        rows = [row for row in block["rows"] if row]
        if not rows:
            return
        table = self.table(len(rows), field_widths(rows, columns))
        for r, pairs in enumerate(rows):
            used = 0
            for i, (label, value) in enumerate(pairs):
                span = columns - used - 1 if i == len(pairs) - 1 else 1
                if span < 1:
                    raise ValueError(f"a fields row has more pairs than its {columns} columns hold")
                label_cell, value_cell = table.cell(r, used), table.cell(r, used + 1)
                if span > 1:
                    value_cell = value_cell.merge(table.cell(r, used + span))
                shade(label_cell, LABEL_FILL)
                run(cell_paragraph(label_cell), text(label), **LABEL)
                self.value(cell_paragraph(value_cell), value)
                used += 1 + span
        align_cells(table, WD_CELL_VERTICAL_ALIGNMENT.CENTER)
        self.space(0.4)

    def table_block(self, block: dict) -> None:
        """A bordered table whose header row repeats on every page; cells filled row by row as Typst fills them."""
        head = [text(h) for h in block.get("head") or []]
        widths = block.get("widths")
        rows = block.get("rows") or []
        count = len(head) or len(widths or []) or max((len(row) for row in rows), default=0)
        cells = [text(c) for row in rows for c in row]
        body = [cells[i : i + count] for i in range(0, len(cells), count)] if count else []
        if not head and not body:
            return
        table = self.table(len(body) + (1 if head else 0), column_widths(widths, count))
        if head:
            header_row(table, head)
        for r, values in enumerate(body, start=1 if head else 0):
            for c, value in enumerate(values):
                if value:
                    run(cell_paragraph(table.cell(r, c)), value)
        align_cells(table, WD_CELL_VERTICAL_ALIGNMENT.CENTER)
        self.space(0.4)

    def list_block(self, block: dict) -> None:
        """Numbered "1." or bulleted items as plain text, hanging two characters, a line break kept in its item."""
        numbered = block.get("numbered", True)
        for n, item in enumerate(block["items"], start=1):
            paragraph = self.paragraph(WD_ALIGN_PARAGRAPH.JUSTIFY)
            indent(paragraph, hanging_chars=2)
            paragraph.paragraph_format.tab_stops.add_tab_stop(Pt(2 * EM))
            run(paragraph, f"{n}.\t" if numbered else "•\t")
            run(paragraph, text(item))

    def signatures(self, block: dict) -> None:
        """Per row: "label：name ____ 日期：____" on the left, a dashed 2.2 × 1.6 cm box for the fingerprint."""
        self.space(0.8)
        for row in block["rows"]:
            table = self.table(1, [Length(TEXT_WIDTH - Cm(2.2)), Cm(2.2)], borders=False)
            keep_row(table.rows[0], height=Cm(1.6))
            line = cell_paragraph(table.cell(0, 0))
            run(line, f"{text(row.get('label'))}：{text(row.get('name'))} ")
            run(line, BLANK * 5, underline=True)
            run(line, f"{IDEOGRAPHIC_SPACE}日期：")
            run(line, BLANK * 6, underline=True)
            table.cell(0, 0).vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
            box = table.cell(0, 1)
            if row.get("print", True):
                cell_borders(box, "dashed")
                box.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                mark = cell_paragraph(box)
                mark.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run(mark, "捺印", size=Pt(7), color="6E6E6E")
            self.space(0.5)

    def seal(self, block: dict) -> None:
        """On the right, 8 cm wide and kept together: the organisation, the seal's place, the date."""
        self.space(1.2)
        table = self.table(3, [Cm(8)], borders=False, align=WD_TABLE_ALIGNMENT.RIGHT)
        date = block.get("date") or (
            IDEOGRAPHIC_SPACE * 3 + "年" + IDEOGRAPHIC_SPACE * 2 + "月" + IDEOGRAPHIC_SPACE * 2 + "日"
        )
        lines: list[tuple[str, Look]] = [
            (text(block.get("org")), {}),
            (block.get("label") or "（盖章）", {"size": Pt(8), "color": "787878"}),
            (date, {}),
        ]
        for r, (value, look) in enumerate(lines):
            keep_row(table.rows[r], height=Cm(3.8) if r == 1 else None)
            paragraph = cell_paragraph(table.cell(r, 0))
            paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if r < 2:
                paragraph.paragraph_format.keep_with_next = True
            run(paragraph, value, **look)
        table.cell(1, 0).vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER

    def note(self, block: dict) -> None:
        paragraph = self.paragraph(WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=Pt(3.6 + 1.8))
        run(paragraph, text(block["text"]), size=Pt(9.5), color="3C3C3C")

    def cover(self, block: dict) -> None:
        """The 卷宗's cover: the title large and spaced, then "label：value" lines on underlines, 12 cm wide."""
        self.space(Cm(3).pt / EM)
        title = self.paragraph(WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(0))
        run(title, text(block["title"]), size=Pt(30), bold=True, tracking=Pt(9))
        self.space(Cm(2).pt / EM)
        rows = block.get("rows") or []
        if not rows:
            return
        label_width = text_width(max((len(text(r[0])) + 1 for r in rows), default=4), EM, Cm(2), Cm(5))
        table = self.table(
            len(rows), [label_width, Length(Cm(12) - label_width)], borders=False, align=WD_TABLE_ALIGNMENT.CENTER
        )
        table_cell_margins(table, vertical=Pt(9), horizontal=Pt(4))
        for r, (label, value) in enumerate(rows):
            run(cell_paragraph(table.cell(r, 0)), f"{text(label)}：", font=LABEL_FONT)
            value_cell = table.cell(r, 1)
            cell_borders(value_cell, "single", sides=("bottom",))
            if text(value):
                run(cell_paragraph(value_cell), text(value))
        align_cells(table, WD_CELL_VERTICAL_ALIGNMENT.BOTTOM)
        self.space(0.4)

    def toc(self, block: dict) -> None:
        """卷内目录: 序号, 文书名称, 编号 and 页号, a PAGEREF field to each document's title (blank until updated)."""
        heading = self.paragraph(WD_ALIGN_PARAGRAPH.CENTER, space_after=Pt(0.6 * EM + 1.8))
        run(heading, "卷内目录", size=Pt(18), bold=True, tracking=Pt(5.4))
        entries = block.get("entries") or []
        number_width = text_width(max((len(text(e.get("number"))) for e in entries), default=2), EM, Cm(1.8), Cm(6))
        widths = [Cm(1.4), Length(TEXT_WIDTH - Cm(1.4) - number_width - Cm(1.6)), number_width, Cm(1.6)]
        table = self.table(len(entries) + 1, widths)
        header_row(table, ["序号", "文书名称", "编号", "页号"])
        for r, entry in enumerate(entries, start=1):
            values = [str(r), text(entry.get("title")), text(entry.get("number"))]
            for c, value in enumerate(values):
                if value:
                    run(cell_paragraph(table.cell(r, c)), value)
            target = bookmark_name(self.bookmark(entry["ref"]))
            field_code(cell_paragraph(table.cell(r, 3)), f"PAGEREF {target} \\h", "")
            for c in (0, 3):
                cell_paragraph(table.cell(r, c)).paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        align_cells(table, WD_CELL_VERTICAL_ALIGNMENT.CENTER)
        self.space(0.4)

    def document_block(self, block: dict) -> None:
        """A document of the 卷宗: on a new page, with its own title block (bookmarked for the 目录) and blocks."""
        inner = block["doc"]
        content = inner.content() if isinstance(inner, Doc) else inner
        self.pagebreak()
        self.title_block(content, bookmark=self.bookmark(block["ref"]))
        self.blocks(content.get("blocks") or [])
