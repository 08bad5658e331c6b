"""Fixtures for the telemetry ingest tests: a fresh database each, and consumers that clean up.

The broker is shared with the rest of the session, so every test uses its own shared
subscription group and client ids, and deletes its persistent sessions afterwards; otherwise a
leftover session in the same group would keep taking a share of later tests' messages.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from component.ingest.helpers import Consumers
from tier0.common.mqtt import MqttEndpoint, forget_session
from tier0.common.postgres import create_pool
from tier0.db.migrate import migrate_database
from tier0.stack.harness import Harness
from tier0_simulators.publisher import WindowedPublisher


@pytest.fixture
def endpoint(stack: Harness) -> MqttEndpoint:
    return MqttEndpoint.from_url(stack.mosquitto.url)


@pytest.fixture
async def pool(stack: Harness) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh, migrated database of its own (dropped afterwards)."""
    name = f"ingest_{uuid.uuid4().hex[:10]}"
    dsn = stack.postgres.create_database(name)
    await migrate_database(dsn)
    db_pool = await create_pool(dsn, min_size=1, max_size=4)
    try:
        yield db_pool
    finally:
        await db_pool.close()
        stack.postgres.drop_database(name)


@pytest.fixture
async def consumers(endpoint: MqttEndpoint, pool: asyncpg.Pool) -> AsyncIterator[Consumers]:
    group = Consumers(endpoint, pool)
    try:
        yield group
    finally:
        await group.close()


@pytest.fixture
def publisher(endpoint: MqttEndpoint) -> Iterator[WindowedPublisher]:
    client_id = f"pub-{uuid.uuid4().hex[:10]}"
    pub = WindowedPublisher(endpoint, client_id, window=500)
    pub.connect()
    try:
        yield pub
    finally:
        with contextlib.suppress(TimeoutError):
            pub.close(timeout=10)
        forget_session(endpoint, client_id)
