"""Streaming readers for csv and xlsx: one row at a time, memory independent of the file's size.

A reader yields ``(row_number, cells)`` where ``row_number`` is the row as a person sees it in the
spreadsheet (the header is row 1) and ``cells`` the raw values in column order; ``position()`` tells how far
through the file it is (0..1) for the progress bars. Completely blank rows are skipped but still counted in
the numbering, so the numbers match what Excel or WPS shows.

csv: UTF-8 with or without a byte-order mark, or GB18030 (which includes GBK/GB2312) when the start of the
file is not valid UTF-8. xlsx: the first worksheet, through openpyxl's read-only mode (which parses the
sheet as a stream; only its shared-strings table is held in memory, as the format requires)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

from ..errors import ValidationFailed

SNIFF_BYTES = 256 * 1024
SUFFIXES = (".csv", ".xlsx")


class UnusableFile(ValidationFailed):
    """The file cannot be imported at all (format, encoding, header); no row was looked at."""

    def __init__(self, message: str):
        super().__init__({"file": [message]}, message=message)


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
        raise UnusableFile("文件编码无法识别，请另存为 UTF-8 或 GB18030 编码的 csv (unknown text encoding)") from exc


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
    def __init__(self, path: Path):
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._size = max(Path(path).stat().st_size, 1)
        self.encoding = detect_encoding(self._raw.read(SNIFF_BYTES))
        self._raw.seek(0)
        self._text = io.TextIOWrapper(self._raw, encoding=self.encoding, newline="")
        self._reader = csv.reader(self._text)
        try:
            self.header = next(self._reader)
        except StopIteration as exc:
            self.close()
            raise UnusableFile("文件为空 (the file is empty)") from exc
        except (UnicodeDecodeError, csv.Error) as exc:
            self.close()
            raise UnusableFile(f"无法读取 csv 表头 (unreadable csv header: {exc})") from exc

    def rows(self) -> Iterator[tuple[int, tuple]]:
        number = 1
        try:
            for record in self._reader:
                number += 1
                if not _blank(record):
                    yield number, tuple(record)
        except UnicodeDecodeError as exc:
            raise UnusableFile(f"第 {number + 1} 行附近的文字编码与文件开头不一致 ({self.encoding}): {exc}") from exc
        except csv.Error as exc:
            raise UnusableFile(f"第 {number + 1} 行附近的 csv 格式错误: {exc}") from exc

    def position(self) -> float:
        return min(self._raw.tell() / self._size, 1.0)

    def close(self) -> None:
        self._raw.close()


class XlsxReader(SheetReader):
    def __init__(self, path: Path):
        from openpyxl import load_workbook

        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # zipfile/XML errors of every kind: the file is not a workbook
            raise UnusableFile(f"无法打开 xlsx 文件 (not a readable xlsx workbook: {type(exc).__name__})") from exc
        sheet = self._book.worksheets[0]
        self._max_row = sheet.max_row or 0
        self._rows = sheet.iter_rows(values_only=True)
        self._number = 0
        try:
            self.header = list(next(self._rows))
            self._number = 1
        except StopIteration as exc:
            self.close()
            raise UnusableFile("工作表为空 (the first worksheet is empty)") from exc

    def rows(self) -> Iterator[tuple[int, tuple]]:
        for cells in self._rows:
            self._number += 1
            if not _blank(cells):
                yield self._number, cells

    def position(self) -> float:
        """Rows read ÷ the sheet's stated size; 0 for a workbook that does not state it (some generators
        omit the dimension; the page then shows the rows counted instead of a share)."""
        return min(self._number / self._max_row, 1.0) if self._max_row else 0.0

    def close(self) -> None:
        self._book.close()


def open_sheet(path: str | Path) -> SheetReader:
    """A streaming reader for a .csv or .xlsx file (by its suffix); UnusableFile for anything else."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CsvReader(path)
    if suffix == ".xlsx":
        return XlsxReader(path)
    raise UnusableFile(f"只支持 csv 和 xlsx 文件 (only .csv and .xlsx files can be imported, not {suffix or 'this'})")
