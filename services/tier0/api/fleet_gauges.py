"""``tier0_active_users`` and ``tier0_active_devices``: counted in PostgreSQL by the API.

Only the database knows them (each consumer sees a share of the traffic), and a scrape must not
run queries, so a background task refreshes the gauges on the read pool. Every API replica
exports the same values: aggregate with ``max()``, not ``sum()``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import asyncpg
from prometheus_client import Gauge

from tier0.common.logging import get_logger

log = get_logger(__name__)

REFRESH_SECONDS = 15.0
# A store that hangs must not hold up shutdown (which waits for the round under way).
ROUND_TIMEOUT_SECONDS = 10.0
# A device that sent nothing for this long is not counted active (simulated devices report
# every few seconds; a minute tolerates a consumer restart).
ACTIVE_DEVICE_WINDOW_SECONDS = 60

ACTIVE_USERS = Gauge("tier0_active_users", "User sessions in the active state")
ACTIVE_DEVICES = Gauge(
    "tier0_active_devices",
    f"Devices with a reading in the last {ACTIVE_DEVICE_WINDOW_SECONDS} seconds",
)

ACTIVE_USERS_SQL = "SELECT count(*) FROM user_sessions WHERE state = 'active'"
ACTIVE_DEVICES_SQL = (
    "SELECT count(DISTINCT device_id) FROM device_telemetry"
    " WHERE timestamp_utc > now() - make_interval(secs => $1)"
)


async def refresh(pool: asyncpg.Pool) -> None:
    """Count once and set both gauges."""
    async with pool.acquire() as conn:
        users = await conn.fetchval(ACTIVE_USERS_SQL)
        devices = await conn.fetchval(ACTIVE_DEVICES_SQL, ACTIVE_DEVICE_WINDOW_SECONDS)
    ACTIVE_USERS.set(users)
    ACTIVE_DEVICES.set(devices)


Refresher = Callable[[], Awaitable[None]]


async def refresh_until(
    stop: asyncio.Event, refreshers: Sequence[Refresher], *, every: float = REFRESH_SECONDS
) -> None:
    """Run every refresher each round until ``stop`` is set; one that fails keeps its last
    values (and is retried next round) without holding up the others."""
    while not stop.is_set():
        results = await asyncio.gather(
            *(asyncio.wait_for(refresh(), ROUND_TIMEOUT_SECONDS) for refresh in refreshers),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Exception):
                log.warning("gauges not refreshed", error=repr(result)[:200])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


@asynccontextmanager
async def refreshing(*refreshers: Refresher) -> AsyncIterator[None]:
    """Refresh gauges in the background while the block runs.

    Stopping waits for the round under way (each query has a timeout) instead of cancelling
    it: a connection cancelled half-open is not returned to its pool, and leaks.
    """
    stop = asyncio.Event()
    task = asyncio.create_task(refresh_until(stop, refreshers), name="gauges")
    try:
        yield
    finally:
        stop.set()
        await task
