"""Aggregates over ``system_logs`` for the log summary endpoint."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from tier0.api.models import IpErrors, LogSummaryPublic, PathErrors

WINDOW = "WHERE ($1::timestamptz IS NULL OR ts >= $1) AND ($2::timestamptz IS NULL OR ts < $2)"


async def log_summary(
    conn: asyncpg.Connection, *, start: datetime | None, end: datetime | None, top: int
) -> LogSummaryPublic:
    """Status-code mix, the clients and paths with most errors (status ≥ 400), latency."""
    codes = await conn.fetch(
        f"SELECT status, count(*) AS n FROM system_logs {WINDOW} GROUP BY status ORDER BY status",
        start,
        end,
    )
    ips = await conn.fetch(
        f"SELECT host(ip) AS ip, count(*) FILTER (WHERE status >= 400) AS errors,"
        f" count(*) AS requests FROM system_logs {WINDOW}"
        f" GROUP BY ip HAVING count(*) FILTER (WHERE status >= 400) > 0"
        f" ORDER BY errors DESC, ip LIMIT $3",
        start,
        end,
        top,
    )
    paths = await conn.fetch(
        f"SELECT path, count(*) AS errors FROM system_logs {WINDOW} AND status >= 400"
        f" GROUP BY path ORDER BY errors DESC, path LIMIT $3",
        start,
        end,
        top,
    )
    latency = await conn.fetchrow(
        f"SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms) AS p"
        f" FROM system_logs {WINDOW}",
        start,
        end,
    )
    status_codes = {str(r["status"]): int(r["n"]) for r in codes}
    requests = sum(status_codes.values())
    errors = sum(n for code, n in status_codes.items() if int(code) >= 400)
    p = (latency["p"] if latency is not None else None) or [None, None, None]
    return LogSummaryPublic(
        start=start,
        end=end,
        requests=requests,
        error_rate=round(errors / requests, 4) if requests else 0.0,
        status_codes=status_codes,
        top_error_ips=[IpErrors(**dict(r)) for r in ips],
        top_error_paths=[PathErrors(**dict(r)) for r in paths],
        latency_ms={"p50": p[0], "p95": p[1], "p99": p[2]},
    )
