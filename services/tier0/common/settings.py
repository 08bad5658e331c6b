"""Settings from ``TIER0_*`` environment variables; insecure values are refused at start-up."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Annotated, NamedTuple
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
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


class Scope(StrEnum):
    """What an API key may do. Keys are separate so a dashboard user who may switch regions
    need not be able to register devices, and the other way round."""

    WRITE = "write"  # change data: register devices
    OPERATE = "operate"  # act on the deployment: switch the active region


class ApiCredential(NamedTuple):
    key: SecretStr
    scope: Scope

    @property
    def key_bytes(self) -> bytes:
        return self.key.get_secret_value().encode()


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
        default=None, description="Key of the write scope (register devices)"
    )
    operate_api_key: SecretStr | None = Field(
        default=None, description="Key of the operate scope (POST /api/failover)"
    )
    kubeconfig: Annotated[
        str | None,
        Field(description="Kubeconfig of the failover endpoints (else in-cluster, $KUBECONFIG)"),
    ] = None
    region_name: Annotated[str, Field(description="The Tier0Region the API reads and patches")] = (
        "tier0"
    )
    region_namespace: Annotated[str, Field(description="Namespace of that Tier0Region")] = "tier0"
    cors_origins: Annotated[
        list[str],
        Field(description='Origins allowed to call the API from a browser (JSON list, or ["*"])'),
    ] = []
    log_level: str = "INFO"

    @field_validator("postgres_dsn")
    @classmethod
    def _postgres_password(cls, value: str) -> str:
        check_secret(_url_password(value), "the PostgreSQL password in TIER0_POSTGRES_DSN")
        return value

    @field_validator("redis_password", "api_key", "operate_api_key")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value(), "a Tier-0 secret")
        return value

    @model_validator(mode="after")
    def _distinct_keys(self) -> Settings:
        # One key per scope: a shared key would quietly grant both.
        if (
            self.api_key is not None
            and self.operate_api_key is not None
            and self.api_key.get_secret_value() == self.operate_api_key.get_secret_value()
        ):
            raise ValueError("TIER0_API_KEY and TIER0_OPERATE_API_KEY must differ")
        return self

    @property
    def api_credentials(self) -> list[ApiCredential]:
        """The configured keys with the scope each grants."""
        keys = ((self.api_key, Scope.WRITE), (self.operate_api_key, Scope.OPERATE))
        return [ApiCredential(key, scope) for key, scope in keys if key is not None]

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
