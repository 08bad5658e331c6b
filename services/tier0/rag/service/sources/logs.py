"""Access-log questions answered with SQL aggregates over ``system_logs``."""

from __future__ import annotations

from typing import Any

import asyncpg

from tier0.rag.service.models import Source
from tier0.rag.service.sources import Reference, SourceResult, Statement

TABLE = "system_logs"
TOP = 5
TOP_ERROR_IPS = f"""
SELECT host(ip) AS ip, count(*) AS errors,
       count(*) FILTER (WHERE status >= 500) AS server_errors
FROM {TABLE} WHERE status >= 400
GROUP BY ip ORDER BY errors DESC, ip LIMIT {TOP}
"""
STATUS_MIX = f"""
SELECT status, count(*) AS requests FROM {TABLE} GROUP BY status ORDER BY requests DESC, status
"""
SLOW_ENDPOINTS = f"""
SELECT path, count(*) AS requests, avg(latency_ms) AS mean_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms
FROM {TABLE} WHERE latency_ms IS NOT NULL
GROUP BY path ORDER BY p95_ms DESC, path LIMIT {TOP}
"""


def _reference(query: str) -> Reference:
    return Reference(Source.LOGS, store=TABLE, query=query)


def _status_classes(mix: list[dict[str, Any]]) -> dict[str, int]:
    classes: dict[str, int] = {}
    for row in mix:
        label = f"{row['status'] // 100}xx"
        classes[label] = classes.get(label, 0) + int(row["requests"])
    return classes


def log_statements(figures: dict[str, Any]) -> list[Statement]:
    """Sentences stating the aggregates, each citing the query that computed it."""
    statements: list[Statement] = []
    total = sum(figures["status_classes"].values())
    if total == 0:
        return [Statement(f"{TABLE} holds no requests.", _reference("status_mix"))]
    ips = figures["top_error_ips"]
    if ips:
        listed = ", ".join(f"{r['ip']} ({r['errors']} errors)" for r in ips)
        statements.append(
            Statement(f"IPs with most 4xx/5xx responses: {listed}.", _reference("top_error_ips"))
        )
    mix = ", ".join(
        f"{c} {n} ({100 * n / total:.1f}%)" for c, n in sorted(figures["status_classes"].items())
    )
    statements.append(
        Statement(f"Status mix over {total} requests: {mix}.", _reference("status_mix"))
    )
    slow = figures["slow_endpoints"]
    if slow:
        listed = ", ".join(
            f"{r['path']} (p95 {r['p95_ms']:.0f} ms, {r['requests']} requests)" for r in slow
        )
        statements.append(
            Statement(f"Slowest endpoints by p95 latency: {listed}.", _reference("slow_endpoints"))
        )
    return statements


async def log_figures(pool: asyncpg.Pool) -> dict[str, Any]:
    """Run the three aggregates."""
    async with pool.acquire() as conn:
        ips = [dict(r) for r in await conn.fetch(TOP_ERROR_IPS)]
        mix = [dict(r) for r in await conn.fetch(STATUS_MIX)]
        slow = [dict(r) for r in await conn.fetch(SLOW_ENDPOINTS)]
    for row in slow:
        row["mean_ms"], row["p95_ms"] = float(row["mean_ms"]), float(row["p95_ms"])
    return {
        "top_error_ips": ips,
        "status_codes": {str(r["status"]): r["requests"] for r in mix},
        "status_classes": _status_classes(mix),
        "slow_endpoints": slow,
    }


async def answer_from_logs(pool: asyncpg.Pool) -> SourceResult:
    """Aggregates and statements for a log question."""
    figures = await log_figures(pool)
    return SourceResult(Source.LOGS, log_statements(figures), figures)
