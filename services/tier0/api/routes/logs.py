"""``/api/logs/summary``: what the access logs in ``system_logs`` say about errors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from tier0.api.deps import ReadConn
from tier0.api.models import LogSummaryPublic
from tier0.api.store.logs import log_summary

router = APIRouter(prefix="/api/logs", tags=["logs"])


@router.get("/summary")
async def summary(
    conn: ReadConn,
    start: datetime | None = None,
    end: datetime | None = None,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> LogSummaryPublic:
    """Status codes, top error IPs and paths (status ≥ 400), latency percentiles."""
    return await log_summary(conn, start=start, end=end, top=top)
