"""RAG settings, read from ``TIER0_RAG_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tier0.paths import cache_dir

ENV_PREFIX = "TIER0_RAG_"


def default_index_dir() -> Path:
    """Where ``tier0 rag ingest`` keeps its index when no directory is given."""
    return cache_dir() / "rag" / "index"


class ChunkingSettings(BaseSettings):
    """How page text is cut into chunks (characters)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True)

    chunk_size: int = Field(default=1500, ge=100, description="Maximum characters per chunk.")
    chunk_overlap: int = Field(default=300, ge=0, description="Characters shared by neighbours.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Self:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


class RetrievalSettings(BaseSettings):
    """How many hits to return and how the two rankings are fused."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True)

    top_k: int = Field(default=5, ge=1, le=1000, description="Hits returned per query.")
    candidates: int = Field(
        default=50, ge=1, description="Hits taken from each ranking before fusion."
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant.")
    score_tiebreak: bool = Field(
        default=True,
        description="Break fusion ties by the rankings' normalised scores (else by best rank).",
    )
    rerank_candidates: int = Field(
        default=20, ge=1, description="Fused hits handed to the reranker, when one is configured."
    )
    search_threads: int = Field(
        default=1,
        ge=0,
        description="OpenMP threads FAISS uses per search (0 keeps FAISS's default). One query "
        "at a time runs fastest on one thread: more only add synchronisation on small machines.",
    )
