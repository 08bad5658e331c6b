"""Simulator -> Mosquitto -> consumer -> PostgreSQL, counted exactly."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from component.ingest.helpers import Consumers, count, wait_for_rows
from tier0_simulators.devices import SimulationConfig, run_simulation
from tier0_simulators.fleet import Fleet
from tier0_simulators.publisher import WindowedPublisher

pytestmark = pytest.mark.component


async def simulate(
    publisher: WindowedPublisher, *, devices: int, cycles: int, seed: int = 1
) -> int:
    """Publish ``cycles`` cycles of ``devices`` readings; returns how many the broker acked."""
    config = SimulationConfig(devices_per_cycle=devices, interval_seconds=0, cycles=cycles)
    await asyncio.to_thread(run_simulation, Fleet(seed=seed), publisher, config)
    await asyncio.to_thread(publisher.wait_acked, 30)
    return publisher.acked


async def test_every_published_reading_becomes_one_row(
    consumers: Consumers, publisher: WindowedPublisher, pool: asyncpg.Pool
) -> None:
    consumer = await consumers.start()
    published = await simulate(publisher, devices=1000, cycles=4)

    await wait_for_rows(pool, published)
    assert published == 4000
    assert await count(pool, "device_telemetry") == published
    assert await count(pool, "dead_letters") == 0
    per_type = dict(
        await pool.fetch("SELECT device_type, count(*) FROM device_telemetry GROUP BY 1")
    )
    assert set(per_type) == {"turbine", "thermal_engine", "electrical_rotor", "oil_gas"}
    row = await pool.fetchrow(
        "SELECT * FROM device_telemetry WHERE device_type = 'turbine' LIMIT 1"
    )
    assert row is not None
    assert set(json.loads(row["metrics"])) >= {"rpm", "inlet_temp_c", "power_kw", "vibration_mm"}
    assert row["status_code"].startswith("TURB-")
    assert row["received_at"] >= row["timestamp_utc"]
    assert consumer.stats.received == published
    assert consumer.stats.duplicates == 0


async def test_two_consumers_share_the_load_without_duplicates(
    consumers: Consumers, publisher: WindowedPublisher, pool: asyncpg.Pool
) -> None:
    first = await consumers.start("a", batch_size=200)
    second = await consumers.start("b", batch_size=200)
    published = await simulate(publisher, devices=2000, cycles=3)

    await wait_for_rows(pool, published)
    assert await count(pool, "device_telemetry") == published == 6000
    assert first.stats.received > 0
    assert second.stats.received > 0
    assert first.stats.received + second.stats.received == published
    assert first.stats.duplicates + second.stats.duplicates == 0
