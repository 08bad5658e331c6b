"""A migrated, seeded database per module and an API app on it (through httpx's ASGI transport)."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from tier0.api.cache import DeviceCache
from tier0.api.main import create_app
from tier0.common.settings import Settings
from tier0.db.migrate import migrate
from tier0.stack.harness import Harness
from tier0.stack.postgres import wait_replayed

API_KEY = "component-test-key-" + uuid.uuid4().hex[:12]
SITES = ("WY-ALPHA", "TX-EAGLE", "ND-RAVEN")
TYPES = ("turbine", "thermal_engine", "electrical_rotor", "oil_gas")
DEVICES_PER_SITE_TYPE = 5  # 3 sites x 4 types x 5 = 60 devices
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Database:
    name: str
    primary: str
    replica: str


def device_id(site: str, device_type: str, n: int) -> str:
    return f"{site}-{device_type}-{n:03d}"


def latest_state(n: int) -> str:
    """Seeded latest state: every fifth device is in alarm, the rest run."""
    return "alarm" if n % 5 == 0 else "running"


async def _prepare(dsn: str, replica: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await conn.executemany(
            "INSERT INTO sites (site_id, name, region) VALUES ($1, $2, $3)",
            [(s, s.title(), "region1") for s in SITES],
        )
        devices = [
            (device_id(s, t, n), t, s)
            for s in SITES
            for t in TYPES
            for n in range(DEVICES_PER_SITE_TYPE)
        ]
        await conn.executemany(
            "INSERT INTO device_registry (device_id, device_type, site_id) VALUES ($1, $2, $3)",
            devices,
        )
        readings = []
        for dev, dtype, site in devices:
            n = int(dev.rsplit("-", 1)[1])
            for age, state in ((60, "running"), (0, latest_state(n))):
                metrics = json.dumps({"rpm": 1000 + n, "age": age})
                ts = NOW - timedelta(seconds=age)
                readings.append((dev, dtype, site, ts, metrics, state, "OK"))
        await conn.executemany(
            "INSERT INTO device_telemetry (device_id, device_type, site_id, timestamp_utc,"
            " metrics, state, status_code) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
            readings,
        )
    finally:
        await conn.close()
    await wait_replayed(dsn, replica)


@pytest.fixture(scope="module")
def database(stack: Harness) -> Iterator[Database]:
    name = f"api_{uuid.uuid4().hex[:10]}"
    pg = stack.postgres
    db = Database(name, pg.create_database(name), pg.dsn(pg.replica, name))
    asyncio.run(_prepare(db.primary, db.replica))
    yield db
    pg.drop_database(name)


def settings_for(
    stack: Harness, database: Database, *, sentinels: str | None = None, password: str | None = None
) -> Settings:
    env = stack.environment()
    return Settings(
        postgres_dsn=database.primary,
        postgres_replica_dsn=database.replica,
        redis_sentinels=sentinels or env["TIER0_REDIS_SENTINELS"],
        redis_master_name=env["TIER0_REDIS_MASTER_NAME"],
        redis_password=SecretStr(password or env["TIER0_REDIS_PASSWORD"]),
        api_key=SecretStr(API_KEY),
    )


@asynccontextmanager
async def serve(
    settings: Settings, *, access_log: io.StringIO | None = None, cache_ttl: int = 60
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, behind an in-process HTTP client."""
    app = create_app(settings, access_log=access_log, cache_ttl=cache_ttl)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tier0.test") as client:
            yield client


CACHE_TTL = 2


@pytest.fixture
def access_log() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
async def client(
    stack: Harness, database: Database, access_log: io.StringIO
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the shared stack's Redis, with a short cache TTL so expiry is testable."""
    settings = settings_for(stack, database)
    await flush_device_cache(settings)
    async with serve(settings, access_log=access_log, cache_ttl=CACHE_TTL) as api:
        yield api


async def flush_device_cache(settings: Settings) -> None:
    """Other tests share this Redis; remove only the device listings."""
    cache = DeviceCache.through_sentinel(settings)
    try:
        assert cache.client is not None
        keys = [k async for k in cache.client.scan_iter(match="devices:*")]
        if keys:
            await cache.client.delete(*keys)
    finally:
        await cache.close()
