"""``/api/users``: session counts by region and state, and a page of sessions."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query

from tier0.api.deps import ReadConn
from tier0.api.models import Page, SessionCounts, SessionPublic, UsersPublic
from tier0.common.schemas.sessions import Region, SessionState
from tier0.sessions.store import count_sessions, list_sessions

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("")
async def users(
    conn: ReadConn,
    state: SessionState | None = SessionState.ACTIVE,
    region: Region | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UsersPublic:
    """Counts over all sessions; the page lists sessions in ``state`` (default: active)."""
    rows = await count_sessions(conn)
    by_state: dict[str, int] = defaultdict(int)
    by_region: dict[str, int] = defaultdict(int)
    grid: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        by_state[row["state"]] += row["sessions"]
        by_region[row["region"]] += row["sessions"]
        grid[row["region"]][row["state"]] = row["sessions"]
    total, items = await list_sessions(
        conn, state=state, region=region.value if region else None, limit=limit, offset=offset
    )
    return UsersPublic(
        counts=SessionCounts(
            total=sum(by_state.values()),
            by_state=dict(by_state),
            by_region=dict(by_region),
            by_region_state=dict(grid),
        ),
        sessions=Page[SessionPublic](
            items=[SessionPublic(**item) for item in items], total=total, limit=limit, offset=offset
        ),
    )
