"""A fresh, migrated database per test module, a pool on it, and per-test queue names."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from component.conftest import migrated_database
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
