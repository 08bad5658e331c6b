"""Hybrid retrieval: BM25 and dense rankings fused by reciprocal rank fusion, with citations."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from tier0.rag.embeddings import Embedder
from tier0.rag.index import HybridIndex, set_search_threads
from tier0.rag.settings import RetrievalSettings

logger = logging.getLogger(__name__)


class Mode(StrEnum):
    """Which rankings a search uses."""

    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a hit comes from: the document (as ingested), its 1-based page and the chunk."""

    document: str
    page: int
    chunk_id: str


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved chunk; ``score`` is BM25, cosine or fused RRF depending on the mode."""

    citation: Citation
    score: float
    text: str
    bm25_rank: int | None = None
    dense_rank: int | None = None


class Reranker(Protocol):
    """Re-orders candidate passages for a query (Cohere rerank when keyed)."""

    def rerank(self, query: str, passages: Sequence[str], top_n: int) -> list[tuple[int, float]]:
        """``(position in passages, relevance)`` of the ``top_n`` best passages, best first."""
        ...


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]],
    k: int = 60,
    tiebreak: Mapping[int, float] | None = None,
) -> list[tuple[int, float]]:
    """Fuse rankings of item ids: score = sum of 1 / (k + rank), rank starting at 1.

    With two rankings, ties are common by construction: ranks (1, 2) and (2, 1) fuse to the same
    score. They are broken by ``tiebreak`` (higher first; the summed normalised scores, i.e. how
    far ahead each ranking put the item), then by the item's best rank and its id, so the result
    is deterministic.
    """
    scores: dict[int, float] = {}
    best: dict[int, int] = {}
    extra = tiebreak or {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
            best[item] = min(best.get(item, rank), rank)
    return sorted(
        scores.items(),
        key=lambda pair: (-pair[1], -extra.get(pair[0], 0.0), best[pair[0]], pair[0]),
    )


def relative_scores(scored: Sequence[tuple[int, float]]) -> dict[int, float]:
    """Min-max normalise one ranking's scores to 0..1 (all 1.0 when they are equal)."""
    if not scored:
        return {}
    low = min(score for _, score in scored)
    span = max(score for _, score in scored) - low
    return {row: (score - low) / span if span > 0 else 1.0 for row, score in scored}


class Retriever:
    """Searches one ``HybridIndex`` with the embedder that built it."""

    def __init__(
        self,
        index: HybridIndex,
        embedder: Embedder,
        settings: RetrievalSettings | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        if embedder.model_id != index.model_id:
            raise ValueError(
                f"index was built with {index.model_id!r}, embedder is {embedder.model_id!r}"
            )
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.reranker = reranker
        set_search_threads(self.settings.search_threads)

    def search(
        self, query: str, *, top_k: int | None = None, mode: Mode = Mode.HYBRID
    ) -> list[Hit]:
        """The ``top_k`` best chunks for ``query``, best first, each with its citation."""
        if not query.strip():
            raise ValueError("query is empty")
        k = top_k or self.settings.top_k
        if k < 1:
            raise ValueError("top_k must be at least 1")
        pool = max(k, self.settings.candidates)
        lexical = self.index.search_lexical(query, pool) if mode != Mode.DENSE else []
        dense = self._dense(query, pool) if mode != Mode.BM25 else []
        if mode == Mode.BM25:
            return [
                self._hit(row, score, bm25_rank=i) for i, (row, score) in enumerate(lexical[:k], 1)
            ]
        if mode == Mode.DENSE:
            return [
                self._hit(row, score, dense_rank=i) for i, (row, score) in enumerate(dense[:k], 1)
            ]
        fused = self._fuse(lexical, dense, max(k, self.settings.rerank_candidates))
        return self._rerank(query, fused, k) if self.reranker else fused[:k]

    def _dense(self, query: str, pool: int) -> list[tuple[int, float]]:
        return self.index.search_dense(self.embedder.embed_query(query), pool)

    def _fuse(
        self, lexical: list[tuple[int, float]], dense: list[tuple[int, float]], k: int
    ) -> list[Hit]:
        lexical_rows = [row for row, _ in lexical]
        dense_rows = [row for row, _ in dense]
        lexical_rank = {row: i for i, row in enumerate(lexical_rows, start=1)}
        dense_rank = {row: i for i, row in enumerate(dense_rows, start=1)}
        tiebreak: dict[int, float] = {}
        if self.settings.score_tiebreak:
            tiebreak = relative_scores(lexical)
            for row, score in relative_scores(dense).items():
                tiebreak[row] = tiebreak.get(row, 0.0) + score
        fused = reciprocal_rank_fusion([lexical_rows, dense_rows], self.settings.rrf_k, tiebreak)
        return [
            self._hit(row, score, bm25_rank=lexical_rank.get(row), dense_rank=dense_rank.get(row))
            for row, score in fused[:k]
        ]

    def _rerank(self, query: str, fused: list[Hit], k: int) -> list[Hit]:
        """Let the reranker re-order the fused candidates; its relevance becomes the score."""
        assert self.reranker is not None
        order = self.reranker.rerank(query, [hit.text for hit in fused], min(k, len(fused)))
        return [replace(fused[position], score=relevance) for position, relevance in order]

    def _hit(
        self, row: int, score: float, *, bm25_rank: int | None = None, dense_rank: int | None = None
    ) -> Hit:
        chunk = self.index.chunks[row]
        citation = Citation(chunk.document, chunk.page, chunk.chunk_id)
        return Hit(citation, score, chunk.text, bm25_rank, dense_rank)
