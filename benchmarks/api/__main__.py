"""API benchmark: ``GET /api/devices`` served from the Redis cache (hit) vs PostgreSQL (miss).

Run from the repository root with ``.venv/bin/python -m benchmarks.api``. It starts its own
PostgreSQL (primary + replica) and Redis (+ Sentinels) through ``tier0.stack``, seeds
``--devices`` devices over 10 sites and 4 types with a few readings each, and calls the app
in-process (httpx ASGI transport, so no network noise). Each sample picks a random
site/type/page, deletes its cache key (untimed), times the request (miss: PostgreSQL + SET),
then times it again (hit). The miss is the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from tier0.api.cache import devices_key
from tier0.api.main import create_app
from tier0.common.settings import Settings
from tier0.db.migrate import migrate
from tier0.stack.base import LOOPBACK
from tier0.stack.postgres import PostgresCluster
from tier0.stack.redis import RedisGroup

SITES = ("WY-ALPHA", "TX-EAGLE", "ND-RAVEN", "CA-DELTA", "OK-BRAVO",
         "CO-SIERRA", "LA-GULF", "NM-MESA", "AK-NORTH", "MT-PEAK")  # fmt: skip
TYPES = ("turbine", "thermal_engine", "electrical_rotor", "oil_gas")
READINGS_PER_DEVICE = 3
PAGE = 100
console = Console(highlight=False)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def seed(dsn: str, devices: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await conn.executemany(
            "INSERT INTO sites (site_id, name, region) VALUES ($1, $2, 'region1')",
            [(s, s.title()) for s in SITES],
        )
        rows = [
            (f"{SITES[n % 10]}-{TYPES[n // 10 % 4]}-{n:06d}", TYPES[n // 10 % 4], SITES[n % 10])
            for n in range(devices)
        ]
        await conn.copy_records_to_table(
            "device_registry", records=rows, columns=["device_id", "device_type", "site_id"]
        )
        now = datetime.now(UTC)
        readings = [
            (dev, dtype, site, now - timedelta(seconds=10 * k), '{"rpm": 1500, "temp_c": 71.5}',
             "running", "OK")
            for dev, dtype, site in rows
            for k in range(READINGS_PER_DEVICE)
        ]  # fmt: skip
        await conn.copy_records_to_table(
            "device_telemetry",
            records=readings,
            columns=["device_id", "device_type", "site_id", "timestamp_utc", "metrics", "state",
                     "status_code"],
        )  # fmt: skip
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def measure(settings: Settings, samples: int, seed_value: int) -> dict[str, list[float]]:
    app = create_app(settings)
    rng = random.Random(seed_value)
    timings: dict[str, list[float]] = {"miss": [], "hit": []}
    async with app.router.lifespan_context(app):
        cache = app.state.resources.cache
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for n in range(samples + 20):  # the first 20 warm pools and code paths up
                site, dtype, offset = rng.choice(SITES), rng.choice(TYPES), rng.randrange(5) * PAGE
                params: dict[str, str | int] = {
                    "site": site,
                    "type": dtype,
                    "limit": PAGE,
                    "offset": offset,
                }
                key = devices_key(
                    site=site, device_type=dtype, state=None, limit=PAGE, offset=offset
                )
                await cache.client.delete(key)
                for expected in ("miss", "hit"):
                    started = time.perf_counter()
                    response = await client.get("/api/devices", params=params)
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.headers["x-cache"] == expected, response.headers
                    if n >= 20:
                        timings[expected].append(elapsed)
    return timings


def report(timings: dict[str, list[float]], devices: int) -> None:
    table = Table(title=f"GET /api/devices?site&type&limit={PAGE} — {devices:,} devices")
    for column in ("path", "samples", "p50 ms", "p99 ms", "p50 speed-up vs miss"):
        table.add_column(column, justify="right")
    base = percentile(timings["miss"], 0.5)
    for name, label in (("miss", "miss (PostgreSQL replica + SET)"), ("hit", "hit (Redis)")):
        p50 = percentile(timings[name], 0.5)
        table.add_row(label, str(len(timings[name])), f"{p50:.2f}",
                      f"{percentile(timings[name], 0.99):.2f}", f"{base / p50:.1f}x")  # fmt: skip
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tier0-bench-api-"))
    postgres, redis = PostgresCluster(root / "postgres"), RedisGroup(root / "redis")
    try:
        postgres.start()
        redis.start()
        asyncio.run(seed(postgres.dsn(postgres.primary), args.devices))
        settings = Settings(
            postgres_dsn=postgres.dsn(postgres.primary),
            postgres_replica_dsn=postgres.dsn(postgres.replica),
            redis_sentinels=",".join(f"{LOOPBACK}:{p}" for p in redis.sentinel_ports),
            redis_password=SecretStr(redis.password),
        )
        report(asyncio.run(measure(settings, args.samples, args.seed)), args.devices)
    finally:
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
