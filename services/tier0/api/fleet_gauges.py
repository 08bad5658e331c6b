"""``tier0_active_users`` and ``tier0_active_devices``: counted in PostgreSQL by the API.

Only the database knows them (each consumer sees a share of the traffic), and a scrape must not
run queries, so a background task refreshes the gauges on the read pool. Every API replica
exports the same values: aggregate with ``max()``, not ``sum()``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from prometheus_client import Gauge

from tier0.common.logging import get_logger

log = get_logger(__name__)

REFRESH_SECONDS = 15.0
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


async def refresh_forever(pool: asyncpg.Pool, *, every: float = REFRESH_SECONDS) -> None:
    """Refresh until cancelled; a failed round keeps the last values and is retried."""
    while True:
        try:
            await refresh(pool)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("fleet gauges not refreshed", error=repr(exc)[:200])
        await asyncio.sleep(every)


@asynccontextmanager
async def refreshing(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """Refresh the gauges in the background while the block runs."""
    task = asyncio.create_task(refresh_forever(pool), name="fleet-gauges")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
