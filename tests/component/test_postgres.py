"""PostgreSQL primary + streaming replica started by the harness."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tier0.stack.harness import Harness
from tier0.stack.postgres import wait_replayed

pytestmark = pytest.mark.component


async def test_row_committed_on_primary_is_read_on_replica(stack: Harness) -> None:
    pg = stack.postgres
    marker = uuid.uuid4().hex
    conn = await asyncpg.connect(pg.dsn(pg.primary))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS replication_probe (marker text PRIMARY KEY)")
        await conn.execute("INSERT INTO replication_probe VALUES ($1)", marker)
    finally:
        await conn.close()

    await wait_replayed(pg.dsn(pg.primary), pg.dsn(pg.replica))
    replica = await asyncpg.connect(pg.dsn(pg.replica))
    try:
        query = "SELECT marker FROM replication_probe WHERE marker = $1"
        assert await replica.fetchval(query, marker) == marker
    finally:
        await replica.close()


async def test_replica_is_a_read_only_streaming_standby(stack: Harness) -> None:
    pg = stack.postgres
    replica = await asyncpg.connect(pg.dsn(pg.replica))
    try:
        assert await replica.fetchval("SELECT pg_is_in_recovery()") is True
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await replica.execute("CREATE TABLE must_fail (id int)")
    finally:
        await replica.close()
    state = pg.primary.psql("SELECT state FROM pg_stat_replication")
    slot = pg.primary.psql("SELECT active FROM pg_replication_slots WHERE slot_name = 'region2'")
    assert state == "streaming"
    assert slot == "t"


async def test_multihost_dsn_reaches_the_writable_server(stack: Harness) -> None:
    conn = await asyncpg.connect(stack.postgres.multihost_dsn())
    try:
        assert await conn.fetchval("SELECT pg_is_in_recovery()") is False
        assert await conn.fetchval("SHOW port") == str(stack.postgres.primary.port)
    finally:
        await conn.close()


async def test_wrong_password_is_refused(stack: Harness) -> None:
    node = stack.postgres.primary
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(f"postgresql://tier0:wrong@127.0.0.1:{node.port}/tier0")
