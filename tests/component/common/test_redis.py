"""``SentinelMaster`` on the stack's Redis and Sentinels, and with a Sentinel that never answers."""

from __future__ import annotations

import gc
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from redis.exceptions import RedisError

from tier0.common.redis import FAIL_FAST_TIMEOUT_SECONDS, SentinelMaster
from tier0.common.settings import Settings
from tier0.stack.base import LOOPBACK
from tier0.stack.harness import Harness

pytestmark = pytest.mark.component
DSN = "postgresql://tier0:q8JvT1c0xYl3pZ2w9sR7uV4k@127.0.0.1:1/unused"


def _settings(sentinels: str, password: str, master_name: str = "tier0") -> Settings:
    return Settings(
        postgres_dsn=DSN,
        redis_sentinels=sentinels,
        redis_master_name=master_name,
        redis_password=SecretStr(password),
    )


@pytest.fixture
def silent_sentinel() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(8)
        yield f"{LOOPBACK}:{sock.getsockname()[1]}"


@pytest.mark.parametrize("fail_fast", [False, True])
async def test_master_round_trip_then_everything_is_closed(stack: Harness, fail_fast: bool) -> None:
    env = stack.environment()
    settings = _settings(
        env["TIER0_REDIS_SENTINELS"], env["TIER0_REDIS_PASSWORD"], env["TIER0_REDIS_MASTER_NAME"]
    )
    key, value = f"probe:{uuid.uuid4().hex}", uuid.uuid4().hex
    master = SentinelMaster(settings, fail_fast=fail_fast)
    async with master as client:
        await client.set(key, value, ex=30)
        assert await client.get(key) == value
        assert await client.delete(key) == 1
    del master, client
    gc.collect()  # an unclosed connection would warn now, and warnings are errors here


async def test_fail_fast_gives_up_on_a_silent_sentinel_quickly(silent_sentinel: str) -> None:
    async with SentinelMaster(
        _settings(silent_sentinel, "q8JvT1c0xYl3pZ2w9sR7uV4k"), fail_fast=True
    ) as client:
        started = time.monotonic()
        with pytest.raises(RedisError):
            await client.ping()
        elapsed = time.monotonic() - started
    assert FAIL_FAST_TIMEOUT_SECONDS * 0.8 < elapsed < FAIL_FAST_TIMEOUT_SECONDS * 3
