"""Plain data describing the sample corpus; ``render`` turns it into PDFs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Table:
    """A data table printed under a page's text."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """A captioned bar chart; figures are listed in the document's table of figures."""

    caption: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    unit: str


@dataclass(frozen=True, slots=True)
class Question:
    """A question the page answers; ``evidence`` must appear verbatim in the page's text."""

    text: str
    evidence: str


@dataclass(frozen=True, slots=True)
class SamplePage:
    """Exactly one PDF page."""

    heading: str
    paragraphs: tuple[str, ...]
    table: Table | None = None
    figure: Figure | None = None
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True, slots=True)
class SampleDocument:
    """A runbook, manual or report; ``pages[0]`` follows the title block and table of figures."""

    filename: str
    number: str
    title: str
    device_type: str
    sites: tuple[str, ...]
    pages: tuple[SamplePage, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class LabelledQuestion:
    """An evaluation item: the question and the document page that answers it."""

    question: str
    document: str
    page: int
    evidence: str
