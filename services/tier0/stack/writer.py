"""A client committing as fast as it can through a DSN that follows the writable server.

The failover tests and benchmark measure with it: the time of every acknowledged commit gives
the client-observed write outage, and reading every acknowledged id back gives lost writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

import asyncpg

RETRYABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)
# How long ``wait_acked`` waits: a failover plus a loaded machine, with room to spare.
ACK_WAIT_SECONDS = 60.0


class Writer:
    """Inserts increasing ids (one commit each); reconnects on any error; records acks."""

    def __init__(self, dsn: str, *, table: str = "acked") -> None:
        self.dsn = dsn
        self.table = table
        self.acked: list[tuple[int, float]] = []
        self.next_id = 1
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Writer:
        conn = await asyncpg.connect(self.dsn)
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (id bigint PRIMARY KEY)")
        query = f"SELECT coalesce(max(id), 0) FROM {self.table}"
        self.next_id = int(await conn.fetchval(query)) + 1
        await conn.close()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def wait_acked(self, count: int = 1) -> None:
        """Until ``count`` more commits are acknowledged from now on: the client is writing
        (again), rather than assumed to be after some fixed time."""
        target = len(self.acked) + count
        try:
            async with asyncio.timeout(ACK_WAIT_SECONDS):
                while len(self.acked) < target:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            raise TimeoutError(
                f"{len(self.acked)} of {target} commits acknowledged after {ACK_WAIT_SECONDS} s"
            ) from None

    def longest_gap_after(self, since: float) -> float:
        """Longest time between successful commits from ``since`` on (the client's outage)."""
        times = [since] + [t for _, t in self.acked if t >= since]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    def rate_before(self, until: float) -> float:
        times = [t for _, t in self.acked if t < until]
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0

    async def lost(self, dsn: str) -> int:
        """Acknowledged ids missing on the server at ``dsn`` (read back every one)."""
        conn = await asyncpg.connect(dsn)
        found = {r["id"] for r in await conn.fetch(f"SELECT id FROM {self.table}")}
        await conn.close()
        return sum(1 for i, _ in self.acked if i not in found)

    async def _run(self) -> None:
        conn: asyncpg.Connection | None = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = await asyncpg.connect(self.dsn, timeout=1)
                await conn.execute(f"INSERT INTO {self.table} VALUES ($1)", self.next_id)
                self.acked.append((self.next_id, time.monotonic()))
            except RETRYABLE:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=0.5)
                conn = None
                await asyncio.sleep(0.005)
            self.next_id += 1
        if conn is not None:
            await conn.close()
