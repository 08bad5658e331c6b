"""Retrieval quality on a labelled question set: recall@5, nDCG@10 and citation accuracy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tier0.rag.corpus.model import LabelledQuestion
from tier0.rag.embeddings import Embedder
from tier0.rag.ingest import IngestReport
from tier0.rag.retrieval import Hit, Mode, Retriever

RECALL_AT = 5
NDCG_AT = 10


@dataclass(frozen=True, slots=True)
class ModeScores:
    """Mean scores of one retrieval mode over the question set (each in 0..1)."""

    mode: Mode
    questions: int
    recall_at_5: float
    ndcg_at_10: float
    citation_accuracy: float


def first_relevant_rank(hits: Sequence[Hit], question: LabelledQuestion) -> int | None:
    """1-based rank of the first hit citing the expected document page, if any."""
    for rank, hit in enumerate(hits, start=1):
        if (hit.citation.document, hit.citation.page) == (question.document, question.page):
            return rank
    return None


def ndcg(rank: int | None, cutoff: int = NDCG_AT) -> float:
    """nDCG with one relevant item (the expected page): 1 / log2(rank + 1) inside the cutoff.

    Later chunks of the same page add nothing: a page is cited once.
    """
    if rank is None or rank > cutoff:
        return 0.0
    return 1.0 / math.log2(rank + 1)


def evaluate(retriever: Retriever, questions: Sequence[LabelledQuestion], mode: Mode) -> ModeScores:
    """Run every question in ``mode`` and average the three metrics."""
    if not questions:
        raise ValueError("no questions to evaluate")
    recall = gain = top1 = 0.0
    for question in questions:
        rank = first_relevant_rank(
            retriever.search(question.question, top_k=NDCG_AT, mode=mode), question
        )
        recall += rank is not None and rank <= RECALL_AT
        gain += ndcg(rank)
        top1 += rank == 1
    count = len(questions)
    return ModeScores(mode, count, recall / count, gain / count, top1 / count)


def evaluate_all(retriever: Retriever, questions: Sequence[LabelledQuestion]) -> list[ModeScores]:
    """Scores for BM25 only, dense only and hybrid, in that order."""
    return [evaluate(retriever, questions, mode) for mode in (Mode.BM25, Mode.DENSE, Mode.HYBRID)]


def evaluate_sample_corpus(
    workdir: Path, embedder: Embedder
) -> tuple[IngestReport, list[ModeScores]]:
    """Write the sample corpus under ``workdir``, bring its index up to date, score all modes.

    The index lives in ``workdir/index`` and is kept, so a second run embeds nothing.
    """
    from tier0.rag.corpus import labelled_questions, write_sample_corpus
    from tier0.rag.ingest import ingest, load_index

    corpus_dir, index_dir = workdir / "corpus", workdir / "index"
    write_sample_corpus(corpus_dir)
    report = ingest([corpus_dir], index_dir=index_dir, embedder=embedder, prune=True)
    retriever = Retriever(load_index(index_dir), embedder)
    return report, evaluate_all(retriever, labelled_questions())
