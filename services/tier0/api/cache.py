"""Cache-aside for device listings in Redis (through Sentinel), with a PostgreSQL fallback.

Keys are ``devices:{site}:{type}:{state}:{limit}:{offset}`` ("all" for an absent filter) and
hold the serialized response for ``ttl`` seconds. When Redis fails, the cache steps aside for
``retry_after`` seconds (a small circuit breaker), so a Redis outage costs one failed call, not
one per request.
"""

from __future__ import annotations

import time

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tier0.common.logging import get_logger
from tier0.common.redis import SentinelMaster
from tier0.common.settings import Settings

log = get_logger(__name__)

DEVICES_PREFIX = "devices"
DEFAULT_TTL_SECONDS = 60
CACHE_LOOKUPS = Counter(
    "tier0_api_cache_lookups_total", "Device-list cache lookups by result", ["result"]
)
# Every result exported from the start: a bypass happens only while Redis is away, and a panel
# of bypasses should read 0 until then, not "no data".
for _result in ("hit", "miss", "bypass"):
    CACHE_LOOKUPS.labels(result=_result)


def devices_key(
    *, site: str | None, device_type: str | None, state: str | None, limit: int, offset: int
) -> str:
    parts = (site or "all", device_type or "all", state or "all", str(limit), str(offset))
    return ":".join((DEVICES_PREFIX, *parts))


class DeviceCache:
    """``get``/``put``/``invalidate`` never raise for Redis trouble; they report a bypass."""

    def __init__(
        self, client: Redis | None, *, ttl: int = DEFAULT_TTL_SECONDS, retry_after: float = 5.0
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.retry_after = retry_after
        self._down_until = 0.0
        self._master: SentinelMaster | None = None

    @classmethod
    def through_sentinel(cls, settings: Settings, **options: float) -> DeviceCache:
        """A cache on the master Sentinel names; ``close()`` also closes the Sentinel clients."""
        # Fail fast: a request should not wait on a gone Redis when PostgreSQL can answer.
        master = SentinelMaster(settings, fail_fast=True)
        cache = cls(master.client, **options)  # type: ignore[arg-type]
        cache._master = master
        return cache

    async def close(self) -> None:
        if self._master is not None:
            await self._master.aclose()
        elif self.client is not None:
            await self.client.aclose()

    @property
    def available(self) -> bool:
        return self.client is not None and time.monotonic() >= self._down_until

    def _trip(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + self.retry_after
        log.warning("redis unavailable; serving from PostgreSQL", error=str(exc)[:200])

    async def get(self, key: str) -> str | None:
        if not self.available or self.client is None:
            CACHE_LOOKUPS.labels(result="bypass").inc()
            return None
        try:
            value: str | bytes | None = await self.client.get(key)
        except (RedisError, OSError) as exc:
            self._trip(exc)
            CACHE_LOOKUPS.labels(result="bypass").inc()
            return None
        CACHE_LOOKUPS.labels(result="miss" if value is None else "hit").inc()
        return value.decode() if isinstance(value, bytes) else value

    async def put(self, key: str, value: str) -> None:
        if not self.available or self.client is None:
            return
        try:
            await self.client.set(key, value, ex=self.ttl)
        except (RedisError, OSError) as exc:
            self._trip(exc)

    async def invalidate_site(self, site: str) -> int:
        """Drop the listings that may include ``site`` (its own and the unfiltered ones)."""
        if not self.available or self.client is None:
            return 0
        removed = 0
        try:
            for pattern in (f"{DEVICES_PREFIX}:{site}:*", f"{DEVICES_PREFIX}:all:*"):
                keys = [k async for k in self.client.scan_iter(match=pattern, count=500)]
                if keys:
                    removed += int(await self.client.delete(*keys))
        except (RedisError, OSError) as exc:
            self._trip(exc)
        return removed

    async def ping(self) -> None:
        """Raise if Redis is unreachable (for /health; does not trip the breaker)."""
        if self.client is None:
            raise RuntimeError("no Redis configured")
        await self.client.ping()
