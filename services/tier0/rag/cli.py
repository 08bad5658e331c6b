"""``tier0 rag``: ingest PDFs into the local hybrid index, search it, and measure its quality.

Only typer and rich load with this module; the embedding model, FAISS and BM25 load inside the
commands, so ``tier0 --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tier0.paths import cache_dir

if TYPE_CHECKING:
    from tier0.rag.ingest import IngestReport
    from tier0.rag.retrieval import Hit

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Ingest PDFs into the local hybrid index, search it, and measure its quality.",
)
console = Console(highlight=False)

IndexDir = Annotated[
    Path | None,
    typer.Option(
        envvar="TIER0_RAG_INDEX_DIR", help="Index directory [default: ~/.cache/tier0/rag/index]."
    ),
]


class _RichProgress:
    """Draws one progress bar over the documents of an ingestion run."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = progress.add_task("ingesting", total=None)

    def started(self, total: int) -> None:
        self._progress.update(self._task, total=total)

    def document_done(self, document: str, status: str) -> None:
        self._progress.update(self._task, advance=1, description=f"{status}: {document}")


def _index_dir(option: Path | None) -> Path:
    from tier0.rag.settings import default_index_dir

    return option or default_index_dir()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/red]", soft_wrap=True)
    return typer.Exit(1)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF files or directories to ingest.")],
    index_dir: IndexDir = None,
    prune: Annotated[bool, typer.Option(help="Drop indexed documents not found now.")] = False,
) -> None:
    """Index PDFs; only files whose content changed since the last run are embedded again."""
    from tier0.rag.backends import make_embedder
    from tier0.rag.embeddings import EmbeddingModelMissingError
    from tier0.rag.index import IndexFormatError
    from tier0.rag.ingest import ingest as run_ingest
    from tier0.rag.pdf import IngestError

    target = _index_dir(index_dir)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        embedder = make_embedder()
        with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
            report = run_ingest(
                paths, index_dir=target, embedder=embedder, prune=prune, progress=_RichProgress(bar)
            )
    except (IngestError, IndexFormatError, EmbeddingModelMissingError) as exc:
        raise _fail(str(exc)) from exc
    _print_report(report, target)


def _print_report(report: IngestReport, target: Path) -> None:
    console.print(
        f"added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}, removed {len(report.removed)}; "
        f"{report.pages} pages, {report.chunks} chunks embedded in {report.seconds:.1f} s"
        f"{f' ({report.pages_per_second:.1f} pages/s)' if report.pages else ''} -> {target}"
    )


@app.command()
def query(
    question: Annotated[str, typer.Argument(help="What to search for.")],
    index_dir: IndexDir = None,
    top_k: Annotated[int, typer.Option(min=1, help="Hits to show.")] = 5,
    mode: Annotated[str, typer.Option(help="bm25, dense or hybrid.")] = "hybrid",
) -> None:
    """Search the index and print the hits with their citations."""
    from tier0.rag.backends import embedder_for_index, make_reranker
    from tier0.rag.index import IndexFormatError
    from tier0.rag.ingest import load_index
    from tier0.rag.retrieval import Mode, Retriever

    try:
        index = load_index(_index_dir(index_dir))
        embedder = embedder_for_index(index.model_id)
        retriever = Retriever(index, embedder, reranker=make_reranker())
        hits = retriever.search(question, top_k=top_k, mode=Mode(mode))
    except (IndexFormatError, ValueError, RuntimeError) as exc:
        raise _fail(str(exc)) from exc
    _print_hits(hits)


def _print_hits(hits: list[Hit]) -> None:
    if not hits:
        console.print("no hits")
    for rank, hit in enumerate(hits, start=1):
        cite = hit.citation
        console.print(
            f"[bold]{rank}. {cite.document} p.{cite.page}[/bold] "
            f"(chunk {cite.chunk_id}, score {hit.score:.4f})"
        )
        snippet = " ".join(hit.text.split())
        console.print(f"   {snippet[:240]}{'...' if len(snippet) > 240 else ''}")


@app.command("eval")
def evaluate(
    workdir: Annotated[
        Path | None,
        typer.Option(
            help="Where the sample corpus and its index go [default: ~/.cache/tier0/rag/eval]."
        ),
    ] = None,
) -> None:
    """Score BM25, dense and hybrid retrieval on the sample corpus and its labelled questions."""
    from tier0.rag.embeddings import LocalOnnxEmbedder
    from tier0.rag.evaluation import evaluate_sample_corpus
    from tier0.rag.tables import quality_table

    target = workdir or cache_dir() / "rag" / "eval"
    with console.status("writing the sample corpus, indexing and evaluating ..."):
        report, scores = evaluate_sample_corpus(target, LocalOnnxEmbedder())
    _print_report(report, target / "index")
    console.print(quality_table(scores))


@app.command("sample-corpus")
def sample_corpus(
    directory: Annotated[Path, typer.Argument(help="Where to write the sample PDFs.")],
) -> None:
    """Write the sample corpus (runbooks, manuals, incident and safety reports) as PDFs."""
    from tier0.rag.corpus import labelled_questions, write_sample_corpus

    paths = write_sample_corpus(directory)
    console.print(
        f"wrote {len(paths)} PDFs ({len(labelled_questions())} labelled questions) to {directory}"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
    index_dir: IndexDir = None,
) -> None:
    """Run the query service (POST /query, /health, /metrics) over documents, logs, images
    and live device metrics; needs the TIER0_* store settings."""
    import uvicorn

    from tier0.rag.service.main import create_app
    from tier0.rag.service.settings import ServiceSettings

    settings = ServiceSettings(index_dir=_index_dir(index_dir))
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
