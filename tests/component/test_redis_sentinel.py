"""Redis master + replica watched by three Sentinels."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel

from tier0.stack.harness import Harness
from tier0.stack.redis import MASTER_NAME

pytestmark = pytest.mark.component


@asynccontextmanager
async def _sentinel(stack: Harness) -> AsyncIterator[Sentinel]:
    sentinel = Sentinel(stack.redis.sentinels, password=stack.redis.password, socket_timeout=2.0)
    try:
        yield sentinel
    finally:
        for client in sentinel.sentinels:
            await client.aclose()


async def _current_master(stack: Harness) -> int:
    async with _sentinel(stack) as sentinel:
        address = await sentinel.discover_master(MASTER_NAME)
    return int(address[1])


async def test_sentinel_names_the_master_and_replica_serves_reads(stack: Harness) -> None:
    master_port = await _current_master(stack)
    assert master_port in (stack.redis.master_port, stack.redis.replica_port)
    key, value = f"probe:{uuid.uuid4().hex}", uuid.uuid4().hex
    async with _sentinel(stack) as sentinel:
        master = sentinel.master_for(MASTER_NAME)
        replica = sentinel.slave_for(MASTER_NAME)
        try:
            await master.set(key, value)
            await master.wait(1, 2000)  # replicated to one replica before we read it there
            assert (await replica.get(key)).decode() == value
        finally:
            await master.aclose()
            await replica.aclose()


async def test_data_nodes_require_the_password(stack: Harness) -> None:
    client = aioredis.Redis(host="127.0.0.1", port=stack.redis.master_port)
    try:
        with pytest.raises(aioredis.AuthenticationError):
            await client.ping()
    finally:
        await client.aclose()


async def test_sentinel_failover_moves_the_master_to_the_replica(stack: Harness) -> None:
    before = await _current_master(stack)
    expected = (
        stack.redis.replica_port if before == stack.redis.master_port else stack.redis.master_port
    )
    host, port = stack.redis.sentinels[0]
    sentinel_node = aioredis.Redis(host=host, port=port, decode_responses=True)
    try:
        assert await sentinel_node.execute_command("SENTINEL FAILOVER", MASTER_NAME)
    finally:
        await sentinel_node.aclose()

    # Every Sentinel comes to agree. The others learn the new master from the leader's hello
    # messages (every 2 s), so they agree one after the other, not at once.
    async with asyncio.timeout(30):
        while await _masters_named(stack) != {expected}:
            await asyncio.sleep(0.2)
    promoted = aioredis.Redis(port=expected, password=stack.redis.password, decode_responses=True)
    try:
        assert (await promoted.info("replication"))["role"] == "master"
    finally:
        await promoted.aclose()
    # Later tests share this group: leave it with its replica following the new master.
    await asyncio.to_thread(stack.redis.wait_discovered, 60)


async def _masters_named(stack: Harness) -> set[int]:
    """The master's port according to each Sentinel."""
    ports = set()
    for host, port in stack.redis.sentinels:
        node = aioredis.Redis(host=host, port=port, decode_responses=True)
        try:
            ports.add(int((await node.sentinel_get_master_addr_by_name(MASTER_NAME))[1]))
        finally:
            await node.aclose()
    return ports
