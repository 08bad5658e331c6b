"""Devices, their latest reading, telemetry ranges and per-site aggregates."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

import asyncpg

from tier0.api.models import DeviceCreate, DevicePublic, Reading, SitePublic

# The latest reading is one backward step on device_telemetry's (device_id, timestamp_utc) key.
LATEST = """
FROM device_registry r
LEFT JOIN LATERAL (
    SELECT d.timestamp_utc, d.state, d.status_code, d.metrics FROM device_telemetry d
    WHERE d.device_id = r.device_id ORDER BY d.timestamp_utc DESC LIMIT 1
) t ON true
"""
FILTERS = """
WHERE ($1::text IS NULL OR r.site_id = $1) AND ($2::text IS NULL OR r.device_type = $2)
  AND ($3::text IS NULL OR t.state = $3)
"""


def _reading(record: asyncpg.Record) -> Reading | None:
    if record["timestamp_utc"] is None:
        return None
    metrics = record["metrics"]
    return Reading(
        timestamp_utc=record["timestamp_utc"],
        state=record["state"],
        status_code=record["status_code"],
        metrics=json.loads(metrics) if isinstance(metrics, str) else metrics,
    )


def _device(record: asyncpg.Record) -> DevicePublic:
    return DevicePublic(
        device_id=record["device_id"],
        device_type=record["device_type"],
        site_id=record["site_id"],
        model=record["model"],
        installed_at=record["installed_at"],
        latest=_reading(record),
    )


async def list_devices(
    conn: asyncpg.Connection,
    *,
    site: str | None,
    device_type: str | None,
    state: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[DevicePublic]]:
    """A page of devices (by id) with their latest reading, and how many match in all."""
    params = (site, device_type, state)
    if state is None:  # the count needs no telemetry lookups then
        total = await conn.fetchval(
            "SELECT count(*) FROM device_registry r WHERE ($1::text IS NULL OR r.site_id = $1)"
            " AND ($2::text IS NULL OR r.device_type = $2)",
            site,
            device_type,
        )
    else:
        total = await conn.fetchval(f"SELECT count(*) {LATEST} {FILTERS}", *params)
    records = await conn.fetch(
        f"SELECT r.*, t.* {LATEST} {FILTERS} ORDER BY r.device_id LIMIT $4 OFFSET $5",
        *params,
        limit,
        offset,
    )
    return int(total), [_device(r) for r in records]


async def insert_device(conn: asyncpg.Connection, *, device: DeviceCreate) -> DevicePublic:
    """Register a device; raises asyncpg's UniqueViolation / ForeignKeyViolation as they come."""
    record = await conn.fetchrow(
        "INSERT INTO device_registry (device_id, device_type, site_id, model, installed_at)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING *, NULL::timestamptz AS timestamp_utc",
        device.device_id,
        device.device_type,
        device.site_id,
        device.model,
        device.installed_at,
    )
    assert record is not None
    return _device(record)


async def device_exists(conn: asyncpg.Connection, *, device_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM device_registry WHERE device_id = $1)"
            " OR EXISTS (SELECT 1 FROM device_telemetry WHERE device_id = $1)",
            device_id,
        )
    )


async def telemetry(
    conn: asyncpg.Connection, *, device_id: str, start: datetime, end: datetime, limit: int
) -> list[Reading]:
    """Readings in [start, end), oldest first."""
    records = await conn.fetch(
        "SELECT timestamp_utc, state, status_code, metrics FROM device_telemetry"
        " WHERE device_id = $1 AND timestamp_utc >= $2 AND timestamp_utc < $3"
        " ORDER BY timestamp_utc LIMIT $4",
        device_id,
        start,
        end,
        limit,
    )
    return [r for r in map(_reading, records) if r is not None]


async def site_aggregates(conn: asyncpg.Connection) -> list[SitePublic]:
    """Each site with device counts by type and by latest state."""
    sites = await conn.fetch("SELECT site_id, name, region FROM sites ORDER BY site_id")
    groups = await conn.fetch(
        f"SELECT r.site_id, r.device_type, t.state, count(*) AS n,"
        f" max(t.timestamp_utc) AS last_at {LATEST} GROUP BY 1, 2, 3"
    )
    by_type: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_state: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    last: dict[str, datetime] = {}
    for g in groups:
        by_type[g["site_id"]][g["device_type"]] += g["n"]
        by_state[g["site_id"]][g["state"] or "no_data"] += g["n"]
        if g["last_at"] is not None:
            last[g["site_id"]] = max(g["last_at"], last.get(g["site_id"], g["last_at"]))
    result: list[SitePublic] = []
    for s in sites:
        types: dict[str, Any] = dict(by_type[s["site_id"]])
        result.append(
            SitePublic(
                site_id=s["site_id"],
                name=s["name"],
                region=s["region"],
                devices=sum(types.values()),
                devices_by_type=types,
                devices_by_state=dict(by_state[s["site_id"]]),
                last_reading_at=last.get(s["site_id"]),
            )
        )
    return result
