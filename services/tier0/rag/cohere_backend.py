"""Cohere, when ``COHERE_API_KEY`` is set: embeddings, rerank and answer synthesis.

Everything goes through the official ``cohere`` SDK (v2 API): ``embed`` with ``input_type``
``search_document`` for passages and ``search_query`` for questions, ``rerank`` over the fused
candidates, and ``chat`` with the cited passages as ``documents``. ``TIER0_RAG_COHERE_BASE_URL``
points the SDK elsewhere (a proxy, or the local fake server the tests run).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tier0.rag.embeddings import Vectors, normalise
from tier0.rag.settings import ENV_PREFIX

if TYPE_CHECKING:
    import cohere

logger = logging.getLogger(__name__)

EMBED_MODEL = "embed-english-v3.0"
EMBED_DIMENSION = 1024
# The embed endpoint takes at most 96 texts per call.
EMBED_BATCH = 96
MODEL_ID_PREFIX = "cohere:"


class CohereSettings(BaseSettings):
    """Models and endpoint (``TIER0_RAG_COHERE_*``); Cohere is used only when a key is set."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX + "COHERE_", frozen=True, extra="ignore", populate_by_name=True
    )

    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("api_key", "COHERE_API_KEY"),
        description="Cohere API key (COHERE_API_KEY); without it everything runs locally.",
    )
    base_url: str | None = Field(
        default=None, description="API base URL (default: the SDK's production endpoint)."
    )
    embed_model: str = Field(default=EMBED_MODEL, description="Embedding model.")
    embed_dimension: int = Field(default=EMBED_DIMENSION, ge=1, description="Its vector length.")
    rerank_model: str = Field(default="rerank-english-v3.0", description="Rerank model.")
    rerank: bool = Field(default=True, description="Rerank the fused candidates.")
    chat_model: str = Field(default="command-r-08-2024", description="Answer synthesis model.")
    timeout_seconds: float = Field(default=20.0, gt=0, description="Per-request timeout.")

    @property
    def enabled(self) -> bool:
        """Whether a key is configured."""
        return self.api_key is not None and bool(self.api_key.get_secret_value())

    def key(self) -> str:
        """The API key; raises when Cohere is not configured."""
        if self.api_key is None:
            raise RuntimeError("COHERE_API_KEY is not set")
        return self.api_key.get_secret_value()


def sync_client(settings: CohereSettings) -> cohere.ClientV2:
    """The SDK's v2 client (blocking; embeddings and rerank run in worker threads)."""
    import cohere

    return cohere.ClientV2(
        api_key=settings.key(), base_url=settings.base_url, timeout=settings.timeout_seconds
    )


def async_client(settings: CohereSettings) -> cohere.AsyncClientV2:
    """The SDK's async v2 client (answer synthesis)."""
    import cohere

    return cohere.AsyncClientV2(
        api_key=settings.key(), base_url=settings.base_url, timeout=settings.timeout_seconds
    )


class CohereEmbedder:
    """``Embedder`` backed by Cohere embed v3 (documents and queries use different input types)."""

    def __init__(self, settings: CohereSettings, client: cohere.ClientV2 | None = None) -> None:
        self._settings = settings
        self._client = client or sync_client(settings)

    @property
    def model_id(self) -> str:
        return MODEL_ID_PREFIX + self._settings.embed_model

    @property
    def dimension(self) -> int:
        return self._settings.embed_dimension

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if isinstance(texts, str):
            raise TypeError("embed_documents takes a sequence of strings, not a string")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batches = [
            self._embed(list(texts[start : start + EMBED_BATCH]), "search_document")
            for start in range(0, len(texts), EMBED_BATCH)
        ]
        return np.vstack(batches)

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self._embed([text], "search_query")[0]
        return vector

    def _embed(self, texts: list[str], input_type: str) -> Vectors:
        response = self._client.embed(
            model=self._settings.embed_model,
            input_type=input_type,
            texts=texts,
            embedding_types=["float"],
            truncate="END",
        )
        floats = response.embeddings.float_
        if floats is None or len(floats) != len(texts):
            raise RuntimeError("Cohere embed returned no float embeddings for the texts")
        vectors = np.asarray(floats, dtype=np.float32)
        if vectors.shape[1] != self.dimension:
            raise RuntimeError(f"Cohere embed returned {vectors.shape[1]} dimensions")
        return normalise(vectors)


class CohereReranker:
    """``Reranker`` backed by Cohere rerank."""

    def __init__(self, settings: CohereSettings, client: cohere.ClientV2 | None = None) -> None:
        self._settings = settings
        self._client = client or sync_client(settings)

    def rerank(self, query: str, passages: Sequence[str], top_n: int) -> list[tuple[int, float]]:
        if not passages:
            return []
        response = self._client.rerank(
            model=self._settings.rerank_model,
            query=query,
            documents=list(passages),
            top_n=min(top_n, len(passages)),
        )
        return [(item.index, float(item.relevance_score)) for item in response.results]


@dataclass(frozen=True, slots=True)
class SourcePassage:
    """A cited passage or data summary handed to the chat model as a document."""

    source_id: str
    title: str
    text: str


PREAMBLE = (
    "You answer operations questions for an industrial reliability team. Use only the "
    "documents provided; cite them; say so when they do not contain the answer. Be brief."
)


class CohereAnswerer:
    """Synthesises an answer from passages with Cohere chat (grounded on ``documents``)."""

    def __init__(
        self, settings: CohereSettings, client: cohere.AsyncClientV2 | None = None
    ) -> None:
        self._settings = settings
        self._client = client or async_client(settings)

    @property
    def model(self) -> str:
        """The chat model that writes the answers."""
        return self._settings.chat_model

    async def answer(self, question: str, passages: Sequence[SourcePassage]) -> str:
        """The model's answer text for ``question`` grounded on ``passages``."""
        import cohere

        documents: list[Any] = [
            {"id": p.source_id, "data": {"title": p.title, "snippet": p.text}} for p in passages
        ]
        response = await self._client.chat(
            model=self._settings.chat_model,
            messages=[
                cohere.SystemChatMessageV2(content=PREAMBLE),
                cohere.UserChatMessageV2(content=question),
            ],
            documents=documents,
            temperature=0.0,
        )
        parts = response.message.content or []
        text = "".join(getattr(part, "text", "") for part in parts).strip()
        if not text:
            raise RuntimeError("Cohere chat returned an empty answer")
        return text
