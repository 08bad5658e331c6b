"""Incremental ingestion: only documents whose bytes changed are embedded again."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

from tier0.rag.corpus import write_sample_corpus
from tier0.rag.corpus.model import SampleDocument
from tier0.rag.embeddings import LocalOnnxEmbedder, Vectors
from tier0.rag.index import HybridIndex
from tier0.rag.ingest import ingest, open_index
from tier0.rag.pdf import IngestError

from .conftest import document_named

_SMALL = ("INC-2026-014", "INC-2026-022", "INC-2026-031")


class CountingEmbedder:
    """The real embedder, recording which texts it was asked to embed."""

    def __init__(self, inner: LocalOnnxEmbedder, model_id: str | None = None) -> None:
        self._inner = inner
        self._model_id = model_id or inner.model_id
        self.embedded: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.embedded.extend(texts)
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self._inner.embed_query(text)


class RecordingProgress:
    def __init__(self) -> None:
        self.total = -1
        self.events: list[tuple[str, str]] = []

    def started(self, total: int) -> None:
        self.total = total

    def document_done(self, document: str, status: str) -> None:
        self.events.append((document, status))


def _small_docs() -> tuple[SampleDocument, ...]:
    return tuple(document_named(prefix) for prefix in _SMALL)


def _edited(doc: SampleDocument) -> SampleDocument:
    first = doc.pages[0]
    changed = dataclasses.replace(first, paragraphs=(*first.paragraphs, "Revised after audit."))
    return dataclasses.replace(doc, pages=(changed, *doc.pages[1:]))


@pytest.fixture
def counting(embedder: LocalOnnxEmbedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


def test_second_run_embeds_nothing_and_keeps_the_index(
    tmp_path: Path, counting: CountingEmbedder
) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_sample_corpus(corpus, _small_docs())
    progress = RecordingProgress()
    first = ingest([corpus], index_dir=index_dir, embedder=counting, progress=progress)
    assert sorted(first.added) == sorted(d.filename for d in _small_docs())
    assert progress.total == 3
    assert {s for _, s in progress.events} == {"added"}
    assert len(counting.embedded) == first.chunks == len(HybridIndex.load(index_dir))
    stamp = (index_dir / "manifest.json").stat().st_mtime_ns
    counting.embedded.clear()
    second = ingest([corpus], index_dir=index_dir, embedder=counting)
    assert counting.embedded == []
    assert not second.changed
    assert len(second.unchanged) == 3
    assert (index_dir / "manifest.json").stat().st_mtime_ns == stamp


def test_only_the_changed_file_is_embedded_again(
    tmp_path: Path, counting: CountingEmbedder
) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    docs = _small_docs()
    write_sample_corpus(corpus, docs)
    ingest([corpus], index_dir=index_dir, embedder=counting)
    before = HybridIndex.load(index_dir)
    counting.embedded.clear()
    write_sample_corpus(corpus, (_edited(docs[1]),))
    report = ingest([corpus], index_dir=index_dir, embedder=counting)
    after = HybridIndex.load(index_dir)
    assert report.updated == [docs[1].filename]
    assert sorted(report.unchanged) == sorted([docs[0].filename, docs[2].filename])
    changed_chunks = [c for c in after.chunks if c.document == docs[1].filename]
    assert counting.embedded == [c.indexed_text for c in changed_chunks]
    assert any("Revised after audit." in c.text for c in changed_chunks)
    kept = {c.chunk_id for c in before.chunks if c.document != docs[1].filename}
    assert kept <= {c.chunk_id for c in after.chunks}
    assert after.documents[docs[1].filename].sha256 != before.documents[docs[1].filename].sha256


def test_prune_drops_documents_that_disappeared(tmp_path: Path, counting: CountingEmbedder) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    paths = write_sample_corpus(corpus, _small_docs())
    ingest([corpus], index_dir=index_dir, embedder=counting)
    paths[0].unlink()
    kept = ingest([corpus], index_dir=index_dir, embedder=counting)
    assert kept.removed == []
    assert len(HybridIndex.load(index_dir).documents) == 3
    pruned = ingest([corpus], index_dir=index_dir, embedder=counting, prune=True)
    assert pruned.removed == [paths[0].name]
    index = HybridIndex.load(index_dir)
    assert paths[0].name not in {c.document for c in index.chunks}


def test_another_embedding_model_means_a_full_rebuild(
    tmp_path: Path, embedder: LocalOnnxEmbedder
) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_sample_corpus(corpus, _small_docs()[:1])
    ingest([corpus], index_dir=index_dir, embedder=CountingEmbedder(embedder))
    other = CountingEmbedder(embedder, model_id="another-model")
    assert len(open_index(index_dir, other)) == 0
    report = ingest([corpus], index_dir=index_dir, embedder=other)
    assert report.added
    assert HybridIndex.load(index_dir).model_id == "another-model"


def test_bad_paths_fail_before_the_index_changes(
    tmp_path: Path, counting: CountingEmbedder
) -> None:
    with pytest.raises(IngestError):
        ingest([tmp_path / "absent"], index_dir=tmp_path / "index", embedder=counting)
    assert not (tmp_path / "index").exists()
