"""What an import file may hold, checked before openpyxl opens it and while it is read.

A few kilobytes of xlsx can unpack to gigabytes (a zip bomb), to millions of shared strings (openpyxl reads the
whole table when it opens a workbook) or to millions of blank rows; a csv can be one line of many megabytes. Such
a file is refused as a whole with ``UnusableFile`` (a 422 on the ``file`` field naming the limit), before it
takes a worker's memory or time. The limits that depend on the installation are settings (config.py, sized from
what a real import needs: docs/IMPORT.md); the others are bounds no spreadsheet program comes near.

``check_workbook`` reads only the zip's directory, the first bytes of each part and the tags of the
shared-strings table; the row and column limits are applied by the readers as they go (``readers.py``)."""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..core.limits import shown_size
from ..core.messages import coded
from ..errors import ValidationFailed

MB = 1024 * 1024
MAX_PARTS = 1000  # a workbook of one sheet has about ten
MAX_RATIO = 100  # unpacked : packed, of a part above RATIO_FROM; spreadsheets compress about 5-20 : 1
RATIO_FROM = 1 * MB
MAX_OTHER_PART = 16 * MB  # any part but a worksheet and the shared strings (openpyxl reads styles etc. whole)
FIRST_ROW_WITHIN = 2 * MB  # a worksheet's first row ends this near its start (after its column widths, views)
CSV_MAX_LINE = 256 * 1024  # characters of one line of a csv: the longest row of the layout is about 20,000
HEAD = 4096
CHUNK = 1 * MB

_NAME = rb"(?:[A-Za-z_][\w.-]*:)?"  # an element name's optional namespace prefix
_ROOT = re.compile(rb"<(?![?!])" + _NAME + rb"([A-Za-z_][\w.-]*)")
_UNIQUE_COUNT = re.compile(rb"\suniqueCount\s*=\s*[\"'](\d+)[\"']")
_STRING = re.compile(rb"<" + _NAME + rb"si[\s/>]")
_FIRST_ROW_END = re.compile(
    rb"</"
    + _NAME
    + rb"row\s*>|<"
    + _NAME
    + rb"row\b[^>]*/>|<"
    + _NAME
    + rb"sheetData\s*/>|</"
    + _NAME
    + rb"sheetData\s*>"
)


class UnusableFile(ValidationFailed):
    """The file cannot be imported: its format, encoding or header, or a limit. Found before any row is read, or,
    for a row or column limit a sheet does not state or a part damaged further on, where reading stops."""

    def __init__(self, message: str):
        super().__init__({"file": [message]}, message=message)


@dataclass(frozen=True)
class FileLimits:
    """The settings' limits on one import file."""

    max_rows: int  # sheet rows, the header and blank rows included (IMPORT_MAX_ROWS)
    max_columns: int  # IMPORT_MAX_COLUMNS
    max_uncompressed: int  # bytes of all the parts of an xlsx unpacked (XLSX_MAX_UNCOMPRESSED_MB)
    max_shared_strings: int  # XLSX_MAX_SHARED_STRINGS

    @classmethod
    def from_config(cls, config) -> FileLimits:
        return cls(
            max_rows=int(config["IMPORT_MAX_ROWS"]),
            max_columns=int(config["IMPORT_MAX_COLUMNS"]),
            max_uncompressed=int(config["XLSX_MAX_UNCOMPRESSED_MB"]) * MB,
            max_shared_strings=int(config["XLSX_MAX_SHARED_STRINGS"]),
        )

    @classmethod
    def configured(cls) -> FileLimits:
        """The running app's limits."""
        from flask import current_app

        return cls.from_config(current_app.config)


# --- messages (UnusableFile: Chinese through the catalogue, each with its code) ---------------------------------


def too_many_rows(limit: int) -> UnusableFile:
    return UnusableFile(coded("too_many_rows", "工作表超过 %(limit)s 行，请拆分文件", limit=f"{limit:,}"))


def too_many_columns(limit: int) -> UnusableFile:
    return UnusableFile(coded("too_many_columns", "工作表超过 %(limit)s 列", limit=f"{limit:,}"))


def too_many_strings(limit: int) -> UnusableFile:
    return UnusableFile(
        coded(
            "too_many_strings",
            "工作簿中不同的文字超过 %(limit)s 个（共享字符串），请拆分文件或另存为 csv",
            limit=f"{limit:,}",
        )
    )


def line_too_long(line: int) -> UnusableFile:
    return UnusableFile(
        coded("line_too_long", "第 %(line)s 行过长（超过 %(limit)s 个字符）", line=line, limit=f"{CSV_MAX_LINE:,}")
    )


def _unpacked_too_large(limit: int) -> UnusableFile:
    return UnusableFile(
        coded("unpacked_too_large", "xlsx 文件解压后超过 %(size)s，请拆分文件或另存为 csv", size=shown_size(limit))
    )


# --- the zip of an xlsx -------------------------------------------------------------------------------------------


def check_workbook(path: str | Path, limits: FileLimits) -> None:
    """Refuse an xlsx that holds more than its limits allow (``UnusableFile`` naming the limit): too many parts,
    too many bytes unpacked, a part compressed like a zip bomb, a part other than a sheet or the shared strings
    that is too large, more shared strings than ``max_shared_strings``, a worksheet whose first row is not near
    its start (the header check reads up to it)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            _check_sizes(parts, limits)
            for part in parts:
                if not part.is_dir():
                    _check_part(archive, part, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        # not a zip, damaged, encrypted or packed with a method zipfile does not know
        raise UnusableFile(coded("unreadable_xlsx", "无法打开 xlsx 文件")) from exc


def _check_sizes(parts: list[zipfile.ZipInfo], limits: FileLimits) -> None:
    """From the zip's directory alone. zipfile never unpacks more than a part's stated size (a part that holds
    more fails its CRC check), so the stated sizes bound the work."""
    if len(parts) > MAX_PARTS:
        raise UnusableFile(coded("too_many_parts", "xlsx 文件包含超过 %(limit)s 个部件", limit=MAX_PARTS))
    if sum(part.file_size for part in parts) > limits.max_uncompressed:
        raise _unpacked_too_large(limits.max_uncompressed)


def _check_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits: FileLimits) -> None:
    """By what the part is (its root element): the shared strings' stated count (the clearest message for the
    issue's file) before the compression ratio, then what each kind of part may hold."""
    with archive.open(part) as stream:
        head = stream.read(HEAD)
        root = _ROOT.search(head)
        kind = root.group(1) if root else b""
        if kind == b"sst":
            stated = _UNIQUE_COUNT.search(head)
            if stated and int(stated.group(1)) > limits.max_shared_strings:
                raise too_many_strings(limits.max_shared_strings)
        if part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise UnusableFile(
                coded(
                    "compression_ratio_too_high",
                    "xlsx 文件中有部件的压缩比超过 %(ratio)s:1（大量重复的内容，如成片的空行），"
                    "请删除多余的行后重新保存",
                    ratio=MAX_RATIO,
                )
            )
        if kind == b"sst":
            _count_shared_strings(stream, head, limits.max_shared_strings)
        elif kind == b"worksheet":
            if part.file_size > FIRST_ROW_WITHIN:
                _check_first_row(stream, head)
        elif part.file_size > MAX_OTHER_PART:
            raise UnusableFile(
                coded("part_too_large", "xlsx 文件中有部件解压后超过 %(size)s", size=shown_size(MAX_OTHER_PART))
            )


def _count_shared_strings(stream: IO[bytes], head: bytes, limit: int) -> None:
    """The ``<si>`` elements counted (the table's statement of its size may be missing or false), stopping past
    the limit."""
    count = 0
    for text in _tag_aligned(head, stream):
        count += len(_STRING.findall(text))
        if count > limit:
            raise too_many_strings(limit)


def _tag_aligned(head: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in chunks cut just before a ``<``, so that no start tag is split between two chunks."""
    carry = head
    while chunk := stream.read(CHUNK):
        data = carry + chunk
        cut = data.rfind(b"<")
        if cut > 0 and len(data) - cut < 256:
            data, carry = data[:cut], data[cut:]
        else:
            carry = b""
        yield data
    yield carry


def _check_first_row(stream: IO[bytes], head: bytes) -> None:
    """openpyxl reads a worksheet up to its first row to learn its size and to read the header: whatever stands
    before that row is parsed in the request. A real sheet has a few kilobytes there."""
    data = head
    while not _FIRST_ROW_END.search(data):
        if len(data) >= FIRST_ROW_WITHIN:
            raise UnusableFile(
                coded(
                    "first_row_too_far", "工作表的第一行不在工作表开头 %(size)s 之内", size=shown_size(FIRST_ROW_WITHIN)
                )
            )
        chunk = stream.read(CHUNK)
        if not chunk:
            return
        data += chunk
