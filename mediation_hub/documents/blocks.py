"""The shape a document is built in before it is rendered: a title, a number and a list of blocks.

Each builder (``mediation``, ``legal_aid``) returns a ``Doc``; ``render`` prints it as a PDF (Typst) or a DOCX
(python-docx). Blocks are plain dicts so that a document is JSON: the same content hashes to the same digest
(``digest``), and a value is always text, never markup. An empty value prints as a blank line to fill in by
hand: the hub never invents what it has not recorded.

Block types (``t``):

- ``heading`` {text}; ``para`` {text, indent}: a text, line breaks kept; ``note`` {text}: small print;
- ``kv`` {items: [[label, value]]}: "label：value" lines (a party's particulars);
- ``fields`` {rows: [[[label, value], …]], columns}: a form grid (登记表), the last pair of a row spans it;
- ``table`` {head, rows, widths}: a table whose header repeats on every page;
- ``list`` {items, numbered};
- ``signatures`` {rows: [{label, name, print}]}: a line to sign and date, and a box for the fingerprint;
- ``seal`` {org, date, label}: the organisation's name, the seal circle and the date;
- ``space`` {em}; ``pagebreak``;
- ``cover`` {title, rows}; ``toc`` {entries: [{title, number, ref}]}; ``document`` {ref, doc}: the 卷宗.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass
class Doc:
    title: str
    blocks: list[dict] = field(default_factory=list)
    number: str | None = None
    subtitle: str | None = None
    copy_note: str | None = None
    footer: str = ""  # small print before the digest: the case number
    author: str = ""  # the organisation, in the PDF's metadata
    cover: bool = False  # the 卷宗: no title block, its first block is the cover

    def add(self, *blocks: dict | None) -> Doc:
        self.blocks.extend(b for b in blocks if b)
        return self

    def content(self) -> dict:
        return {
            "title": self.title,
            "subtitle": self.subtitle,
            "number": self.number,
            "copy_note": self.copy_note,
            "footer": self.footer,
            "author": self.author,
            "cover": self.cover,
            "blocks": self.blocks,
        }

    def digest(self) -> str:
        """SHA-256 of the content as printed: printed in the footer, so a signed paper names its file."""
        return hashlib.sha256(canonical(self.content())).hexdigest()


def canonical(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def text(value) -> str:
    return "" if value is None else str(value)


def chinese_date(value: date | None) -> str:
    """2026年12月7日, as official documents write dates; empty (a blank to fill in) when unknown."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def yuan(value) -> str:
    if value is None:
        return ""
    return f"{value:,.2f} 元"


def heading(value: str) -> dict:
    return {"t": "heading", "text": value}


def para(value, *, indent: bool = True) -> dict | None:
    return {"t": "para", "text": text(value), "indent": indent} if text(value).strip() else None


def note(value: str) -> dict:
    return {"t": "note", "text": value}


def kv(*items: tuple[str, object]) -> dict:
    return {"t": "kv", "items": [[label, text(value)] for label, value in items]}


def fields(*rows: Sequence[tuple[str, object]], columns: int = 4) -> dict:
    return {"t": "fields", "columns": columns, "rows": [[[label, text(value)] for label, value in row] for row in rows]}


def table(head: list[str], rows: list[list], widths: list | None = None) -> dict:
    return {"t": "table", "head": head, "rows": [[text(c) for c in row] for row in rows], "widths": widths}


def items(values: list[str], *, numbered: bool = True) -> dict:
    return {"t": "list", "items": [text(v) for v in values], "numbered": numbered}


def signatures(*rows: tuple[str, str | None], fingerprint: bool = True) -> dict:
    return {"t": "signatures", "rows": [{"label": label, "name": name, "print": fingerprint} for label, name in rows]}


def seal(org: str, on: date | None = None, label: str = "（盖章）") -> dict:
    return {"t": "seal", "org": org, "date": chinese_date(on) or None, "label": label}


def space(em: float = 1) -> dict:
    return {"t": "space", "em": em}


def pagebreak() -> dict:
    return {"t": "pagebreak"}
