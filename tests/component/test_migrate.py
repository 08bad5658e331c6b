"""Migrations on the real PostgreSQL primary: idempotent, ordered, concurrency-safe."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tier0.db.migrate import load_migrations, migrate
from tier0.stack.harness import Harness

pytestmark = pytest.mark.component


@pytest.fixture
async def empty_database(stack: Harness) -> AsyncIterator[str]:
    """A fresh database on the primary, dropped afterwards."""
    name = f"migrate_{uuid.uuid4().hex[:10]}"
    yield stack.postgres.create_database(name)
    stack.postgres.drop_database(name)


async def test_migrations_apply_once_and_in_order(empty_database: str) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        first = await migrate(conn)
        second = await migrate(conn)
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
    finally:
        await conn.close()
    expected = [m.name for m in load_migrations()]
    assert first == expected
    assert second == []
    assert sorted(versions) == [m.version for m in load_migrations()]


async def test_concurrent_runs_apply_each_migration_once(empty_database: str) -> None:
    conns = [await asyncpg.connect(empty_database) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
    finally:
        for conn in conns:
            await conn.close()
    applied = [name for result in results for name in result]
    assert sorted(applied) == sorted(m.name for m in load_migrations())
