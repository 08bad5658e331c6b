"""RAG retrieval benchmark: ingest speed, search latency at scale, and retrieval quality.

Run from the repository root with ``.venv/bin/python -m benchmarks.rag`` (or
``.venv/bin/python benchmarks/rag``). It prints three tables:

* ingest: the sample corpus (real PDFs) through pypdf, chunking and the local ONNX model;
* latency: p50/p95 per query at 10K and 100K chunks (the sample corpus plus synthetic filler
  chunks built from its vocabulary; filler vectors are random unit vectors, because embedding
  100K chunks would take hours on two cores and a flat index's cost does not depend on the
  values). The baseline, measured in the same run, is exact search by a numpy matrix product;
* quality: recall@5, nDCG@10 and citation accuracy for BM25, dense and hybrid retrieval, with
  the ratio against BM25 alone;
* ablation: nDCG@10 per mode as each quality change is added (navigation pages left out, title
  as chunk context, score tie-break in the fusion), from the original index to the current one.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from benchmarks.rag.ablation import ablation_table
from rich.console import Console
from rich.table import Table

from tier0.rag.chunking import Chunk, chunk_id
from tier0.rag.corpus import labelled_questions, write_sample_corpus
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.rag.evaluation import evaluate_all
from tier0.rag.index import DocumentRecord, HybridIndex
from tier0.rag.ingest import IngestReport, ingest, load_index
from tier0.rag.lexical import tokenize
from tier0.rag.retrieval import Mode, Retriever
from tier0.rag.tables import quality_table

console = Console(highlight=False)
FILLER_WORDS = 180


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile of ``samples`` (milliseconds in, milliseconds out)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def filler_chunks(index: HybridIndex, count: int, seed: int) -> tuple[list[Chunk], np.ndarray]:
    """``count`` synthetic chunks: words drawn Zipf-like from the corpus, random unit vectors."""
    rng = np.random.default_rng(seed)
    vocabulary = sorted({t for tokens in tokenize([c.text for c in index.chunks]) for t in tokens})
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)
    words = rng.choice(vocabulary, size=(count, FILLER_WORDS), p=weights / weights.sum())
    chunks = []
    for row in range(count):
        text = " ".join(words[row])
        chunks.append(
            Chunk(
                chunk_id("filler.pdf", row // 3 + 1, 0, text), "filler.pdf", row // 3 + 1, 0, text
            )
        )
    vectors = rng.standard_normal((count, index.dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return chunks, vectors


def scaled_index(base: HybridIndex, total: int) -> tuple[HybridIndex, float]:
    """The sample index plus filler up to ``total`` chunks, and its build time in seconds."""
    index = HybridIndex(model_id=base.model_id, dimension=base.dimension)
    for name, record in base.documents.items():
        rows = [i for i, c in enumerate(base.chunks) if c.document == name]
        index.put_document(record, [base.chunks[i] for i in rows], base.vectors[rows])
    chunks, vectors = filler_chunks(base, total - len(base), seed=total)
    index.put_document(
        DocumentRecord("filler.pdf", "-", "-", len(chunks) // 3, len(chunks)), chunks, vectors
    )
    started = time.perf_counter()
    index.rebuild()
    return index, time.perf_counter() - started


def latency_rows(
    base: HybridIndex, embedder: LocalOnnxEmbedder, sizes: list[int], queries: int
) -> Table:
    """Per-query latency at each size, for each mode, against an exact numpy search baseline."""
    questions = [q.question for q in labelled_questions()][:queries]
    table = Table(title=f"Search latency per query ({len(questions)} queries, top 5)")
    for column in ("chunks", "build s", "what", "p50 ms", "p95 ms", "p50 vs numpy"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for size in sizes:
        index, build = scaled_index(base, size)
        rows = measure(Retriever(index, embedder), questions)
        base_p50 = percentile(rows["numpy exact (baseline)"], 0.5)
        for name, samples in rows.items():
            p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
            ratio = f"{p50 / base_p50:.2f}x"
            table.add_row(f"{size:,}", f"{build:.1f}", name, f"{p50:.2f}", f"{p95:.2f}", ratio)
    return table


def measure(retriever: Retriever, questions: list[str]) -> dict[str, list[float]]:
    """Latency samples (ms) of the baseline, the bare FAISS search and each retrieval mode."""
    index = retriever.index
    vectors = [retriever.embedder.embed_query(q) for q in questions]

    def numpy_exact(i: int) -> object:
        return np.argpartition(index.vectors @ vectors[i], -50)[-50:]

    def faiss_flat(i: int) -> object:
        return index.search_dense(vectors[i], 50)

    rows = {
        "numpy exact (baseline)": per_query(numpy_exact, len(questions)),
        "faiss flat IP": per_query(faiss_flat, len(questions)),
    }
    for mode in Mode:

        def search(i: int, mode: Mode = mode) -> object:
            return retriever.search(questions[i], top_k=5, mode=mode)

        label = "bm25 search" if mode == Mode.BM25 else f"{mode.value} (with query embedding)"
        rows[label] = per_query(search, len(questions))
    return rows


def per_query(action: Callable[[int], object], count: int) -> list[float]:
    """Milliseconds of ``action(i)`` for each query ``i``, after one warm-up call."""
    action(0)
    samples = []
    for i in range(count):
        started = time.perf_counter()
        action(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def ingest_table(fresh: IngestReport, again: IngestReport) -> Table:
    """Pages per second of a fresh ingest, and the cost of a run where nothing changed."""
    table = Table(title="Ingest (sample corpus, real PDFs, local ONNX embeddings)")
    for column in ("run", "documents", "pages", "chunks", "seconds", "pages/s"):
        table.add_column(column, justify="right" if column != "run" else "left")
    docs = len(fresh.added) + len(fresh.updated)
    table.add_row(
        "fresh",
        str(docs),
        str(fresh.pages),
        str(fresh.chunks),
        f"{fresh.seconds:.2f}",
        f"{fresh.pages_per_second:.1f}",
    )
    table.add_row(
        "unchanged (hash skip)", str(len(again.unchanged)), "0", "0", f"{again.seconds:.3f}", "-"
    )
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=60, help="queries per latency row")
    args = parser.parse_args(argv)
    embedder = LocalOnnxEmbedder()
    with tempfile.TemporaryDirectory(prefix="tier0-rag-bench-") as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        write_sample_corpus(corpus)
        fresh = ingest([corpus], index_dir=index_dir, embedder=embedder)
        again = ingest([corpus], index_dir=index_dir, embedder=embedder)
        base = load_index(index_dir)
        ablation = ablation_table(corpus, embedder)
    console.print(ingest_table(fresh, again))
    scores = evaluate_all(Retriever(base, embedder), labelled_questions())
    console.print(quality_table(scores, title="Retrieval quality, sample corpus"))
    bm25 = scores[0]
    for item in scores[1:]:
        console.print(
            f"{item.mode.value} vs bm25: recall@5 {item.recall_at_5 / bm25.recall_at_5:.2f}x, "
            f"nDCG@10 {item.ndcg_at_10 / bm25.ndcg_at_10:.2f}x, "
            f"citation accuracy {item.citation_accuracy / bm25.citation_accuracy:.2f}x"
        )
    console.print(ablation)
    console.print(latency_rows(base, embedder, sorted(args.sizes), args.queries))


if __name__ == "__main__":
    main()
