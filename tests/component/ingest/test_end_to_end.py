"""Device simulator -> Mosquitto -> MQTT consumer -> PostgreSQL -> API, counted exactly.

The registry is seeded the way ``tier0 simulate devices --seed-registry`` does it, a small fleet
publishes a few cycles, the real consumer writes them, and the real API app (reading from the
streaming replica, caching in Redis through Sentinel) must report exactly what the simulator
produced: every expectation below is computed from the messages the fleet generated.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import numpy as np
import pytest

from component.api.conftest import (
    Database,
    flush_device_cache,
    serve,
    settings_for,
)
from component.ingest.helpers import Consumers, count, wait_for_rows
from tier0.common.fleet import DEVICE_TYPES, SITES
from tier0.common.postgres import create_pool
from tier0.db.migrate import migrate_database
from tier0.stack.harness import Harness
from tier0.stack.postgres import wait_replayed
from tier0_simulators.devices import SimulationConfig, run_simulation
from tier0_simulators.fleet import DEVICES_PER_TYPE, FAULT, WARNING, Fleet
from tier0_simulators.publisher import WindowedPublisher
from tier0_simulators.registry import SITE_DETAILS, registry_rows, seed_registry

pytestmark = pytest.mark.component

PER_TYPE = 50  # 200 devices: 5 per site and type
DEVICES_PER_CYCLE = 100  # of 200: some devices never report in CYCLES cycles
CYCLES = 4


@dataclass(frozen=True)
class Published:
    """One reading as the simulator produced it."""

    topic: str
    device_id: str
    device_type: str
    site_id: str
    timestamp: datetime
    state: str
    status_code: str
    metrics: dict[str, Any]

    @classmethod
    def parse(cls, topic: str, payload: bytes) -> Published:
        body = json.loads(payload)
        return cls(
            topic,
            body["device_id"],
            body["device_type"],
            body["site_id"],
            datetime.fromisoformat(body["timestamp_utc"]),
            body["status"]["state"],
            body["status"]["code"],
            body["metrics"],
        )


class RecordingFleet(Fleet):
    """The simulated fleet, remembering every reading it produced (in publish order)."""

    def __init__(self, per_type: int, seed: int) -> None:
        super().__init__(per_type=per_type, seed=seed)
        self.produced: list[Published] = []

    def readings(self, devices: np.ndarray, timestamp: str) -> Iterator[tuple[str, bytes]]:
        for topic, payload in super().readings(devices, timestamp):
            self.produced.append(Published.parse(topic, payload))
            yield topic, payload


@pytest.fixture
async def database(stack: Harness) -> AsyncIterator[Database]:
    """A fresh migrated database, with its DSN on the primary and on the streaming replica."""
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    pg = stack.postgres
    created = Database(name, pg.create_database(name), pg.dsn(pg.replica, name))
    try:
        await migrate_database(created.primary)
        yield created
    finally:
        pg.drop_database(name)


@pytest.fixture
async def pool(database: Database) -> AsyncIterator[asyncpg.Pool]:
    """Overrides the ingest pool: the consumers write into ``database``."""
    db_pool = await create_pool(database.primary, min_size=1, max_size=4)
    try:
        yield db_pool
    finally:
        await db_pool.close()


async def test_seeding_registers_every_simulated_device_once(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        assert await seed_registry(conn) == DEVICES_PER_TYPE * len(DEVICE_TYPES)
        assert await seed_registry(conn) == 0  # idempotent

    sites = await pool.fetch("SELECT site_id, name, region, latitude, longitude FROM sites")
    assert {s["site_id"]: tuple(s)[1:] for s in sites} == SITE_DETAILS
    assert set(SITE_DETAILS) == set(SITES)
    grid = await pool.fetch(
        "SELECT site_id, device_type, count(*) AS n, count(DISTINCT model) AS models,"
        " count(installed_at) AS installed FROM device_registry GROUP BY 1, 2"
    )
    per_site_type = DEVICES_PER_TYPE // len(SITES)
    assert {(g["site_id"], g["device_type"]): g["n"] for g in grid} == {
        (site, kind): per_site_type for site in SITES for kind in DEVICE_TYPES
    }
    assert {(g["models"], g["installed"]) for g in grid} == {(1, per_site_type)}

    # The registry names exactly the devices, sites and types the full-size simulator publishes.
    fleet = Fleet(seed=2)
    sample = np.arange(0, fleet.size, 997)
    readings = [json.loads(payload) for _, payload in fleet.readings(sample, "2026-01-01T00:00Z")]
    assert len(readings) == len(sample)
    registered = await pool.fetch(
        "SELECT device_id, device_type, site_id FROM device_registry WHERE device_id = ANY($1)",
        [r["device_id"] for r in readings],
    )
    assert {tuple(r) for r in registered} == {
        (r["device_id"], r["device_type"], r["site_id"]) for r in readings
    }


async def test_simulated_fleet_reaches_the_api_with_exact_counts(
    stack: Harness,
    database: Database,
    pool: asyncpg.Pool,
    consumers: Consumers,
    publisher: WindowedPublisher,
) -> None:
    registry = registry_rows(PER_TYPE)
    async with pool.acquire() as conn:
        assert await seed_registry(conn, per_type=PER_TYPE) == len(registry)
    consumer = await consumers.start(batch_size=100)

    fleet = RecordingFleet(PER_TYPE, seed=5)
    # Faults develop rarely (0.2 % per reading); start some devices unhealthy so the state
    # filters and aggregates have more than "OK" to count.
    fleet.health[::9] = WARNING
    fleet.health[::13] = FAULT
    config = SimulationConfig(DEVICES_PER_CYCLE, interval_seconds=0, cycles=CYCLES)
    progress = await asyncio.to_thread(run_simulation, fleet, publisher, config)
    await asyncio.to_thread(publisher.wait_acked, 30)
    published = len(fleet.produced)
    assert progress.cycles == CYCLES
    assert publisher.acked == publisher.published == published == DEVICES_PER_CYCLE * CYCLES

    await wait_for_rows(pool, published)
    assert await count(pool, "device_telemetry") == published
    assert await count(pool, "dead_letters") == 0
    assert consumer.stats.received == published
    assert consumer.stats.duplicates == 0
    await wait_replayed(database.primary, database.replica)  # the API reads from the replica

    latest: dict[str, Published] = {}
    for reading in fleet.produced:
        if (
            reading.device_id not in latest
            or reading.timestamp > latest[reading.device_id].timestamp
        ):
            latest[reading.device_id] = reading
    devices = {device: (kind, site) for device, kind, site, _model, _at in registry}
    assert set(latest) < set(devices)  # the scenario covers devices without data ...
    assert {r.state for r in latest.values()} == {"OK", "WARNING", "FAULT"}  # ... and alarms
    assert all(devices[r.device_id] == (r.device_type, r.site_id) for r in latest.values())

    settings = settings_for(stack, database)
    await flush_device_cache(settings)  # listings cached by other tests share the key space
    try:
        async with serve(settings) as api:
            await check_devices(api, devices, latest)
            await check_sites(api, devices, latest)
            await check_history(api, fleet.produced)
    finally:
        await flush_device_cache(settings)


async def get(api: httpx.AsyncClient, url: str, **params: str | int) -> Any:
    response = await api.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def reading_of(item: dict[str, Any]) -> tuple[datetime, str, str, dict[str, Any]] | None:
    latest = item["latest"]
    if latest is None:
        return None
    when = datetime.fromisoformat(latest["timestamp_utc"])
    return when, latest["state"], latest["status_code"], latest["metrics"]


def expected_reading(reading: Published | None) -> tuple[datetime, str, str, dict[str, Any]] | None:
    if reading is None:
        return None
    return reading.timestamp, reading.state, reading.status_code, reading.metrics


async def check_devices(
    api: httpx.AsyncClient, devices: dict[str, tuple[str, str]], latest: dict[str, Published]
) -> None:
    """Totals, filters and every device's latest reading against what was published last."""
    listing = await get(api, "/api/devices", limit=500)
    assert listing["total"] == len(devices)
    items = {item["device_id"]: item for item in listing["items"]}
    assert list(items) == sorted(devices)
    for device, item in items.items():
        assert (item["device_type"], item["site_id"]) == devices[device]
        assert reading_of(item) == expected_reading(latest.get(device)), device

    by_site_type = Counter((site, kind) for kind, site in devices.values())
    for site in SITES:
        page = await get(api, "/api/devices", site=site, limit=500)
        assert page["total"] == sum(n for (s, _), n in by_site_type.items() if s == site)
        assert {item["site_id"] for item in page["items"]} == {site}
        for kind in DEVICE_TYPES:
            page = await get(api, "/api/devices", site=site, type=kind, limit=500)
            assert page["total"] == by_site_type[site, kind]
            assert {(i["device_type"], i["site_id"]) for i in page["items"]} == {(kind, site)}
    for kind in DEVICE_TYPES:
        page = await get(api, "/api/devices", type=kind, limit=500)
        assert page["total"] == sum(n for (_, k), n in by_site_type.items() if k == kind)

    states = Counter(reading.state for reading in latest.values())
    for state in ("OK", "WARNING", "FAULT"):
        page = await get(api, "/api/devices", state=state, limit=500)
        assert page["total"] == states[state], state
        assert sorted(item["device_id"] for item in page["items"]) == sorted(
            device for device, reading in latest.items() if reading.state == state
        )

    first = await api.get("/api/devices", params={"site": SITES[0], "limit": 7, "offset": 3})
    again = await api.get("/api/devices", params={"site": SITES[0], "limit": 7, "offset": 3})
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert again.json() == first.json()
    assert [item["device_id"] for item in first.json()["items"]] == sorted(
        device for device, (_, site) in devices.items() if site == SITES[0]
    )[3:10]


async def check_sites(
    api: httpx.AsyncClient, devices: dict[str, tuple[str, str]], latest: dict[str, Published]
) -> None:
    """Per-site device counts by type and by latest state, and the newest reading's time."""
    sites = await get(api, "/api/sites")
    assert [s["site_id"] for s in sites] == sorted(SITE_DETAILS)
    for site in sites:
        name = site["site_id"]
        assert (site["name"], site["region"]) == SITE_DETAILS[name][:2]
        members = [device for device, (_, s) in devices.items() if s == name]
        assert site["devices"] == len(members)
        assert site["devices_by_type"] == dict(Counter(devices[d][0] for d in members))
        by_state = Counter(latest[d].state if d in latest else "no_data" for d in members)
        assert site["devices_by_state"] == dict(by_state)
        newest = max((latest[d].timestamp for d in members if d in latest), default=None)
        last = site["last_reading_at"]
        assert (datetime.fromisoformat(last) if last else None) == newest


async def check_history(api: httpx.AsyncClient, produced: list[Published]) -> None:
    """The busiest device's time range holds every reading it published, oldest first."""
    busiest, _ = Counter(reading.device_id for reading in produced).most_common(1)[0]
    mine = sorted((r for r in produced if r.device_id == busiest), key=lambda r: r.timestamp)
    window = {
        "start": (mine[0].timestamp - timedelta(seconds=1)).isoformat(),
        "end": (mine[-1].timestamp + timedelta(seconds=1)).isoformat(),
    }
    history = await get(api, f"/api/devices/{busiest}/telemetry", **window)
    got = [
        (datetime.fromisoformat(r["timestamp_utc"]), r["state"], r["status_code"], r["metrics"])
        for r in history["readings"]
    ]
    assert got == [expected_reading(r) for r in mine]
