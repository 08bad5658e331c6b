"""Settings from ``TIER0_*`` environment variables; insecure values are refused at start-up."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Passwords seen in copy-pasted examples; refusing them keeps sample values out of deployments.
INSECURE_SECRETS = frozenset(
    {"", "changeme", "change-me", "password", "admin", "guest", "secret", "tier0", "postgres"}
)
MIN_SECRET_LENGTH = 16


def check_secret(value: str, what: str) -> str:
    """Return ``value`` unless it is a well-known or short secret."""
    if value.lower() in INSECURE_SECRETS or len(value) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"{what} is missing, a well-known default or shorter than {MIN_SECRET_LENGTH} "
            "characters; generate one (e.g. `openssl rand -base64 24`)"
        )
    return value


def _url_password(url: str) -> str:
    # A multi-host PostgreSQL DSN ("h1:p1,h2:p2") is not a valid URL netloc for urlsplit's
    # port parsing, but the userinfo part is all we read here.
    netloc = urlsplit(url).netloc
    userinfo = netloc.rpartition("@")[0]
    return userinfo.partition(":")[2]


class Settings(BaseSettings):
    """Where the stores are and how to reach them. Every field maps to ``TIER0_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TIER0_", extra="ignore")

    postgres_dsn: Annotated[
        str,
        Field(description="Writable PostgreSQL DSN; may list both regions (target_session_attrs)"),
    ]
    postgres_replica_dsn: Annotated[
        str | None,
        Field(description="Read-only DSN for reads that may lag (defaults to the writable one)"),
    ] = None
    redis_sentinels: Annotated[str, Field(description="Comma-separated host:port of Sentinels")] = (
        ""
    )
    redis_master_name: str = "tier0"
    redis_password: SecretStr | None = None
    mqtt_url: Annotated[str, Field(description="mqtt://user:password@host:port")] = ""
    amqp_url: Annotated[str, Field(description="amqp://user:password@host:port/vhost")] = ""
    mongo_url: Annotated[str, Field(description="mongodb://... (MongoDB or FerretDB)")] = ""
    mongo_database: str = "tier0"
    images_collection: Annotated[
        str, Field(description="Collection of processed images (as `tier0 images process`)")
    ] = "images"
    rag_url: Annotated[
        str,
        Field(description="Base URL of the query service (`tier0 rag serve`), for /api/query"),
    ] = ""
    api_key: SecretStr | None = Field(
        default=None, description="Key required on mutating API calls"
    )
    log_level: str = "INFO"

    @field_validator("postgres_dsn")
    @classmethod
    def _postgres_password(cls, value: str) -> str:
        check_secret(_url_password(value), "the PostgreSQL password in TIER0_POSTGRES_DSN")
        return value

    @field_validator("redis_password", "api_key")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value(), "a Tier-0 secret")
        return value

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """``redis_sentinels`` as (host, port) pairs."""
        pairs = []
        for item in filter(None, (p.strip() for p in self.redis_sentinels.split(","))):
            host, _, port = item.rpartition(":")
            pairs.append((host, int(port)))
        return pairs


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()  # type: ignore[call-arg]  # required fields come from the environment
