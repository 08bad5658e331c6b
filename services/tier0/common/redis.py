"""Redis clients that find the current master through Sentinel."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

from tier0.common.settings import Settings


def sentinel_for(settings: Settings) -> Sentinel:
    """A Sentinel client; data-node connections authenticate with ``redis_password``."""
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    return Sentinel(  # type: ignore[no-untyped-call]
        settings.sentinel_addresses, password=password, socket_timeout=1.0
    )


def master_client(settings: Settings, *, decode_responses: bool = True) -> Redis:
    """A client that re-resolves the master on reconnect, so it follows a Sentinel failover."""
    client: Redis = sentinel_for(settings).master_for(
        settings.redis_master_name, decode_responses=decode_responses, socket_timeout=1.0
    )
    return client
