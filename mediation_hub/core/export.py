"""Spreadsheet exports (xlsx and csv) that are safe to open in Excel or WPS.

Every text cell goes through ``safe_cell``: a value a spreadsheet would read as a formula (starting with
``= + - @``, a tab or a carriage return) gets a leading apostrophe, so a summary typed as
``=cmd|' /C calc'!A0`` is shown as text instead of being run. Both writers stream: csv row by row, xlsx
through openpyxl's write-only workbook (rows go to a temporary file, never all into memory).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from flask import Response, stream_with_context

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CHUNK = 64 * 1024


def safe_cell(value):
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


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _csv_text(value) -> str:
    value = safe_cell(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """Stream a UTF-8 csv with a byte-order mark (so Excel reads the Chinese text correctly)."""

    def generate() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([_csv_text(h) for h in header])
        for row in rows:
            writer.writerow([_csv_text(v) for v in row])
            if buffer.tell() > _CHUNK:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _disposition(filename), "Cache-Control": "no-store"})


def _xlsx_value(value):
    value = safe_cell(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def xlsx_response(filename: str, header: Sequence[str], rows: Iterable[Sequence], *,
                  sheet_title: str = "Sheet1") -> Response:
    """Write a write-only workbook to a temporary file and stream the file back in chunks."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    bold = Font(bold=True)
    header_cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=_xlsx_value(title))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the generator once sent
    workbook.save(spool)
    size = spool.tell()
    spool.seek(0)

    def generate() -> Iterator[bytes]:
        try:
            while chunk := spool.read(_CHUNK):
                yield chunk
        finally:
            spool.close()

    return Response(generate(), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": _disposition(filename), "Content-Length": str(size),
                             "Cache-Control": "no-store"})
