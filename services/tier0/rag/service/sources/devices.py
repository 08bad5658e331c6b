"""Live device questions: the latest reading of each device in ``device_telemetry``."""

from __future__ import annotations

from typing import Any

import asyncpg

from tier0.rag.service.models import Source
from tier0.rag.service.routing import Route
from tier0.rag.service.sources import Reference, SourceResult, Statement

TABLE = "device_telemetry"
# Latest reading per device inside the window, optionally one site and/or type; then the
# state mix and the mean of every numeric metric over those latest readings.
LATEST = f"""
WITH latest AS (
    SELECT DISTINCT ON (device_id) device_id, metrics, state
    FROM {TABLE}
    WHERE timestamp_utc > now() - make_interval(mins => $1)
      AND ($2::text IS NULL OR site_id = $2)
      AND ($3::text IS NULL OR device_type = $3)
    ORDER BY device_id, timestamp_utc DESC
)
SELECT
    (SELECT count(*) FROM latest) AS devices,
    (SELECT coalesce(jsonb_object_agg(state, n), '{{}}'::jsonb)
       FROM (SELECT state, count(*) AS n FROM latest GROUP BY state) s) AS states,
    (SELECT coalesce(jsonb_object_agg(key, mean), '{{}}'::jsonb)
       FROM (SELECT key, round(avg(value::text::double precision)::numeric, 2) AS mean
               FROM latest, jsonb_each(metrics)
              WHERE jsonb_typeof(value) = 'number' GROUP BY key) m) AS metric_means
"""


def device_statements(figures: dict[str, Any], route: Route, window: int) -> list[Statement]:
    """One sentence with device count, state mix and metric means, citing the query."""
    filters = {
        k: v for k, v in (("site_id", route.site_id), ("device_type", route.device_type)) if v
    }
    reference = Reference(
        Source.DEVICES, store=TABLE, query="latest_readings", filters=filters or None
    )
    scope = f" ({', '.join(filters.values())})" if filters else ""
    if not figures["devices"]:
        return [Statement(f"No device reported in the last {window} minutes{scope}.", reference)]
    states = ", ".join(f"{n} {s}" for s, n in sorted(figures["states"].items()))
    means = ", ".join(f"{k} {v}" for k, v in sorted(figures["metric_means"].items()))
    text = (
        f"{figures['devices']} devices reported in the last {window} minutes{scope}: {states}; "
        f"mean of latest readings: {means or 'no numeric metrics'}."
    )
    return [Statement(text, reference)]


async def answer_from_devices(pool: asyncpg.Pool, route: Route, window: int) -> SourceResult:
    """Latest-reading aggregates for a live-metrics question."""
    import json

    async with pool.acquire() as conn:
        row = await conn.fetchrow(LATEST, window, route.site_id, route.device_type)
    assert row is not None
    figures = {
        "devices": int(row["devices"]),
        "states": json.loads(row["states"]),
        "metric_means": {k: float(v) for k, v in json.loads(row["metric_means"]).items()},
        "window_minutes": window,
    }
    return SourceResult(Source.DEVICES, device_statements(figures, route, window), figures)
