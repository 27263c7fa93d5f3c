"""openpyxl as the import reads a workbook: cached values, the shared strings read as the cells ask for them, the
first worksheet parsed row by row keeping nothing of the rows already read.

openpyxl's own read-only mode reads the whole shared-strings table when the workbook opens (3 million strings
in a 0.13 MB file outlasted a request) and keeps, until the end of the sheet, the emptied element of every row
read and the attributes of many (875 MB for 8 million blank rows); to learn the size of a sheet that does not
state it, it parses the whole sheet when the workbook opens. The pieces below are openpyxl's own: its
``ExcelReader`` with ``read_strings`` and ``read_worksheets`` replaced, and its worksheet parser driven the way
its ``ReadOnlyWorksheet`` drives it (private names of openpyxl 3.1; tests/test_import_*.py and
tests/test_security_limits.py read every kind of cell through them). Its stubs leave the private names out, and
type a few of the public ones narrower than openpyxl's own code uses them: the ``type: ignore`` below mark those."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from ..core.messages import coded
from .limits import FileLimits, UnusableFile, too_many_columns, too_many_strings

STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"
DIMENSION_TAG = f"{{{SHEET_MAIN_NS}}}dimension"
ROW_TAG = f"{{{SHEET_MAIN_NS}}}row"
SHEET_DATA_TAG = f"{{{SHEET_MAIN_NS}}}sheetData"


class SharedStrings:
    """The workbook's shared-strings table, read only as far as the highest index asked for; a table of more than
    ``limit`` strings is refused when the reading gets there."""

    def __init__(self, source: IO[bytes], limit: int):
        self._source, self._limit = source, limit
        self._events = iterparse(source, events=("start", "end"))
        self._root: Any = None  # the document's element (lxml's or ElementTree's, as openpyxl chose)
        self._strings: list[str] = []

    def __getitem__(self, index: int) -> str:
        if index < 0:
            raise IndexError(index)
        while index >= len(self._strings):
            if not self._read_next():
                raise IndexError(index)
        return self._strings[index]

    def _read_next(self) -> bool:
        for event, node in self._events:
            if event == "start":
                if self._root is None:
                    self._root = node
            elif node.tag == STRING_TAG:
                text = Text.from_tree(node)
                assert text is not None  # from_tree answers None only for no element
                self._strings.append(text.content.replace("x005F_", ""))  # as read_string_table
                self._root.clear()  # the strings read are kept as text, not as elements
                if len(self._strings) > self._limit:
                    raise too_many_strings(self._limit)
                return True
        return False

    def close(self) -> None:
        self._source.close()


class _Sheet(ReadOnlyWorksheet):
    # set by ReadOnlyWorksheet.__init__ (None until the size is known)
    _min_column: int | None
    _min_row: int | None
    _max_column: int | None
    _max_row: int | None

    def _get_size(self) -> None:
        """The size the sheet states, looked for up to the start of its data only: openpyxl's own look goes on to
        the end of the data of a sheet that states none, when the workbook opens (the header check)."""
        with self._get_source() as source:  # type: ignore[attr-defined]
            for _event, element in iterparse(source, events=("start",)):
                if element.tag == DIMENSION_TAG:
                    bounds = range_boundaries(element.get("ref", ""))
                    if None not in bounds:
                        self._min_column, self._min_row, self._max_column, self._max_row = bounds
                    return
                if element.tag == SHEET_DATA_TAG:
                    return


class _Reader(ExcelReader):
    """openpyxl's workbook reader, read-only and with cached values, with the shared strings read lazily and the
    worksheets' sizes looked up as ``_Sheet`` does."""

    def __init__(self, path: Path, max_shared_strings: int):
        super().__init__(str(path), read_only=True, data_only=True, keep_links=False)
        self._max_shared_strings = max_shared_strings

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            # read lazily: openpyxl only indexes the table, which the stub types as a list
            strings = SharedStrings(self.archive.open(part.PartName[1:]), self._max_shared_strings)
            self.shared_strings = strings  # type: ignore[assignment]

    def read_worksheets(self) -> None:
        """``ExcelReader.read_worksheets`` in read-only mode, with ``_Sheet``."""
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)  # type: ignore[arg-type]  # as openpyxl's own read_worksheets
                continue
            worksheet = _Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state  # type: ignore[assignment]  # the schema's default: never None
            self.wb._sheets.append(worksheet)  # type: ignore[attr-defined]


class Workbook:
    """An open workbook: ``first_sheet()``, its ``rows()``, ``close()``."""

    def __init__(self, path: Path, limits: FileLimits):
        self._limits = limits
        self._reader: _Reader | None = None
        try:
            self._reader = _Reader(path, limits.max_shared_strings)
            self._reader.read()
        except UnusableFile:
            self.close()
            raise
        except Exception as exc:  # zipfile/XML errors of every kind: the file is not a workbook
            self.close()
            raise UnusableFile(coded("unreadable_xlsx", "无法打开 xlsx 文件")) from exc
        self._book = self._reader.wb

    def first_sheet(self) -> ReadOnlyWorksheet:
        if not self._book.worksheets:
            raise UnusableFile(coded("no_worksheet", "工作簿中没有工作表"))
        return self._book.worksheets[0]

    def rows(self, sheet: ReadOnlyWorksheet) -> Iterator[tuple[int, tuple]]:
        """``(row number, values)`` for each row element of the sheet, in the file's order, until the end of its
        data; a row wider than the column limit is refused before it is filled in."""
        book = self._book
        assert self._reader is not None, "rows() of a closed workbook"
        parser = WorkSheetParser(
            None,  # type: ignore[arg-type]  # no source of its own: parse_row is given each row
            self._reader.shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,  # type: ignore[attr-defined]
            timedelta_formats=book._timedelta_formats,  # type: ignore[attr-defined]
        )
        with sheet._get_source() as source:  # type: ignore[attr-defined]
            sheet_data = None
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start":
                    if element.tag == SHEET_DATA_TAG:
                        sheet_data = element
                elif element.tag == ROW_TAG:
                    number, cells = parser.parse_row(element)
                    if sheet_data is not None:
                        sheet_data.clear()  # the rows read so far, this one included
                    parser.row_dimensions.clear()
                    yield number, self._values(cells)
                elif element.tag == SHEET_DATA_TAG:
                    return

    def _values(self, cells: list[dict]) -> tuple:
        if not cells:
            return ()
        width = max(cell["column"] for cell in cells)
        if width > self._limits.max_columns:
            raise too_many_columns(self._limits.max_columns)
        values = [None] * width
        for cell in cells:
            values[cell["column"] - 1] = cell["value"]
        return tuple(values)

    def close(self) -> None:
        if self._reader is None:
            return
        strings = self._reader.shared_strings
        if isinstance(strings, SharedStrings):
            strings.close()
        self._reader.archive.close()
