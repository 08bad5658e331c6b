"""The HTTP contract of ``POST /query``."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Source(StrEnum):
    """Where an answer can come from."""

    DOCUMENTS = "documents"
    LOGS = "logs"
    IMAGES = "images"
    DEVICES = "devices"


class QueryRequest(BaseModel):
    """A question; ``sources`` restricts routing (default: chosen from the question)."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description="The question, in plain language.")
    top_k: int | None = Field(default=None, ge=1, description="Document passages to cite.")
    sources: list[Source] | None = Field(
        default=None, min_length=1, description="Only these sources (default: routed)."
    )


class CitationOut(BaseModel):
    """Where a statement comes from: a document page and chunk, or a query over a store."""

    id: int = Field(description="1-based number the answer text refers to as [id].")
    source: Source
    document: str | None = None
    page: int | None = None
    chunk_id: str | None = None
    store: str | None = Field(default=None, description="Table or collection queried.")
    query: str | None = Field(default=None, description="Name of the aggregate computed.")
    filters: dict[str, Any] | None = None


class QueryResponse(BaseModel):
    """The answer, how it was produced, its citations and the figures behind it."""

    question: str
    answer: str
    answer_mode: str = Field(description="'extractive' or 'cohere:<chat model>'.")
    sources: list[Source]
    citations: list[CitationOut]
    figures: dict[str, Any] = Field(description="Aggregates per source, as computed.")
    cached: bool = False
