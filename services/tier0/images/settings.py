"""Where processed images are stored (the same ``TIER0_MONGO_*`` variables as the services)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ImageSettings(BaseSettings):
    """MongoDB (or FerretDB) address, database and collection."""

    model_config = SettingsConfigDict(env_prefix="TIER0_", frozen=True, extra="ignore")

    mongo_url: str = Field(description="mongodb://... (MongoDB or FerretDB)")
    mongo_database: str = "tier0"
    images_collection: str = Field(default="images", description="Collection of image records.")
