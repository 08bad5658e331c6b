"""Gauges of the Tier0Region and the Sentinels, for alerts the operator's metrics cannot raise.

The operator counts finished failovers; a failover stuck half-way, or Sentinels that disagree
about the Redis master, are seen from outside: the API reads the resource (the same ``get`` its
failover endpoints use) and asks every Sentinel, on the fleet gauges' schedule.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from prometheus_client import Gauge
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tier0.api.regions import RegionClient
from tier0.common.settings import Settings

SENTINEL_TIMEOUT_SECONDS = 1.0

REGION_EPOCH = Gauge("tier0_region_epoch", "status.epoch: +1 per switchover or failover")
REGION_READY = Gauge("tier0_region_ready", "1 while status.phase is Ready")
FAILOVER_IN_PROGRESS = Gauge(
    "tier0_region_failover_in_progress", "1 while a switchover or failover is under way"
)
FAILOVER_STARTED = Gauge(
    "tier0_region_failover_started_timestamp_seconds",
    "Start of the switchover or failover under way (0 when none)",
)
ACTIVE_REGION = Gauge("tier0_region_active", "1 for the region that is active", ["region"])
SENTINEL_UP = Gauge("tier0_sentinel_up", "1 when the Sentinel answered", ["sentinel"])
SENTINEL_MASTER = Gauge(
    "tier0_sentinel_master",
    "1 for the master address each Sentinel reports",
    ["sentinel", "address"],
)


async def refresh_region(regions: RegionClient) -> None:
    """Read the Tier0Region once and set the region gauges."""
    status = (await regions.get()).get("status", {})
    REGION_EPOCH.set(int(status.get("epoch", 0)))
    REGION_READY.set(1 if status.get("phase") == "Ready" else 0)
    running = status.get("failover")
    FAILOVER_IN_PROGRESS.set(1 if running else 0)
    started = running.get("startedAt") if running else None
    FAILOVER_STARTED.set(datetime.fromisoformat(started).timestamp() if started else 0)
    ACTIVE_REGION.clear()
    if status.get("activeRegion"):
        ACTIVE_REGION.labels(status["activeRegion"]).set(1)


async def _master_seen_by(host: str, port: int, master_name: str) -> str | None:
    sentinel = Redis(
        host=host,
        port=port,
        socket_timeout=SENTINEL_TIMEOUT_SECONDS,
        socket_connect_timeout=SENTINEL_TIMEOUT_SECONDS,
        decode_responses=True,
    )
    try:
        found = await sentinel.execute_command(  # type: ignore[no-untyped-call]
            "SENTINEL", "get-master-addr-by-name", master_name
        )
    except (RedisError, OSError):
        return None
    finally:
        await sentinel.aclose()
    return f"{found[0]}:{found[1]}" if found else "none"


async def refresh_sentinels(settings: Settings) -> None:
    """Ask every Sentinel which master it follows; replace the previous answers."""
    addresses = settings.sentinel_addresses
    seen = await asyncio.gather(
        *(_master_seen_by(host, port, settings.redis_master_name) for host, port in addresses)
    )
    SENTINEL_MASTER.clear()
    for (host, port), master in zip(addresses, seen, strict=True):
        name = f"{host}:{port}"
        SENTINEL_UP.labels(name).set(0 if master is None else 1)
        if master is not None:
            SENTINEL_MASTER.labels(name, master).set(1)
