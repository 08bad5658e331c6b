"""Document passages from the hybrid index, each cited by document, page and chunk."""

from __future__ import annotations

import asyncio
import re

from tier0.rag.retrieval import Hit, Retriever
from tier0.rag.service.models import Source
from tier0.rag.service.routing import words
from tier0.rag.service.sources import Reference, SourceResult, Statement

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
MAX_STATEMENT_CHARS = 500
SENTENCES_PER_HIT = 2
_STOP = frozenset(
    {
        *("a", "an", "and", "are", "at", "be", "by", "do", "does", "for", "from", "how"),
        *("in", "is", "it", "of", "on", "or", "should", "the", "to", "was", "were", "what"),
        *("when", "where", "which", "who", "why", "with"),
    }
)
_SUFFIXES = ("ing", "ed", "es", "s")


def _stem(word: str) -> str:
    """Crude suffix stripping, enough for "changed" to meet "change"."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def _terms(text: str) -> set[str]:
    return {_stem(w) for w in words(text) if w not in _STOP}


def best_sentence(question: str, text: str) -> str:
    """The sentences of ``text`` sharing most terms with the question, in text order."""
    wanted = _terms(question)
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(wanted & _terms(sentences[i])), i))
    chosen = sorted(ranked[:SENTENCES_PER_HIT])
    return " ".join(sentences[i] for i in chosen)[:MAX_STATEMENT_CHARS]


def hit_statement(question: str, hit: Hit) -> Statement:
    """A cited statement for one retrieved chunk."""
    cite = hit.citation
    reference = Reference(Source.DOCUMENTS, cite.document, cite.page, cite.chunk_id)
    return Statement(best_sentence(question, hit.text), reference)


async def answer_from_documents(retriever: Retriever, question: str, top_k: int) -> SourceResult:
    """Search in a worker thread (embedding is CPU work) and cite the best sentence per hit."""
    hits = await asyncio.to_thread(retriever.search, question, top_k=top_k)
    result = SourceResult(Source.DOCUMENTS)
    result.statements = [hit_statement(question, hit) for hit in hits]
    result.figures = {
        "hits": [
            {"document": h.citation.document, "page": h.citation.page, "score": round(h.score, 4)}
            for h in hits
        ]
    }
    return result
