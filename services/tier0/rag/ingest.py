"""Ingestion: find PDFs, skip the unchanged ones by content hash, embed the rest, save."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tier0.rag.embeddings import Embedder
from tier0.rag.index import (
    DocumentRecord,
    HybridIndex,
    IndexFormatError,
    IndexVersionError,
    index_exists,
)
from tier0.rag.pdf import PdfSource, chunk_pages, content_hash, discover_pdfs, read_pdf
from tier0.rag.settings import ChunkingSettings

logger = logging.getLogger(__name__)


class IngestProgress(Protocol):
    """Told about each document as ingestion goes (the CLI draws a progress bar with it)."""

    def started(self, total: int) -> None:
        """``total`` documents will be looked at."""

    def document_done(self, document: str, status: str) -> None:
        """One document is done; ``status`` is ``added``, ``updated`` or ``unchanged``."""


@dataclass
class IngestReport:
    """What one ingestion run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether the index on disk was rewritten."""
        return bool(self.added or self.updated or self.removed)

    @property
    def pages_per_second(self) -> float:
        """Pages read and embedded per second of this run."""
        return self.pages / self.seconds if self.seconds > 0 else 0.0


def open_index(directory: Path, embedder: Embedder) -> HybridIndex:
    """The saved index, or a new empty one when there is none or it used another model."""
    if not index_exists(directory):
        return HybridIndex(model_id=embedder.model_id, dimension=embedder.dimension)
    try:
        index = HybridIndex.load(directory)
    except IndexVersionError as exc:
        logger.warning("%s; re-ingesting everything", exc)
        return HybridIndex(model_id=embedder.model_id, dimension=embedder.dimension)
    if (index.model_id, index.dimension) != (embedder.model_id, embedder.dimension):
        logger.warning("index %s used %s; re-embedding everything", directory, index.model_id)
        return HybridIndex(model_id=embedder.model_id, dimension=embedder.dimension)
    return index


def load_index(directory: Path) -> HybridIndex:
    """The saved index for searching; raises ``IndexFormatError`` if there is none."""
    if not index_exists(directory):
        raise IndexFormatError(f"no index in {directory}: run 'tier0 rag ingest' first")
    return HybridIndex.load(directory)


def ingest(
    paths: Iterable[Path],
    *,
    index_dir: Path,
    embedder: Embedder,
    chunking: ChunkingSettings | None = None,
    prune: bool = False,
    progress: IngestProgress | None = None,
) -> IngestReport:
    """Bring the index in ``index_dir`` up to date with the PDFs under ``paths``.

    Only documents whose bytes changed are read and embedded. With ``prune``, documents no
    longer found under ``paths`` are dropped. The index is saved only when something changed.
    """
    started = time.perf_counter()
    sources = discover_pdfs(paths)
    index = open_index(index_dir, embedder)
    report = IngestReport()
    if progress:
        progress.started(len(sources))
    for source in sources:
        status = _ingest_one(index, source, embedder, chunking, report)
        if progress:
            progress.document_done(source.document, status)
    if prune:
        _prune(index, {s.document for s in sources}, report)
    if report.changed or not index_exists(index_dir):
        index.rebuild()
        index.save(index_dir)
    report.seconds = time.perf_counter() - started
    return report


def _ingest_one(
    index: HybridIndex,
    source: PdfSource,
    embedder: Embedder,
    chunking: ChunkingSettings | None,
    report: IngestReport,
) -> str:
    digest = content_hash(source.path)
    known = index.documents.get(source.document)
    if known is not None and known.sha256 == digest:
        report.unchanged.append(source.document)
        return "unchanged"
    pdf = read_pdf(source.path)
    pages = pdf.pages
    chunks = chunk_pages(source.document, pages, chunking, title=pdf.title)
    vectors = embedder.embed_documents([chunk.indexed_text for chunk in chunks])
    record = DocumentRecord(source.document, str(source.path), digest, len(pages), len(chunks))
    index.put_document(record, chunks, vectors)
    report.pages += len(pages)
    report.chunks += len(chunks)
    status = "added" if known is None else "updated"
    (report.added if known is None else report.updated).append(source.document)
    logger.info("%s %s: %d pages, %d chunks", status, source.document, len(pages), len(chunks))
    return status


def _prune(index: HybridIndex, seen: set[str], report: IngestReport) -> None:
    for document in sorted(set(index.documents) - seen):
        index.remove_document(document)
        report.removed.append(document)
