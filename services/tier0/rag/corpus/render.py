"""Render sample documents to real multi-page PDFs with fpdf2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from tier0.rag.corpus.documents import content_page
from tier0.rag.corpus.model import Figure, SampleDocument, SamplePage, Table

# A fixed creation date keeps the bytes (and so the content hash) identical between runs.
_CREATED = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
_FONT = "Helvetica"
_LINE = 5.0
_CHART_HEIGHT = 45.0


class CorpusLayoutError(RuntimeError):
    """A sample page did not fit on one PDF page, which would break the question labels."""


class _Pdf(FPDF):
    def __init__(self, document: SampleDocument) -> None:
        super().__init__(format="A4")
        self.document = document
        self.set_auto_page_break(auto=True, margin=18)
        self.set_creation_date(_CREATED)
        self.set_title(document.title)
        self.set_author("Tier-0 field operations")

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(_FONT, size=8)
        label = f"{self.document.number} - page {self.page_no()} of {{nb}}"
        self.cell(0, 6, label, align="C")


def render_document(document: SampleDocument, path: Path) -> Path:
    """Write ``document`` to ``path``: a title page, then one PDF page per sample page."""
    pdf = _Pdf(document)
    _title_page(pdf, document)
    for index, page in enumerate(document.pages):
        pdf.add_page()
        _content(pdf, page)
        if pdf.page_no() != content_page(index):
            raise CorpusLayoutError(f"{document.filename}: page {page.heading!r} overflowed")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def _title_page(pdf: _Pdf, document: SampleDocument) -> None:
    pdf.add_page()
    pdf.set_font(_FONT, style="B", size=18)
    pdf.multi_cell(0, 9, document.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=10)
    for label, value in (
        ("Document", document.number),
        ("Device type", document.device_type),
        ("Sites", ", ".join(document.sites)),
    ):
        pdf.multi_cell(0, _LINE, f"{label}: {value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _listing(pdf, "Contents", ((p.heading, i) for i, p in enumerate(document.pages)))
    figures = ((p.figure.caption, i) for i, p in enumerate(document.pages) if p.figure)
    _listing(pdf, "Table of figures", figures)
    tables = ((p.table.title, i) for i, p in enumerate(document.pages) if p.table)
    _listing(pdf, "List of tables", tables)


def _listing(pdf: _Pdf, heading: str, entries: Iterable[tuple[str, int]]) -> None:
    lines = [f"{caption} .... page {content_page(index)}" for caption, index in entries]
    if not lines:
        return
    pdf.ln(4)
    pdf.set_font(_FONT, style="B", size=12)
    pdf.cell(0, 7, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=10)
    for line in lines:
        pdf.cell(0, _LINE, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _content(pdf: _Pdf, page: SamplePage) -> None:
    pdf.set_font(_FONT, style="B", size=13)
    pdf.multi_cell(0, 8, page.heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=10)
    for paragraph in page.paragraphs:
        pdf.multi_cell(0, _LINE, paragraph, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    if page.table:
        _table(pdf, page.table)
    if page.figure:
        _figure(pdf, page.figure)


def _table(pdf: _Pdf, table: Table) -> None:
    pdf.ln(2)
    pdf.set_font(_FONT, style="B", size=10)
    pdf.cell(0, 6, table.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=9)
    with pdf.table(text_align="LEFT", line_height=_LINE) as grid:
        for values in (table.header, *table.rows):
            row = grid.row()
            for value in values:
                row.cell(value)
    pdf.set_font(_FONT, size=10)


def _figure(pdf: _Pdf, figure: Figure) -> None:
    """A bar chart drawn with vector shapes, each bar labelled, captioned underneath."""
    pdf.ln(3)
    left, top = pdf.l_margin + 10, pdf.get_y()
    width = (pdf.w - pdf.l_margin - pdf.r_margin - 20) / len(figure.values)
    peak = max(figure.values) or 1.0
    pdf.set_font(_FONT, size=7)
    pdf.set_fill_color(70, 110, 160)
    for i, (label, value) in enumerate(zip(figure.labels, figure.values, strict=True)):
        height = _CHART_HEIGHT * value / peak
        x = left + i * width
        pdf.rect(x + width * 0.15, top + _CHART_HEIGHT - height, width * 0.7, height, style="F")
        pdf.set_xy(x, top + _CHART_HEIGHT + 1)
        pdf.cell(width, 4, label, align="C")
        pdf.set_xy(x, top + _CHART_HEIGHT - height - 4)
        pdf.cell(width, 4, f"{value:g}", align="C")
    pdf.set_xy(pdf.l_margin, top + _CHART_HEIGHT + 7)
    pdf.set_font(_FONT, style="I", size=9)
    pdf.multi_cell(
        0, _LINE, f"{figure.caption} ({figure.unit})", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_font(_FONT, size=10)
