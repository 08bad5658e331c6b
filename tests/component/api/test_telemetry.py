"""``/api/telemetry`` series and state counts, and the fleet gauges on ``/metrics``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY

from tier0.api import fleet_gauges
from tier0.common.postgres import create_pool
from tier0.stack.postgres import wait_replayed

from .conftest import DEVICES_PER_SITE_TYPE, SITES, TYPES, Database

pytestmark = pytest.mark.component


async def test_series_average_each_site_and_type_per_bucket(client: httpx.AsyncClient) -> None:
    params = {"metric": "rpm", "site": "TX-EAGLE", "minutes": 60, "bucket_seconds": 3600}
    series = (await client.get("/api/telemetry/series", params=params)).json()

    assert {(s["site_id"], s["device_type"], s["metric"]) for s in series} == {
        ("TX-EAGLE", t, "rpm") for t in TYPES
    }
    # Seeded: device n of every site and type reads rpm 1000 + n, twice, within the hour.
    points = [p for s in series for p in s["points"]]
    assert sum(p["readings"] for p in points) == 2 * DEVICES_PER_SITE_TYPE * len(TYPES)
    assert {(p["min"], p["max"]) for p in points} == {(1000, 1000 + DEVICES_PER_SITE_TYPE - 1)}


async def test_series_take_several_metrics_and_skip_missing_ones(
    client: httpx.AsyncClient,
) -> None:
    params = [("metric", "rpm"), ("metric", "age"), ("metric", "no_such_metric"), ("minutes", "60")]
    series = (await client.get("/api/telemetry/series", params=params)).json()

    assert {s["metric"] for s in series} == {"rpm", "age"}
    assert {s["site_id"] for s in series} == set(SITES)
    assert max(p["max"] for s in series if s["metric"] == "age" for p in s["points"]) == 60


@pytest.mark.parametrize(
    "params",
    [
        {"metric": "rpm; DROP TABLE sites"},
        {"metric": "rpm", "minutes": 360, "bucket_seconds": 5},  # 4320 buckets
        {"metric": "rpm", "type": "toaster"},
    ],
)
async def test_series_refuse_bad_queries(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/api/telemetry/series", params=params)
    assert response.status_code == 422


async def test_status_counts_offline_devices_apart_from_states(
    client: httpx.AsyncClient, database: Database
) -> None:
    silent = f"WY-ALPHA-turbine-silent-{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(database.primary)
    try:
        await conn.execute(
            "INSERT INTO device_registry (device_id, device_type, site_id)"
            " VALUES ($1, 'turbine', 'WY-ALPHA')",
            silent,
        )
    finally:
        await conn.close()
    await wait_replayed(database.primary, database.replica)

    params = {"site": "WY-ALPHA", "type": "turbine", "offline_after_seconds": 86_400}
    body = (await client.get("/api/telemetry/status", params=params)).json()

    # Every fifth seeded device is in alarm; the new one has never reported.
    assert body == {
        "devices": DEVICES_PER_SITE_TYPE + 1,
        "offline": 1,
        "offline_after_seconds": 86_400,
        "by_state": {"alarm": 1, "running": DEVICES_PER_SITE_TYPE - 1},
    }


async def test_fleet_gauges_count_active_sessions_and_recent_devices(
    client: httpx.AsyncClient, database: Database
) -> None:
    now = datetime.now(UTC)
    conn = await asyncpg.connect(database.primary)
    try:
        await conn.executemany(
            "INSERT INTO device_telemetry (device_id, device_type, site_id, timestamp_utc,"
            " metrics, state, status_code) VALUES ($1, 'turbine', 'ND-RAVEN', $2, $3, 'OK', 'OK')",
            [(f"gauge-{n}", now + timedelta(seconds=1), json.dumps({"rpm": 1})) for n in range(3)],
        )
        await conn.execute("TRUNCATE user_sessions")
        await conn.executemany(
            "INSERT INTO user_sessions (session_id, user_id, region, state, last_event_at,"
            " last_seq) VALUES ($1, $2, 'EU', $3, now(), 1)",
            [(uuid.uuid4(), f"u{n}", state) for n, state in enumerate(["active"] * 4 + ["idle"])],
        )
    finally:
        await conn.close()
    pool = await create_pool(database.primary, min_size=1, max_size=1)
    try:
        await fleet_gauges.refresh(pool)
    finally:
        await pool.close()

    assert REGISTRY.get_sample_value("tier0_active_users") == 4
    # The 3 new devices, plus seeded ones only if they were written within the last minute.
    devices = REGISTRY.get_sample_value("tier0_active_devices")
    assert devices is not None
    assert 3 <= devices <= 3 + len(SITES) * len(TYPES) * DEVICES_PER_SITE_TYPE
    metrics = (await client.get("/metrics")).text
    assert "tier0_active_users 4.0" in metrics
    uptime = REGISTRY.get_sample_value("tier0_uptime_seconds")
    assert uptime is not None
    assert uptime > 0
