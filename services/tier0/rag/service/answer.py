"""Turn cited statements into an answer: Cohere chat when keyed, else extractive."""

from __future__ import annotations

import logging

from tier0.rag.cohere_backend import CohereAnswerer, SourcePassage
from tier0.rag.service.models import CitationOut
from tier0.rag.service.sources import SourceResult, Statement

logger = logging.getLogger(__name__)

EXTRACTIVE = "extractive"
EXTRACTIVE_NOTE = (
    "Extractive answer (no language model is configured): the statements below are quoted "
    "or computed from the cited sources, not written by a model."
)
NOTHING_FOUND = "No source returned anything for this question."


def number_citations(results: list[SourceResult]) -> tuple[list[Statement], list[CitationOut]]:
    """Statements in source order, and one numbered citation per statement."""
    statements = [s for result in results for s in result.statements if s.text]
    citations = [
        CitationOut(
            id=number,
            source=s.reference.source,
            document=s.reference.document,
            page=s.reference.page,
            chunk_id=s.reference.chunk_id,
            store=s.reference.store,
            query=s.reference.query,
            filters=s.reference.filters,
        )
        for number, s in enumerate(statements, start=1)
    ]
    return statements, citations


def extractive_answer(statements: list[Statement]) -> str:
    """The note, then each statement followed by its citation number."""
    if not statements:
        return NOTHING_FOUND
    lines = [f"- {s.text} [{n}]" for n, s in enumerate(statements, start=1)]
    return "\n".join([EXTRACTIVE_NOTE, *lines])


def _title(statement: Statement) -> str:
    ref = statement.reference
    if ref.document:
        return f"{ref.document} p.{ref.page}"
    return f"{ref.source.value}: {ref.query} on {ref.store}"


async def synthesise(
    question: str, statements: list[Statement], answerer: CohereAnswerer | None
) -> tuple[str, str]:
    """``(answer, answer_mode)``; falls back to extractive when chat fails."""
    if answerer is None or not statements:
        return extractive_answer(statements), EXTRACTIVE
    passages = [
        SourcePassage(f"[{n}]", _title(s), s.text) for n, s in enumerate(statements, start=1)
    ]
    try:
        text = await answerer.answer(question, passages)
    except Exception:  # the service stays useful when the model is down: say so, and extract
        logger.exception("Cohere chat failed; answering extractively")
        return extractive_answer(statements), EXTRACTIVE
    return text, f"cohere:{answerer.model}"
