"""Streaming readers for csv and xlsx: one row at a time, memory independent of the file's size.

A reader yields ``(row_number, cells)`` where ``row_number`` is the row as a person sees it in the
spreadsheet (the header is row 1) and ``cells`` the raw values in column order; ``position()`` tells how far
through the file it is (0..1) for the progress bars. Completely blank rows are skipped but still counted in
the numbering, so the numbers match what Excel or WPS shows.

csv: UTF-8 with or without a byte-order mark, or GB18030 (which includes GBK/GB2312) when the start of the
file is not valid UTF-8. xlsx: the first worksheet, through openpyxl's read-only parser (the sheet parsed as a
stream; the shared strings read as far as the cells ask for them).

Both stop with ``UnusableFile`` at the limits of ``limits.FileLimits`` (rows, columns, a csv line's length); an
xlsx is first checked by ``limits.check_workbook`` before openpyxl opens it."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..core.messages import coded
from .limits import (
    CSV_MAX_LINE,
    FileLimits,
    UnusableFile,
    check_workbook,
    line_too_long,
    too_many_columns,
    too_many_rows,
)

SNIFF_BYTES = 256 * 1024
SUFFIXES = (".csv", ".xlsx")
__all__ = ["SUFFIXES", "FileLimits", "SheetReader", "UnusableFile", "detect_encoding", "open_sheet"]


def detect_encoding(head: bytes) -> str:
    """utf-8-sig for a BOM, utf-8 when the sample decodes as such, else gb18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a character cut at the end is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise UnusableFile(coded("unknown_encoding", "文件编码无法识别，请另存为 UTF-8 或 GB18030 编码的 csv")) from exc


class SheetReader:
    """Common interface: ``header`` (list of texts), ``rows()`` and ``position()``."""

    header: list

    def rows(self) -> Iterator[tuple[int, tuple]]:
        raise NotImplementedError

    def position(self) -> float:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


class CsvReader(SheetReader):
    def __init__(self, path: Path, limits: FileLimits):
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._limits = limits
        self._size = max(Path(path).stat().st_size, 1)
        try:
            self.encoding = detect_encoding(self._raw.read(SNIFF_BYTES))
            self._raw.seek(0)
            self._text = io.TextIOWrapper(self._raw, encoding=self.encoding, newline="")
            self._reader = csv.reader(self._lines())
            self.header = next(self._reader)
            self._check_width(self.header)
        except StopIteration as exc:
            self.close()
            raise UnusableFile(coded("empty_file", "文件为空")) from exc
        except (UnicodeDecodeError, csv.Error) as exc:
            self.close()
            raise UnusableFile(coded("unreadable_header", "无法读取 csv 表头")) from exc
        except UnusableFile:
            self.close()
            raise

    def _lines(self) -> Iterator[str]:
        """The text's lines, none longer than ``CSV_MAX_LINE`` characters: a file without line breaks is refused,
        not read into memory whole."""
        number = 0
        while line := self._text.readline(CSV_MAX_LINE + 2):  # room for the line break, \r\n
            number += 1
            if len(line) > CSV_MAX_LINE and len(line.rstrip("\r\n")) > CSV_MAX_LINE:
                raise line_too_long(number)
            yield line

    def _check_width(self, record: list) -> None:
        if len(record) > self._limits.max_columns:
            raise too_many_columns(self._limits.max_columns)

    def rows(self) -> Iterator[tuple[int, tuple]]:
        number = 1
        try:
            for record in self._reader:
                number += 1
                if number > self._limits.max_rows:
                    raise too_many_rows(self._limits.max_rows)
                self._check_width(record)
                if not _blank(record):
                    yield number, tuple(record)
        except UnicodeDecodeError as exc:
            raise UnusableFile(
                coded(
                    "inconsistent_encoding",
                    "第 %(row)s 行附近的文字编码与文件开头（%(encoding)s）不一致",
                    row=number + 1,
                    encoding=self.encoding,
                )
            ) from exc
        except csv.Error as exc:
            raise UnusableFile(coded("malformed_csv", "第 %(row)s 行附近的 csv 格式错误", row=number + 1)) from exc

    def position(self) -> float:
        return min(self._raw.tell() / self._size, 1.0)

    def close(self) -> None:
        self._raw.close()


class XlsxReader(SheetReader):
    """The first worksheet, row by row (``xlsx.Workbook``), once ``check_workbook`` has looked at the zip."""

    def __init__(self, path: Path, limits: FileLimits):
        from .xlsx import Workbook

        check_workbook(path, limits)
        self._limits = limits
        self._workbook = Workbook(path, limits)
        try:
            sheet = self._workbook.first_sheet()
            self._max_row = sheet.max_row or 0
            if self._max_row > limits.max_rows:  # as the sheet states its size
                raise too_many_rows(limits.max_rows)
            if (sheet.max_column or 0) > limits.max_columns:
                raise too_many_columns(limits.max_columns)
            self._rows = self._limited(self._workbook.rows(sheet))
            self._number = 0
            self.header, self._first = self._read_header()
        except BaseException:
            self.close()
            raise

    def _read_header(self) -> tuple[list, tuple[int, tuple] | None]:
        """Row 1; an empty header when the sheet starts further down (that row is kept for ``rows``)."""
        try:
            number, cells = next(self._rows)
        except StopIteration as exc:
            raise UnusableFile(coded("empty_sheet", "工作表为空")) from exc
        return (list(cells), None) if number == 1 else ([], (number, cells))

    def _limited(self, rows: Iterator[tuple[int, tuple]]) -> Iterator[tuple[int, tuple]]:
        """The sheet's rows in order, each checked against the limits on its own row and column numbers (before
        a gap of missing rows is counted out or a row is filled up to a cell far to the right)."""
        try:
            for number, cells in rows:
                if number <= self._number:  # out of order: skipped, as openpyxl's own reader skips it
                    continue
                if number > self._limits.max_rows:
                    raise too_many_rows(self._limits.max_rows)
                self._number = number
                yield number, cells
        except IndexError as exc:  # a cell pointing past the shared strings
            raise UnusableFile(
                coded(
                    "missing_shared_string", "第 %(row)s 行附近的单元格引用了不存在的共享字符串", row=self._number + 1
                )
            ) from exc
        except (SyntaxError, ValueError, KeyError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
            # SyntaxError: xml.etree's ParseError; ValueError: a row or cell number that is not one
            raise UnusableFile(
                coded("unreadable_worksheet", "第 %(row)s 行附近的 xlsx 内容无法读取", row=self._number + 1)
            ) from exc

    def rows(self) -> Iterator[tuple[int, tuple]]:
        if self._first is not None and not _blank(self._first[1]):
            yield self._first
        for number, cells in self._rows:
            if not _blank(cells):
                yield number, cells

    def position(self) -> float:
        """Rows read ÷ the sheet's stated size; 0 for a workbook that does not state it (some generators
        omit the dimension; the page then shows the rows counted instead of a share)."""
        return min(self._number / self._max_row, 1.0) if self._max_row else 0.0

    def close(self) -> None:
        self._workbook.close()


def open_sheet(path: str | Path, limits: FileLimits) -> SheetReader:
    """A streaming reader for a .csv or .xlsx file (by its suffix) within ``limits``; UnusableFile for anything
    else or beyond them."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CsvReader(path, limits)
    if suffix == ".xlsx":
        return XlsxReader(path, limits)
    raise UnusableFile(coded("unsupported_file_type", "只支持 csv 和 xlsx 文件"))
