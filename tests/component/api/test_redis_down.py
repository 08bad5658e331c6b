"""With Redis gone, the API keeps answering from PostgreSQL and says so in /health.

The Redis group here is this test's own: stopping the shared stack's Redis would disturb
other tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tier0.stack.base import LOOPBACK
from tier0.stack.harness import Harness
from tier0.stack.redis import RedisGroup

from .conftest import Database, serve, settings_for

pytestmark = pytest.mark.component


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisGroup]:
    group = RedisGroup(tmp_path / "redis")
    try:
        group.start()
        yield group
    finally:
        group.stop()


async def test_devices_are_served_from_postgres_when_redis_is_down(
    stack: Harness, database: Database, own_redis: RedisGroup
) -> None:
    sentinels = ",".join(f"{LOOPBACK}:{p}" for p in own_redis.sentinel_ports)
    settings = settings_for(stack, database, sentinels=sentinels, password=own_redis.password)
    params = {"site": "TX-EAGLE"}
    async with serve(settings) as client:
        cold = await client.get("/api/devices", params=params)
        warm = await client.get("/api/devices", params=params)
        assert (cold.headers["x-cache"], warm.headers["x-cache"]) == ("miss", "hit")
        assert (await client.get("/health")).json()["status"] == "ok"

        await asyncio.to_thread(own_redis.stop)
        for _ in range(3):
            response = await client.get("/api/devices", params=params)
            assert response.status_code == 200
            assert response.headers["x-cache"] == "bypass"
            assert response.json() == warm.json()
        health = await client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["dependencies"]["redis"]["status"] == "down"
        assert health.json()["dependencies"]["postgres"]["status"] == "up"
