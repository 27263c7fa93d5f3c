"""Printing a ``blocks.Doc``: an A4 PDF with an embedded CJK font (Typst), PNG pages (the previews in
docs/documents/), and a DOCX for editing (``docx_writer``).

Typst typesets the one interpreter ``typst/document.typ``; the document arrives as JSON in ``sys.inputs`` and
is never spliced into markup. Fonts come only from the folders in ``DOCUMENT_FONT_PATHS`` (Debian's
fonts-noto-cjk, fonts-wqy-zenhei), never from the system at large, so the same content gives the same bytes
on every machine with the same fonts: ``date: none`` and a fixed timestamp keep the time out of the file."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import current_app

from ..core.messages import coded
from ..errors import Unavailable
from .blocks import Doc, canonical

TEMPLATE = Path(__file__).parent / "typst" / "document.typ"
CJK_FAMILIES = ("Noto Serif CJK SC", "WenQuanYi Zen Hei")
DEFAULT_FONT_PATHS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/wqy")
FIXED_TIMESTAMP = 0  # no creation time in the file: the bytes depend on the content only

_local = threading.local()


def font_paths() -> list[str]:
    """The font folders of ``DOCUMENT_FONT_PATHS`` (colon-separated) that exist."""
    paths = current_app.config.get("DOCUMENT_FONT_PATHS") or ":".join(DEFAULT_FONT_PATHS)
    return [p for p in paths.split(":") if p and Path(p).is_dir()]


def _compiler():
    """One Typst compiler per thread (it keeps the fonts and a cache of what it laid out before)."""
    import typst

    paths = tuple(font_paths())
    cached = getattr(_local, "compiler", None)
    if cached is None or cached[0] != paths:
        fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=list(paths))
        if not any(family in fonts.families() for family in CJK_FAMILIES):
            raise Unavailable(coded("document_font_missing", "服务器缺少中文字体，暂时无法生成文书"))
        cached = (
            paths,
            typst.Compiler(str(TEMPLATE), root=str(TEMPLATE.parent), font_paths=fonts, ignore_system_fonts=True),
        )
        _local.compiler = cached
    return cached[1]


def _inputs(doc: Doc, digest: str) -> dict[str, str]:
    content = doc.content() | {"digest": digest}
    return {"doc": canonical(content).decode()}


def pdf(doc: Doc, digest: str) -> bytes:
    return _compiler().compile(format="pdf", sys_inputs=_inputs(doc, digest), timestamp=FIXED_TIMESTAMP)


def png_pages(doc: Doc, digest: str, ppi: float = 110) -> list[bytes]:
    pages = _compiler().compile(format="png", ppi=ppi, sys_inputs=_inputs(doc, digest))
    return pages if isinstance(pages, list) else [pages]


def page_count(data: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)
