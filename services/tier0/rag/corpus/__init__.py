"""A sample corpus for the RAG service: field runbooks, equipment manuals, incident and safety
reports as real multi-page PDFs, with a labelled question set (question -> document, page).

The text is Tier-0's own, written for evaluation; sites and device types match the platform's.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tier0.rag.corpus.documents import SAMPLE_DOCUMENTS, labelled_questions
from tier0.rag.corpus.model import LabelledQuestion, SampleDocument

logger = logging.getLogger(__name__)

__all__ = [
    "SAMPLE_DOCUMENTS",
    "LabelledQuestion",
    "SampleDocument",
    "labelled_questions",
    "write_sample_corpus",
]


def write_sample_corpus(
    directory: Path, documents: tuple[SampleDocument, ...] = SAMPLE_DOCUMENTS
) -> list[Path]:
    """Render every sample document into ``directory`` (created if needed); returns the paths."""
    from tier0.rag.corpus.render import render_document

    directory.mkdir(parents=True, exist_ok=True)
    paths = [render_document(doc, directory / doc.filename) for doc in documents]
    logger.info("wrote %d sample PDFs to %s", len(paths), directory)
    return paths
