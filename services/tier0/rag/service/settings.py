"""Query service settings (``TIER0_RAG_*``); store addresses come from the common settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tier0.rag.settings import ENV_PREFIX, default_index_dir


class ServiceSettings(BaseSettings):
    """Limits, cache and sources of ``tier0 rag serve``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    index_dir: Path = Field(default_factory=default_index_dir, description="Document index.")
    cache_ttl_seconds: int = Field(default=300, ge=1, description="Answer cache lifetime.")
    cache_scope: str = Field(
        default="", description="Extra cache key part (e.g. a deployment or index version)."
    )
    max_body_bytes: int = Field(default=8192, ge=256, description="Largest request body.")
    max_question_chars: int = Field(default=1000, ge=10, description="Longest question.")
    max_top_k: int = Field(default=20, ge=1, description="Largest top_k a client may ask for.")
    default_top_k: int = Field(default=5, ge=1, description="Passages cited per answer.")
    device_window_minutes: int = Field(
        default=60, ge=1, description="How recent a reading must be to count as live."
    )
    images_collection: str = Field(default="images", description="MongoDB collection.")
