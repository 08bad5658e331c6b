"""PostgreSQL access for ``user_sessions``: idempotent upserts and the API's read queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from tier0.common.schemas.sessions import SessionState, UserAction, UserEvent

# Older or repeated events (seq not newer) never move a session backwards; a late login or
# logout still fills in its timestamp.
UPSERT_SQL = """
INSERT INTO user_sessions AS s
    (session_id, user_id, region, state, login_at, logout_at, last_event_at, last_seq)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[],
                     $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::integer[])
ON CONFLICT (session_id) DO UPDATE SET
    state = CASE WHEN EXCLUDED.last_seq > s.last_seq THEN EXCLUDED.state ELSE s.state END,
    last_event_at = CASE WHEN EXCLUDED.last_seq > s.last_seq
                         THEN EXCLUDED.last_event_at ELSE s.last_event_at END,
    last_seq = GREATEST(s.last_seq, EXCLUDED.last_seq),
    login_at = COALESCE(s.login_at, EXCLUDED.login_at),
    logout_at = COALESCE(s.logout_at, EXCLUDED.logout_at),
    updated_at = now()
WHERE EXCLUDED.last_seq > s.last_seq
   OR (s.login_at IS NULL AND EXCLUDED.login_at IS NOT NULL)
   OR (s.logout_at IS NULL AND EXCLUDED.logout_at IS NOT NULL)
RETURNING session_id
"""


@dataclass
class SessionRow:
    """The newest known facts about one session, merged from a batch of its events."""

    session_id: UUID
    user_id: str
    region: str
    state: str
    login_at: datetime | None
    logout_at: datetime | None
    last_event_at: datetime
    last_seq: int


def merge_events(events: Iterable[UserEvent]) -> list[SessionRow]:
    """One row per session (a single statement may not update the same row twice)."""
    rows: dict[UUID, SessionRow] = {}
    for event in events:
        row = rows.get(event.session_id)
        if row is None:
            row = rows[event.session_id] = SessionRow(
                event.session_id, event.user_id, event.region.value, event.state.value,
                None, None, event.timestamp, event.seq,
            )  # fmt: skip
        elif event.seq > row.last_seq:
            row.state, row.last_event_at, row.last_seq = (
                event.state.value, event.timestamp, event.seq,
            )  # fmt: skip
        if event.event is UserAction.LOGIN:
            row.login_at = event.timestamp
        elif event.event is UserAction.LOGOUT:
            row.logout_at = event.timestamp
    return list(rows.values())


async def upsert_sessions(conn: asyncpg.Connection, *, events: Sequence[UserEvent]) -> int:
    """Apply ``events``; returns how many session rows changed (stale events change none)."""
    rows = merge_events(events)
    if not rows:
        return 0
    columns = [
        [r.session_id for r in rows],
        [r.user_id for r in rows],
        [r.region for r in rows],
        [r.state for r in rows],
        [r.login_at for r in rows],
        [r.logout_at for r in rows],
        [r.last_event_at for r in rows],
        [r.last_seq for r in rows],
    ]
    changed = await conn.fetch(UPSERT_SQL, *columns)
    return len(changed)


async def count_sessions(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Session counts per (region, state)."""
    records = await conn.fetch(
        "SELECT region, state, count(*) AS sessions FROM user_sessions"
        " GROUP BY region, state ORDER BY region, state"
    )
    return [dict(r) for r in records]


async def list_sessions(
    conn: asyncpg.Connection,
    *,
    state: SessionState | None,
    region: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict[str, Any]]]:
    """A page of sessions (most recent activity first) and the total that match."""
    where = "WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR region = $2)"
    state_value = state.value if state is not None else None
    total = await conn.fetchval(f"SELECT count(*) FROM user_sessions {where}", state_value, region)
    records = await conn.fetch(
        f"SELECT session_id, user_id, region, state, login_at, logout_at, last_event_at"
        f" FROM user_sessions {where} ORDER BY last_event_at DESC, session_id LIMIT $3 OFFSET $4",
        state_value,
        region,
        limit,
        offset,
    )
    return int(total), [dict(r) for r in records]
