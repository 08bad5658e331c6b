"""The hybrid index: FAISS inner product on unit vectors, BM25 beside it, chunk metadata.

On disk (one directory)::

    manifest.json   format, embedding model, and per document: source, sha256, pages, chunks
    chunks.jsonl    one chunk per line, in FAISS row order
    dense.faiss     faiss.IndexFlatIP
    bm25/           bm25s arrays and vocabulary (no pickle)

A save writes a sibling temporary directory and swaps it in, so a crash never leaves half an
index behind.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tier0.rag.chunking import Chunk
from tier0.rag.embeddings import Vectors
from tier0.rag.lexical import LexicalIndex

logger = logging.getLogger(__name__)

# 2: chunks carry their document title as context; navigation pages are not indexed.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
DENSE = "dense.faiss"
LEXICAL = "bm25"


class IndexFormatError(RuntimeError):
    """The directory holds no index, a damaged one, or one this code cannot read."""


class IndexVersionError(IndexFormatError):
    """The index was written by another version of this code; ingest again to rebuild it."""


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """What the index knows about one ingested document."""

    document: str
    source: str
    sha256: str
    pages: int
    chunks: int


class HybridIndex:
    """Chunks with their vectors and the two search structures built over them."""

    def __init__(self, *, model_id: str, dimension: int) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.documents: dict[str, DocumentRecord] = {}
        self.chunks: list[Chunk] = []
        self._vectors: Vectors = np.zeros((0, dimension), dtype=np.float32)
        self._dense: Any = None
        self._lexical = LexicalIndex()

    def __len__(self) -> int:
        return len(self.chunks)

    @property
    def vectors(self) -> Vectors:
        """Row ``i`` is the unit vector of ``chunks[i]``."""
        return self._vectors

    def put_document(self, record: DocumentRecord, chunks: list[Chunk], vectors: Vectors) -> None:
        """Add or replace one document; call ``rebuild`` once after a batch of changes."""
        if vectors.shape != (len(chunks), self.dimension):
            raise ValueError(f"expected vectors of shape {(len(chunks), self.dimension)}")
        self.remove_document(record.document)
        self.documents[record.document] = record
        self.chunks.extend(chunks)
        self._vectors = np.vstack([self._vectors, vectors.astype(np.float32)])

    def remove_document(self, document: str) -> bool:
        """Drop a document and its chunks; returns whether it was there."""
        if self.documents.pop(document, None) is None:
            return False
        keep = [i for i, chunk in enumerate(self.chunks) if chunk.document != document]
        self.chunks = [self.chunks[i] for i in keep]
        self._vectors = self._vectors[keep]
        return True

    def rebuild(self) -> None:
        """Rebuild FAISS and BM25 from the current chunks (no embedding work)."""
        import faiss

        dense = faiss.IndexFlatIP(self.dimension)
        if len(self.chunks):
            dense.add(np.ascontiguousarray(self._vectors))
        self._dense = dense
        self._lexical = LexicalIndex.build([chunk.indexed_text for chunk in self.chunks])

    def search_dense(self, query: Vectors, k: int) -> list[tuple[int, float]]:
        """Rows of the ``k`` chunks with the highest inner product with the query vector."""
        if self._dense is None or not self.chunks or k < 1:
            return []
        scores, rows = self._dense.search(query.reshape(1, -1).astype(np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def search_lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        """Rows of the ``k`` best BM25 matches with a positive score."""
        return self._lexical.search(query, k)

    def save(self, directory: Path) -> None:
        """Persist atomically (write a sibling directory, then swap)."""
        import faiss

        if self._dense is None:
            self.rebuild()
        staging = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        (staging / MANIFEST).write_text(json.dumps(self._manifest(), indent=2, sort_keys=True))
        with (staging / CHUNKS).open("w", encoding="utf-8") as handle:
            for chunk in self.chunks:
                handle.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
        faiss.write_index(self._dense, str(staging / DENSE))
        self._lexical.save(staging / LEXICAL)
        _swap_in(staging, directory)
        logger.info(
            "saved index: %d documents, %d chunks -> %s", len(self.documents), len(self), directory
        )

    @classmethod
    def load(cls, directory: Path) -> HybridIndex:
        """Read an index written by ``save``; raises ``IndexFormatError`` if it cannot."""
        import faiss

        manifest = _read_manifest(directory)
        index = cls(model_id=manifest["model_id"], dimension=int(manifest["dimension"]))
        index.documents = {
            name: DocumentRecord(**fields) for name, fields in manifest["documents"].items()
        }
        index.chunks = _read_chunks(directory / CHUNKS)
        dense = faiss.read_index(str(directory / DENSE))
        if dense.ntotal != len(index.chunks) or dense.d != index.dimension:
            raise IndexFormatError(f"{directory}: vectors and chunks disagree")
        index._dense = dense
        index._vectors = dense.reconstruct_n(0, dense.ntotal) if dense.ntotal else index._vectors
        index._lexical = LexicalIndex.load(directory / LEXICAL, size=len(index.chunks))
        return index

    def _manifest(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "model_id": self.model_id,
            "dimension": self.dimension,
            "documents": {name: asdict(rec) for name, rec in sorted(self.documents.items())},
        }


def set_search_threads(threads: int) -> None:
    """Set FAISS's OpenMP thread count for this process; 0 leaves it unchanged."""
    if threads > 0:
        import faiss

        faiss.omp_set_num_threads(threads)


def index_exists(directory: Path) -> bool:
    """Whether ``directory`` holds a saved index."""
    return (directory / MANIFEST).is_file()


def _read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise IndexFormatError(f"no index in {directory}") from exc
    except json.JSONDecodeError as exc:
        raise IndexFormatError(f"{directory}: damaged manifest: {exc}") from exc
    found = manifest.get("format")
    if not isinstance(found, int):
        raise IndexFormatError(f"{directory}: unsupported index format {found!r}")
    if found != FORMAT_VERSION:
        raise IndexVersionError(
            f"{directory}: unsupported index format {found} (expected {FORMAT_VERSION}); "
            "run 'tier0 rag ingest' to rebuild it"
        )
    return manifest


def _read_chunks(path: Path) -> list[Chunk]:
    try:
        with path.open(encoding="utf-8") as handle:
            return [Chunk(**json.loads(line)) for line in handle if line.strip()]
    except (OSError, json.JSONDecodeError, TypeError) as exc:
        raise IndexFormatError(f"cannot read chunks from {path}: {exc}") from exc


def _swap_in(staging: Path, directory: Path) -> None:
    retired = directory.with_name(directory.name + ".old")
    shutil.rmtree(retired, ignore_errors=True)
    if directory.exists():
        directory.rename(retired)
    staging.rename(directory)
    shutil.rmtree(retired, ignore_errors=True)
