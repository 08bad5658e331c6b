"""Rows in ``dead_letters`` (migration 003): what could not be used, with the reason why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class DeadLetter:
    """``topic`` says where the payload came from (a queue, an MQTT topic, ``file:line``)."""

    source: str
    raw: bytes
    reason: str
    topic: str | None = None


INSERT_SQL = """
INSERT INTO dead_letters (source, raw, reason, topic)
SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[])
"""

# Used where the same input can be offered again (re-loading a file): skip what is recorded.
INSERT_NEW_SQL = """
INSERT INTO dead_letters (source, raw, reason, topic)
SELECT n.source, n.raw, n.reason, n.topic
FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[]) AS n(source, raw, reason, topic)
WHERE NOT EXISTS (
    SELECT 1 FROM dead_letters d
    WHERE d.source = n.source AND d.topic IS NOT DISTINCT FROM n.topic AND d.raw = n.raw
)
"""


async def record_dead_letters(
    conn: asyncpg.Connection, *, letters: Sequence[DeadLetter], skip_known: bool = False
) -> None:
    """Insert ``letters`` (in the caller's transaction, if any)."""
    if not letters:
        return
    await conn.execute(
        INSERT_NEW_SQL if skip_known else INSERT_SQL,
        [d.source for d in letters],
        [d.raw for d in letters],
        [d.reason[:1000] for d in letters],
        [d.topic for d in letters],
    )
