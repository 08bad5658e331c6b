"""A fresh, migrated database per test module, a pool on it, and per-test queue names."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tier0.db.migrate import migrate
from tier0.stack.harness import Harness


async def _migrate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def database(stack: Harness) -> Iterator[str]:
    """DSN of a new database on the primary with every migration applied."""
    name = f"sessions_{uuid.uuid4().hex[:10]}"
    stack.postgres.primary.psql(f"CREATE DATABASE {name} OWNER tier0")
    dsn = stack.postgres.dsn(stack.postgres.primary, name)
    asyncio.run(_migrate(dsn))
    yield dsn
    stack.postgres.primary.psql(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database, min_size=1, max_size=4) as created:
        yield created


@pytest.fixture
def queue_name() -> str:
    """Tests share one RabbitMQ node; each gets its own queue (and dead-letter pair)."""
    return f"user_activity_{uuid.uuid4().hex[:8]}"
