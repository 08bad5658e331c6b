"""A fresh, migrated database per test module, a pool on it, per-test queue names, and
session consumers that run in the background."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import pytest

from component.conftest import migrated_database
from tier0.consumers.rabbitmq import SessionConsumer
from tier0.stack.harness import Harness


@pytest.fixture(scope="module")
def database(stack: Harness) -> Iterator[str]:
    """DSN of a new database on the primary with every migration applied."""
    with migrated_database(stack, "sessions") as dsn:
        yield dsn


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database, min_size=1, max_size=4) as created:
        yield created


@pytest.fixture
def queue_name() -> str:
    """Tests share one RabbitMQ node; each gets its own queue (and dead-letter pair)."""
    return f"user_activity_{uuid.uuid4().hex[:8]}"


Runner = Callable[[str], Awaitable[SessionConsumer]]


@pytest.fixture
async def run_consumer(stack: Harness, pool: asyncpg.Pool) -> AsyncIterator[Runner]:
    """Start consumers in the background; they are stopped (and drained) after the test."""
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def start(queue: str) -> SessionConsumer:
        consumer = SessionConsumer(amqp_url=stack.rabbitmq.url, pool=pool, queue=queue)
        tasks.append(asyncio.create_task(consumer.run(stop)))
        await asyncio.wait_for(consumer.ready.wait(), 30)
        return consumer

    yield start
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)


async def session_counts(pool: asyncpg.Pool) -> Counter[tuple[str, str]]:
    rows = await pool.fetch("SELECT region, state, count(*) AS n FROM user_sessions GROUP BY 1, 2")
    return Counter({(r["region"], r["state"]): r["n"] for r in rows})


async def wait_for_counts(
    pool: asyncpg.Pool, expected: Counter[tuple[str, str]], within: float = 60.0
) -> Counter[tuple[str, str]]:
    deadline = time.monotonic() + within
    while (found := await session_counts(pool)) != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return found
