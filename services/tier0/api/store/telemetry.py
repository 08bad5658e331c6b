"""Fleet-level telemetry: per-site/type time series of a metric, and device state counts."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from tier0.api.models import SeriesPoint, SeriesPublic, TelemetryStatusPublic
from tier0.api.store.devices import LATEST

# One row per (site, type, metric, bucket). The (site_id, device_type, timestamp_utc) index
# serves a filtered window; a metric a device type lacks, or a non-number, is skipped.
SERIES = """
SELECT t.site_id, t.device_type, m.name AS metric,
       date_bin(make_interval(secs => $2), t.timestamp_utc, TIMESTAMPTZ '2000-01-01') AS bucket,
       avg((t.metrics->>m.name)::float8) AS avg, min((t.metrics->>m.name)::float8) AS min,
       max((t.metrics->>m.name)::float8) AS max, count(*) AS readings
FROM device_telemetry t CROSS JOIN unnest($1::text[]) AS m(name)
WHERE t.timestamp_utc >= $3 AND ($4::text IS NULL OR t.site_id = $4)
  AND ($5::text IS NULL OR t.device_type = $5) AND jsonb_typeof(t.metrics->m.name) = 'number'
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
"""

# Offline: no reading within the window (or none at all); the others count by latest state.
STATES = f"""
SELECT CASE WHEN t.timestamp_utc IS NULL OR t.timestamp_utc < now() - make_interval(secs => $3)
            THEN NULL ELSE t.state END AS state,
       count(*) AS devices
{LATEST}
WHERE ($1::text IS NULL OR r.site_id = $1) AND ($2::text IS NULL OR r.device_type = $2)
GROUP BY 1
"""


async def series(
    conn: asyncpg.Connection,
    *,
    metrics: list[str],
    since: datetime,
    bucket_seconds: int,
    site: str | None,
    device_type: str | None,
) -> list[SeriesPublic]:
    """Average/min/max of each metric per site, type and time bucket since ``since``."""
    rows = await conn.fetch(SERIES, metrics, bucket_seconds, since, site, device_type)
    found: dict[tuple[str, str, str], SeriesPublic] = {}
    for row in rows:
        key = (row["site_id"], row["device_type"], row["metric"])
        if key not in found:
            found[key] = SeriesPublic(site_id=key[0], device_type=key[1], metric=key[2], points=[])
        found[key].points.append(
            SeriesPoint(
                t=row["bucket"],
                avg=row["avg"],
                min=row["min"],
                max=row["max"],
                readings=row["readings"],
            )
        )
    return list(found.values())


async def device_states(
    conn: asyncpg.Connection,
    *,
    site: str | None,
    device_type: str | None,
    offline_after_seconds: int,
) -> TelemetryStatusPublic:
    """How many devices are offline, and the others by their latest state."""
    rows = await conn.fetch(STATES, site, device_type, offline_after_seconds)
    by_state = {row["state"]: int(row["devices"]) for row in rows if row["state"] is not None}
    offline = sum(int(row["devices"]) for row in rows if row["state"] is None)
    return TelemetryStatusPublic(
        devices=offline + sum(by_state.values()),
        offline=offline,
        offline_after_seconds=offline_after_seconds,
        by_state=by_state,
    )
