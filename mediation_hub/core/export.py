"""Spreadsheet exports (xlsx and csv) that are safe to open in Excel or WPS, and never delivered cut short.

Every text cell goes through ``safe_cell``: a value a spreadsheet would read as a formula (starting with
``= + - @``, a tab or a carriage return) gets a leading apostrophe, so a summary typed as
``=cmd|' /C calc'!A0`` is shown as text instead of being run.

``write_spreadsheet`` writes a whole file to a binary target (csv row by row; xlsx through openpyxl's
write-only workbook, whose rows go to a temporary file, never all into memory). A download is only answered
once its file is complete: ``csv_response``/``xlsx_response`` build the file first (in memory up to
``SPOOL_BYTES``, then on disk) and send it with its ``Content-Length``, so an error while the rows are read
is an error page, never a 200 with a file that silently stops, and a connection cut in transit is visible to
the client as a short body. Large exports are written by a background job instead (``mediation_hub.exports``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, BinaryIO, TypeAlias, cast
from urllib.parse import quote

from flask import Response

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
MIMETYPES = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE}
XLSX_MAX_ROWS = 1_048_575  # a worksheet holds 1,048,576 rows, the header included
SPOOL_BYTES = 8 * 1024 * 1024
_CHUNK = 64 * 1024

# What a spreadsheet cell holds once made safe: numbers, dates and booleans as they are, everything else text.
CellValue: TypeAlias = str | bool | int | float | Decimal | date | datetime
Row: TypeAlias = Sequence[object]


def safe_cell(value: object) -> CellValue:
    """A cell value that a spreadsheet shows as written: formula-like text gets a leading apostrophe.

    Numbers, dates and booleans pass through unchanged (they cannot carry a formula); None becomes ""."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _csv_text(value: object) -> str:
    cell = safe_cell(value)
    if isinstance(cell, bool):
        return "是" if cell else "否"
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return str(cell)


def write_csv(target: BinaryIO, header: Sequence[str], rows: Iterable[Row]) -> int:
    """A UTF-8 csv with a byte-order mark (so Excel reads the Chinese text correctly); returns the rows
    written (the header not counted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([_csv_text(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        count += 1
        if buffer.tell() > _CHUNK:
            target.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    target.write(buffer.getvalue().encode("utf-8"))
    return count


def _xlsx_value(value: object) -> str | bool | int | float | date | datetime:
    cell = safe_cell(value)
    if isinstance(cell, Decimal):
        return float(cell)
    return cell


def write_xlsx(target: BinaryIO, header: Sequence[str], rows: Iterable[Row], *, sheet_title: str = "Sheet1") -> int:
    """A write-only workbook with a bold header row; returns the rows written (the header not counted)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    bold = Font(bold=True)
    header_cells = []
    for title in header:
        # the stub leaves out date, which WriteOnlyCell (a Cell) takes like any cell value
        cell = WriteOnlyCell(sheet, value=_xlsx_value(title))  # type: ignore[arg-type]
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    try:
        for row in rows:
            if count == XLSX_MAX_ROWS:
                raise ValueError(f"an xlsx worksheet holds at most {XLSX_MAX_ROWS} rows")
            sheet.append([_xlsx_value(v) for v in row])
            count += 1
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(target)
    return count


def _discard(sheet: WriteOnlyWorksheet) -> None:
    """Close a write-only sheet given up half way and delete its temporary file (openpyxl would keep it until
    the process ends, and later trip over the half-written XML when the sheet is collected)."""
    with contextlib.suppress(Exception):  # already broken: deleting the file below is what matters
        sheet.close()
    writer = getattr(sheet, "_writer", None)
    if writer is not None:
        with contextlib.suppress(OSError, ValueError):
            writer.cleanup()


def write_spreadsheet(
    fmt: str, target: BinaryIO, header: Sequence[str], rows: Iterable[Row], *, sheet_title: str = "Sheet1"
) -> int:
    """The whole file in ``fmt`` ("csv" or "xlsx") written to ``target``; returns the rows written."""
    if fmt == "xlsx":
        return write_xlsx(target, header, rows, sheet_title=sheet_title)
    if fmt == "csv":
        return write_csv(target, header, rows)
    raise ValueError(f"unknown spreadsheet format {fmt!r}")


def spooled_file() -> BinaryIO:
    """A temporary file for a download being built: in memory while small, on disk beyond ``SPOOL_BYTES``."""
    # typeshed types it IO[bytes]; it is a binary file in every way BinaryIO asks for
    return cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))


def file_response(handle: BinaryIO, filename: str, mimetype: str) -> Response:
    """Send a complete file (open, any position) from its start, in chunks, with its ``Content-Length``;
    ``mimetype`` is the whole Content-Type. The handle is closed once sent (or when the client goes away)."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)

    def generate() -> Iterator[bytes]:
        try:
            while chunk := handle.read(_CHUNK):
                yield chunk
        finally:
            handle.close()

    response = Response(
        generate(),
        content_type=mimetype,
        headers={
            "Content-Disposition": content_disposition(filename),
            "Content-Length": str(size),
            "Cache-Control": "no-store",
        },
    )
    response.call_on_close(handle.close)
    return response


def _built_response(fmt: str, filename: str, header: Sequence[str], rows: Iterable[Row], sheet_title: str) -> Response:
    spool = spooled_file()
    try:
        write_spreadsheet(fmt, spool, header, rows, sheet_title=sheet_title)
    except BaseException:
        spool.close()
        raise
    return file_response(spool, filename, MIMETYPES[fmt])


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Row]) -> Response:
    """A csv download, built completely before the answer starts (see the module's docstring)."""
    return _built_response("csv", filename, header, rows, "Sheet1")


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Row], *, sheet_title: str = "Sheet1"
) -> Response:
    """An xlsx download from a write-only workbook, built completely before the answer starts."""
    return _built_response("xlsx", filename, header, rows, sheet_title)
