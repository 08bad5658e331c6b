"""PDF ingestion: text per page with pypdf, then page-aware chunks."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tier0.rag.chunking import Chunk, chunk_page, clean_text
from tier0.rag.frontmatter import document_title, is_navigation_page
from tier0.rag.settings import ChunkingSettings

logger = logging.getLogger(__name__)

PDF_SUFFIX = ".pdf"
_HASH_BLOCK = 1 << 20


class IngestError(ValueError):
    """A path that cannot be ingested: missing, not a PDF, unreadable or encrypted."""


@dataclass(frozen=True, slots=True)
class PdfSource:
    """A PDF to ingest; ``document`` is the name citations show (relative to the ingest root)."""

    path: Path
    document: str


@dataclass(frozen=True, slots=True)
class PageText:
    """The cleaned text of one page; ``page`` is 1-based."""

    page: int
    text: str


@dataclass(frozen=True, slots=True)
class PdfText:
    """A PDF's title (metadata, else its first line) and the cleaned text of every page."""

    title: str
    pages: list[PageText]


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes: the index re-embeds a document only when this changes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def discover_pdfs(paths: Iterable[Path]) -> list[PdfSource]:
    """PDF files named directly or found under directories, sorted, each with its document name."""
    found: dict[str, PdfSource] = {}
    for root in paths:
        for source in _sources_under(root):
            if source.document in found and found[source.document].path != source.path:
                raise IngestError(f"two files map to document name {source.document!r}")
            found[source.document] = source
    return [found[name] for name in sorted(found)]


def _sources_under(root: Path) -> Iterator[PdfSource]:
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix.lower() == PDF_SUFFIX:
                yield PdfSource(path.resolve(), path.relative_to(root).as_posix())
    elif root.is_file():
        if root.suffix.lower() != PDF_SUFFIX:
            raise IngestError(f"not a PDF file: {root}")
        yield PdfSource(root.resolve(), root.name)
    else:
        raise IngestError(f"no such file or directory: {root}")


def read_pages(path: Path) -> list[PageText]:
    """Text of every page; raises ``IngestError`` for files pypdf cannot read."""
    return read_pdf(path).pages


def read_pdf(path: Path) -> PdfText:
    """Title and page texts; raises ``IngestError`` for files pypdf cannot read."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise IngestError(f"encrypted PDF is not supported: {path}")
        pages = [
            PageText(number, clean_text(page.extract_text() or ""))
            for number, page in enumerate(reader.pages, start=1)
        ]
        metadata = reader.metadata
        title = document_title(metadata.title if metadata else None, pages[0].text if pages else "")
        return PdfText(title, pages)
    except (PdfReadError, OSError, ValueError) as exc:
        if isinstance(exc, IngestError):
            raise
        raise IngestError(f"cannot read PDF {path}: {exc}") from exc


def chunk_pages(
    document: str,
    pages: list[PageText],
    settings: ChunkingSettings | None = None,
    *,
    title: str = "",
) -> list[Chunk]:
    """Chunks of already extracted pages, in page order; no chunk spans two pages.

    Navigation pages (contents, lists of figures and tables) are left out: they name every
    topic of the document but answer none. Each chunk carries ``title`` as its context.
    """
    chunks = [
        c
        for p in pages
        if not is_navigation_page(p.text)
        for c in chunk_page(document, p.page, p.text, settings, context=title)
    ]
    if not chunks:
        logger.warning("no extractable text in %s (scanned PDF?)", document)
    return chunks


def chunk_pdf(source: PdfSource, settings: ChunkingSettings | None = None) -> list[Chunk]:
    """All chunks of one PDF in page order (navigation pages left out)."""
    pdf = read_pdf(source.path)
    return chunk_pages(source.document, pdf.pages, settings, title=pdf.title)
