"""What each retrieval-quality change contributes, measured on the sample corpus.

Variants, each adding one change to the previous: the original index (every page, chunk text
only, RRF ties broken by best rank); navigation pages (contents, lists of figures and tables)
left out; the document title indexed with every chunk; RRF ties broken by normalised scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from tier0.rag.chunking import Chunk, chunk_page
from tier0.rag.corpus import labelled_questions
from tier0.rag.embeddings import Embedder
from tier0.rag.evaluation import evaluate
from tier0.rag.index import DocumentRecord, HybridIndex
from tier0.rag.pdf import chunk_pages, content_hash, discover_pdfs, read_pdf
from tier0.rag.retrieval import Mode, Retriever
from tier0.rag.settings import RetrievalSettings


@dataclass(frozen=True, slots=True)
class Variant:
    """One index/fusion configuration."""

    name: str
    skip_navigation: bool
    title_context: bool
    score_tiebreak: bool


VARIANTS = (
    Variant("original (all pages, RRF)", False, False, False),
    Variant("+ navigation pages left out", True, False, False),
    Variant("+ title as chunk context", True, True, False),
    Variant("+ score tie-break in RRF (current)", True, True, True),
)


def _chunks(path: Path, document: str, variant: Variant) -> list[Chunk]:
    pdf = read_pdf(path)
    title = pdf.title if variant.title_context else ""
    if variant.skip_navigation:
        return chunk_pages(document, pdf.pages, title=title)
    return [c for p in pdf.pages for c in chunk_page(document, p.page, p.text, context=title)]


def build(corpus: Path, embedder: Embedder, variant: Variant) -> HybridIndex:
    """An in-memory index of ``corpus`` built the way ``variant`` says."""
    index = HybridIndex(model_id=embedder.model_id, dimension=embedder.dimension)
    for source in discover_pdfs([corpus]):
        chunks = _chunks(source.path, source.document, variant)
        vectors = embedder.embed_documents([c.indexed_text for c in chunks])
        digest = content_hash(source.path)
        record = DocumentRecord(source.document, str(source.path), digest, 0, len(chunks))
        index.put_document(record, chunks, vectors)
    index.rebuild()
    return index


def ablation_table(corpus: Path, embedder: Embedder) -> Table:
    """nDCG@10 of BM25, dense and hybrid for every variant."""
    table = Table(title="Retrieval quality by change (nDCG@10, sample corpus)")
    for column in ("variant", "bm25", "dense", "hybrid", "hybrid >= best single"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    questions = labelled_questions()
    for variant in VARIANTS:
        settings = RetrievalSettings(score_tiebreak=variant.score_tiebreak)
        retriever = Retriever(build(corpus, embedder, variant), embedder, settings)
        scores = [evaluate(retriever, questions, mode).ndcg_at_10 for mode in Mode]
        ok = "yes" if scores[2] >= max(scores[:2]) else "no"
        table.add_row(variant.name, *(f"{s:.3f}" for s in scores), ok)
    return table
