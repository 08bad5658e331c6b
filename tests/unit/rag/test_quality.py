"""The hybrid ranking must be at least as good as the better of its two inputs."""

from __future__ import annotations

from tier0.rag.corpus import labelled_questions
from tier0.rag.evaluation import evaluate_all
from tier0.rag.retrieval import Mode, Retriever


def test_hybrid_ndcg_is_at_least_the_best_single_ranking(retriever: Retriever) -> None:
    scores = {s.mode: s for s in evaluate_all(retriever, labelled_questions())}
    best_single = max(scores[Mode.BM25].ndcg_at_10, scores[Mode.DENSE].ndcg_at_10)
    assert scores[Mode.HYBRID].ndcg_at_10 >= best_single
    assert scores[Mode.HYBRID].recall_at_5 == 1.0


def test_navigation_pages_are_never_cited(retriever: Retriever) -> None:
    # Every sample document opens with its title block, contents and lists on page 1.
    assert all(chunk.page > 1 for chunk in retriever.index.chunks)
