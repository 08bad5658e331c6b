"""Dashboard settings (``TIER0_DASHBOARD_*``): where the API is, how often the page refreshes."""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    """``tier0 dashboard`` needs no store credentials: it only talks to the API."""

    model_config = SettingsConfigDict(env_prefix="TIER0_DASHBOARD_", frozen=True, extra="ignore")

    api_url: Annotated[
        AnyHttpUrl, Field(description="Base URL of the API (in a cluster: its Service)")
    ] = AnyHttpUrl("http://127.0.0.1:8000")
    refresh_seconds: Annotated[
        float, Field(ge=1, le=300, description="How often the open tab reloads its data")
    ] = 5.0
    api_timeout_seconds: Annotated[
        float, Field(gt=0, le=120, description="Longest wait for the API (a cited answer)")
    ] = 35.0
    max_body_bytes: Annotated[int, Field(ge=1024, description="Largest request body proxied")] = (
        16384
    )
