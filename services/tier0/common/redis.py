"""The Redis master, found through Sentinel, with the Sentinel clients it opens closed with it."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from tier0.common.settings import Settings

SOCKET_TIMEOUT_SECONDS = 1.0
FAIL_FAST_TIMEOUT_SECONDS = 0.5


class SentinelMaster:
    """A client on the master named in ``settings``; ``aclose()`` (or ``async with``) closes it
    and the Sentinel clients behind it.

    The client re-resolves the master through Sentinel on reconnect, so it follows a failover.
    ``fail_fast`` is for callers with a fallback: redis-py's default retries with backoff would
    hold a request for seconds when Redis is gone, so connect and read time out after half a
    second and nothing is retried.
    """

    def __init__(
        self, settings: Settings, *, decode_responses: bool = True, fail_fast: bool = False
    ) -> None:
        password = settings.redis_password.get_secret_value() if settings.redis_password else None
        options: dict[str, Any] = (
            {
                "socket_timeout": FAIL_FAST_TIMEOUT_SECONDS,
                "socket_connect_timeout": FAIL_FAST_TIMEOUT_SECONDS,
                "retry": Retry(NoBackoff(), 0),
            }
            if fail_fast
            else {"socket_timeout": SOCKET_TIMEOUT_SECONDS}
        )
        # Sentinels get the same timeouts but not the password: only data nodes authenticate.
        self.sentinel = Sentinel(  # type: ignore[no-untyped-call]
            settings.sentinel_addresses, password=password, sentinel_kwargs=options, **options
        )
        self.client: Redis = self.sentinel.master_for(
            settings.redis_master_name, decode_responses=decode_responses
        )

    async def aclose(self) -> None:
        """Close the master client's pool and every Sentinel client."""
        await self.client.aclose()
        for sentinel_client in self.sentinel.sentinels:
            await sentinel_client.aclose()

    async def __aenter__(self) -> Redis:
        return self.client

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
