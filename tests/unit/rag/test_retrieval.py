"""Retrieval on the sample corpus: the right cited page for known questions, in every mode."""

from __future__ import annotations

import pytest

from tier0.rag.corpus import labelled_questions
from tier0.rag.evaluation import evaluate, first_relevant_rank, ndcg
from tier0.rag.index import HybridIndex
from tier0.rag.retrieval import Mode, Retriever, reciprocal_rank_fusion
from tier0.rag.settings import RetrievalSettings


def test_rrf_rewards_agreement_and_is_deterministic() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [4, 2, 5]], k=60)
    assert [item for item, _ in fused] == [2, 1, 4, 3, 5]
    assert [score for _, score in fused] == pytest.approx([2 / 62, 1 / 61, 1 / 61, 1 / 63, 1 / 63])
    assert [item for item, _ in reciprocal_rank_fusion([[5], [6]])] == [5, 6]
    assert reciprocal_rank_fusion([]) == []


@pytest.mark.parametrize(
    ("query", "document", "page"),
    [
        (
            "What is the flaring limit per well at ND-RAVEN?",
            "OPS-RB-204-wellsite-operations-runbook.pdf",
            5,
        ),
        (
            "What caused the standby engine at AK-NORTH to fail to start?",
            "INC-2026-022-AK-NORTH-engine-cold-start-failure.pdf",
            3,
        ),
        (
            "rescue drill times at the wind sites",
            "SAF-2026-Q3-quarterly-safety-report.pdf",
            4,
        ),
    ],
)
def test_hybrid_cites_the_page_that_answers(
    retriever: Retriever, query: str, document: str, page: int
) -> None:
    hits = retriever.search(query, top_k=3)
    assert (document, page) in {(h.citation.document, h.citation.page) for h in hits}
    for hit in hits:
        chunk = next(c for c in retriever.index.chunks if c.chunk_id == hit.citation.chunk_id)
        assert (chunk.document, chunk.page, chunk.text) == (
            hit.citation.document,
            hit.citation.page,
            hit.text,
        )


@pytest.mark.parametrize("mode", list(Mode))
def test_every_mode_finds_the_labelled_pages(retriever: Retriever, mode: Mode) -> None:
    scores = evaluate(retriever, labelled_questions(), mode)
    assert scores.questions >= 40
    assert scores.recall_at_5 >= 0.9
    assert scores.citation_accuracy >= 0.7
    assert scores.citation_accuracy <= scores.recall_at_5


def test_hybrid_hits_carry_both_ranks_and_fused_scores(retriever: Retriever) -> None:
    hits = retriever.search("gearbox oil temperature trip", top_k=8)
    assert len(hits) == 8
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert any(h.bm25_rank and h.dense_rank for h in hits)
    bm25 = retriever.search("gearbox oil temperature trip", top_k=8, mode=Mode.BM25)
    assert all(h.dense_rank is None and h.bm25_rank for h in bm25)


def test_top_k_comes_from_settings_when_not_given(
    sample_index: HybridIndex, retriever: Retriever
) -> None:
    narrow = Retriever(sample_index, retriever.embedder, RetrievalSettings(top_k=2))
    assert len(narrow.search("slip ring brushes")) == 2


def test_unknown_words_give_no_bm25_hits_but_dense_still_answers(retriever: Retriever) -> None:
    assert retriever.search("zxqvw plorf", mode=Mode.BM25) == []
    assert len(retriever.search("zxqvw plorf", mode=Mode.DENSE)) == 5


def test_bad_queries_are_refused(retriever: Retriever, sample_index: HybridIndex) -> None:
    with pytest.raises(ValueError, match="empty"):
        retriever.search("   ")
    with pytest.raises(ValueError, match="top_k"):
        retriever.search("pump", top_k=-1)
    stranger = HybridIndex(model_id="other", dimension=sample_index.dimension)
    with pytest.raises(ValueError, match="other"):
        Retriever(stranger, retriever.embedder)


def test_metrics_follow_their_definitions(retriever: Retriever) -> None:
    question = labelled_questions()[0]
    hits = retriever.search(question.question, top_k=10)
    rank = first_relevant_rank(hits, question)
    assert rank is not None
    assert hits[rank - 1].citation.page == question.page
    assert ndcg(1) == 1.0
    assert ndcg(3) == pytest.approx(0.5)
    assert ndcg(None) == ndcg(11) == 0.0
    with pytest.raises(ValueError, match="no questions"):
        evaluate(retriever, [], Mode.HYBRID)
