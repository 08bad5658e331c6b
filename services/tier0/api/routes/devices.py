"""``/api/devices``: cached listings, telemetry ranges, registration (API key)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import asyncpg
from fastapi import APIRouter, HTTPException, Query, Response

from tier0.api.cache import devices_key
from tier0.api.deps import CacheDep, ReadConn, ResourcesDep, WriteConn, WriteScope
from tier0.api.models import DeviceCreate, DevicePublic, DeviceType, Page, TelemetryPublic
from tier0.api.store import devices as store

router = APIRouter(prefix="/api/devices", tags=["devices"])
REPLICA_WAIT_SECONDS = 2.0
JSON = "application/json"


@router.get("", response_model=Page[DevicePublic])
async def list_devices(
    conn: ReadConn,
    cache: CacheDep,
    site: Annotated[str | None, Query(max_length=32)] = None,
    type: Annotated[DeviceType | None, Query()] = None,
    state: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Devices with their latest reading; Redis cache-aside (``X-Cache: hit|miss|bypass``)."""
    key = devices_key(site=site, device_type=type, state=state, limit=limit, offset=offset)
    was_available = cache.available
    cached = await cache.get(key)
    if cached is not None:
        return Response(cached, media_type=JSON, headers={"X-Cache": "hit"})
    total, items = await store.list_devices(
        conn, site=site, device_type=type, state=state, limit=limit, offset=offset
    )
    body = Page[DevicePublic](items=items, total=total, limit=limit, offset=offset)
    payload = body.model_dump_json()
    await cache.put(key, payload)
    outcome = "miss" if was_available and cache.available else "bypass"
    return Response(payload, media_type=JSON, headers={"X-Cache": outcome})


async def _wait_for_replica(resources: ResourcesDep, lsn: str) -> None:
    """Let the replica replay ``lsn`` first, so the next cache fill cannot see the old data."""
    deadline = asyncio.get_running_loop().time() + REPLICA_WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        caught_up = await resources.read_pool.fetchval(
            "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", lsn
        )
        if caught_up is not False:  # True, or NULL when the "replica" is a primary
            return
        await asyncio.sleep(0.01)


@router.post("", status_code=201, dependencies=[WriteScope])
async def register_device(
    device: DeviceCreate, conn: WriteConn, resources: ResourcesDep, cache: CacheDep
) -> DevicePublic:
    """Add a device to the registry (``X-API-Key`` of the write scope required)."""
    try:
        created = await store.insert_device(conn, device=device)
    except asyncpg.UniqueViolationError as exc:
        raise HTTPException(409, f"device {device.device_id!r} already exists") from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise HTTPException(422, f"unknown site {device.site_id!r}") from exc
    if resources.has_replica:
        await _wait_for_replica(
            resources, str(await conn.fetchval("SELECT pg_current_wal_lsn()::text"))
        )
    await cache.invalidate_site(device.site_id)
    return created


@router.get("/{device_id}/telemetry")
async def device_telemetry(
    device_id: str,
    conn: ReadConn,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> TelemetryPublic:
    """Readings in ``[start, end)``; defaults to the hour before ``end`` (default now)."""
    end = end or datetime.now(UTC)
    start = start or end - timedelta(hours=1)
    if start.tzinfo is None or end.tzinfo is None:
        raise HTTPException(422, "start and end need a time zone (e.g. 2026-01-01T00:00:00Z)")
    if start >= end:
        raise HTTPException(422, "start must be before end")
    if not await store.device_exists(conn, device_id=device_id):
        raise HTTPException(404, f"no device {device_id!r}")
    readings = await store.telemetry(conn, device_id=device_id, start=start, end=end, limit=limit)
    return TelemetryPublic(device_id=device_id, start=start, end=end, readings=readings)
