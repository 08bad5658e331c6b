"""The hybrid index on disk: save, reload, replace documents, refuse damaged directories."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tier0.rag.chunking import chunk_page
from tier0.rag.index import DocumentRecord, HybridIndex, IndexFormatError
from tier0.rag.ingest import load_index
from tier0.rag.retrieval import Mode, Retriever


def _tiny_index(dimension: int = 4) -> HybridIndex:
    index = HybridIndex(model_id="test", dimension=dimension)
    for name, text, axis in (("a.pdf", "pump jack belt", 0), ("b.pdf", "flare pilot", 1)):
        chunks = chunk_page(name, 1, text)
        vectors = np.zeros((1, dimension), dtype=np.float32)
        vectors[0, axis] = 1.0
        index.put_document(DocumentRecord(name, f"/x/{name}", "h" + name, 1, 1), chunks, vectors)
    index.rebuild()
    return index


def test_reload_gives_the_same_results(
    sample_index_dir: Path, retriever: Retriever, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sample_index_dir, copy)
    reloaded = Retriever(load_index(copy), retriever.embedder)
    assert reloaded.index.documents == retriever.index.documents
    np.testing.assert_allclose(reloaded.index.vectors, retriever.index.vectors)
    for mode in Mode:
        query = "H2S alarm response at TX-EAGLE"
        before = [(h.citation, round(h.score, 5)) for h in retriever.search(query, mode=mode)]
        after = [(h.citation, round(h.score, 5)) for h in reloaded.search(query, mode=mode)]
        assert before == after


def test_put_replaces_and_remove_drops_a_document(tmp_path: Path) -> None:
    index = _tiny_index()
    vectors = np.array([[0, 0, 1, 0]], dtype=np.float32)
    chunks = chunk_page("a.pdf", 2, "rod pump stuffing box")
    index.put_document(DocumentRecord("a.pdf", "/x/a.pdf", "new", 2, 1), chunks, vectors)
    index.rebuild()
    assert [c.text for c in index.chunks] == ["flare pilot", "rod pump stuffing box"]
    assert index.search_dense(vectors[0], 1)[0][0] == 1
    assert [row for row, _ in index.search_lexical("stuffing", 5)] == [1]
    assert index.remove_document("b.pdf")
    assert not index.remove_document("b.pdf")
    index.rebuild()
    index.save(tmp_path / "ix")
    assert [c.document for c in HybridIndex.load(tmp_path / "ix").chunks] == ["a.pdf"]


def test_empty_index_saves_loads_and_finds_nothing(tmp_path: Path) -> None:
    HybridIndex(model_id="m", dimension=4).save(tmp_path / "empty")
    index = HybridIndex.load(tmp_path / "empty")
    assert len(index) == 0
    assert index.search_dense(np.ones(4, dtype=np.float32), 3) == []
    assert index.search_lexical("anything", 3) == []


def test_wrong_vector_shape_is_refused() -> None:
    index = HybridIndex(model_id="m", dimension=4)
    with pytest.raises(ValueError, match="shape"):
        index.put_document(
            DocumentRecord("a.pdf", "/a.pdf", "h", 1, 1),
            chunk_page("a.pdf", 1, "text"),
            np.zeros((1, 3), dtype=np.float32),
        )


def test_missing_or_damaged_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError, match="tier0 rag ingest"):
        load_index(tmp_path / "nothing")
    _tiny_index().save(tmp_path / "ix")
    (tmp_path / "ix" / "manifest.json").write_text("{not json")
    with pytest.raises(IndexFormatError, match="damaged"):
        HybridIndex.load(tmp_path / "ix")


def test_save_replaces_the_previous_index_without_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "ix"
    _tiny_index().save(target)
    index = HybridIndex.load(target)
    index.remove_document("a.pdf")
    index.rebuild()
    index.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]
    assert list(HybridIndex.load(target).documents) == ["b.pdf"]
