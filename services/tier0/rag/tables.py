"""Rich tables shared by the ``tier0 rag`` commands and the RAG benchmark."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from tier0.rag.evaluation import ModeScores


def quality_table(scores: Sequence[ModeScores], *, title: str = "Retrieval quality") -> Table:
    """One row per retrieval mode: recall@5, nDCG@10, citation accuracy."""
    questions = scores[0].questions if scores else 0
    table = Table(title=f"{title} ({questions} labelled questions)")
    table.add_column("mode")
    for name in ("recall@5", "nDCG@10", "citation accuracy"):
        table.add_column(name, justify="right")
    for item in scores:
        table.add_row(
            item.mode.value,
            f"{item.recall_at_5:.3f}",
            f"{item.ndcg_at_10:.3f}",
            f"{item.citation_accuracy:.3f}",
        )
    return table
