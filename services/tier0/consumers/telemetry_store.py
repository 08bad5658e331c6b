"""Writing validated telemetry to PostgreSQL: COPY into a staging table, then one idempotent INSERT.

COPY is the fastest way into PostgreSQL but cannot skip conflicts, so a batch is copied into a
per-connection temporary table and moved with ``INSERT ... ON CONFLICT DO NOTHING`` on the
``(device_id, timestamp_utc)`` key: a redelivered message is a no-op, never a second row.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from tier0.consumers.telemetry import RECORD_COLUMNS, TelemetryRecord
from tier0.db.dead_letters import DeadLetter, record_dead_letters

STAGING_TABLE = "device_telemetry_staging"
_COLUMNS = ", ".join(RECORD_COLUMNS)

# ON COMMIT DELETE ROWS empties it at every commit; IF NOT EXISTS makes it once per connection.
# No constraints: rows are checked on the way into device_telemetry.
CREATE_STAGING_SQL = (
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGING_TABLE} (device_id text, device_type text,"
    " site_id text, timestamp_utc timestamptz, metrics jsonb, state text, status_code text)"
    " ON COMMIT DELETE ROWS"
)
# clock_timestamp(), not now(): received_at is when the row was written, not when the
# transaction began, so "publish to queryable" measured from it is honest.
MOVE_SQL = (
    f"INSERT INTO device_telemetry ({_COLUMNS}, received_at)"
    f" SELECT {_COLUMNS}, clock_timestamp() FROM {STAGING_TABLE}"
    " ON CONFLICT (device_id, timestamp_utc) DO NOTHING"
)


async def write_batch(
    conn: asyncpg.Connection,
    *,
    records: Sequence[TelemetryRecord],
    dead_letters: Sequence[DeadLetter] = (),
) -> int:
    """Store one batch in one transaction; returns how many rows were new (not duplicates)."""
    inserted = 0
    async with conn.transaction():
        if records:
            await conn.execute(CREATE_STAGING_SQL)
            await conn.copy_records_to_table(STAGING_TABLE, records=records, columns=RECORD_COLUMNS)
            status = await conn.execute(MOVE_SQL)
            inserted = int(status.rsplit(" ", 1)[-1])
        await record_dead_letters(conn, letters=dead_letters)
    return inserted
