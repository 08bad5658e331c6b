"""Which embedder, reranker and answerer to use: Cohere when keyed, the local model otherwise."""

from __future__ import annotations

import logging

from tier0.rag.cohere_backend import (
    MODEL_ID_PREFIX,
    CohereAnswerer,
    CohereEmbedder,
    CohereReranker,
    CohereSettings,
)
from tier0.rag.embeddings import Embedder, LocalOnnxEmbedder
from tier0.rag.retrieval import Reranker

logger = logging.getLogger(__name__)


def make_embedder(cohere: CohereSettings | None = None) -> Embedder:
    """Cohere embed v3 when ``COHERE_API_KEY`` is set, else the local ONNX model."""
    settings = cohere or CohereSettings()
    if settings.enabled:
        return CohereEmbedder(settings)
    return LocalOnnxEmbedder()


def embedder_for_index(model_id: str, cohere: CohereSettings | None = None) -> Embedder:
    """The embedder that can query an index built with ``model_id``.

    An index built with the local model stays searchable when a Cohere key is added later;
    one built with Cohere needs the key.
    """
    settings = cohere or CohereSettings()
    if model_id.startswith(MODEL_ID_PREFIX):
        if not settings.enabled:
            raise RuntimeError(f"the index was built with {model_id}: set COHERE_API_KEY")
        return CohereEmbedder(settings)
    if settings.enabled:
        logger.info("index uses the local model; re-ingest to embed with Cohere")
    return LocalOnnxEmbedder()


def make_reranker(cohere: CohereSettings | None = None) -> Reranker | None:
    """Cohere rerank when keyed and not switched off."""
    settings = cohere or CohereSettings()
    return CohereReranker(settings) if settings.enabled and settings.rerank else None


def make_answerer(cohere: CohereSettings | None = None) -> CohereAnswerer | None:
    """Cohere chat when keyed; None means answers are extractive."""
    settings = cohere or CohereSettings()
    return CohereAnswerer(settings) if settings.enabled else None
