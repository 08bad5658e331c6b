"""The local ONNX embedder: unit vectors whose geometry follows meaning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tier0.rag.embeddings import (
    Embedder,
    EmbeddingModelMissingError,
    LocalOnnxEmbedder,
    mean_pool,
    normalise,
)


def test_vectors_are_unit_length_float32(embedder: LocalOnnxEmbedder) -> None:
    vectors = embedder.embed_documents(["gearbox oil temperature", "H2S alarm", "x"])
    assert vectors.shape == (3, embedder.dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert isinstance(embedder, Embedder)


def test_similar_sentences_are_closer_than_unrelated_ones(embedder: LocalOnnxEmbedder) -> None:
    anchor, similar, unrelated = embedder.embed_documents(
        [
            "The turbine stopped because the gearbox oil was too hot.",
            "High gearbox oil temperature tripped the wind turbine.",
            "The quarterly budget meeting moved to Thursday afternoon.",
        ]
    )
    assert float(anchor @ similar) > float(anchor @ unrelated) + 0.2


def test_query_vector_matches_document_vector(embedder: LocalOnnxEmbedder) -> None:
    text = "relief valve set pressure"
    np.testing.assert_allclose(
        embedder.embed_query(text), embedder.embed_documents([text])[0], atol=1e-6
    )


def test_batching_and_padding_do_not_change_vectors(embedder: LocalOnnxEmbedder) -> None:
    texts = ["short", "a much longer sentence about slip ring brushes " * 8, "medium length text"]
    together = embedder.embed_documents(texts)
    alone = np.vstack([embedder.embed_documents([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_empty_inputs(embedder: LocalOnnxEmbedder) -> None:
    assert embedder.embed_documents([]).shape == (0, embedder.dimension)
    assert np.isfinite(embedder.embed_query("")).all()
    with pytest.raises(TypeError):
        embedder.embed_documents("not a list")


def test_long_text_is_truncated_not_refused(embedder: LocalOnnxEmbedder) -> None:
    vector = embedder.embed_query("compressor seal " * 2000)
    assert vector.shape == (embedder.dimension,)


def test_missing_model_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingModelMissingError, match="not found"):
        LocalOnnxEmbedder(model_path=tmp_path / "absent.onnx")
    with pytest.raises(ValueError, match="batch_size"):
        LocalOnnxEmbedder(batch_size=0)


def test_mean_pool_ignores_masked_tokens_and_normalise_scales() -> None:
    hidden = np.array([[[1.0, 1.0], [3.0, 3.0], [100.0, 100.0]]])
    mask = np.array([[1, 1, 0]])
    np.testing.assert_allclose(mean_pool(hidden, mask), [[2.0, 2.0]])
    expected = np.array([[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalise(np.array([[3.0, 4.0], [0.0, 0.0]])), expected)
