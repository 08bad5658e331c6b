"""``/api/telemetry``: fleet-wide series per site and device type, and device state counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from tier0.api.deps import ReadConn
from tier0.api.models import DeviceType, SeriesPublic, TelemetryStatusPublic
from tier0.api.store import telemetry as store

router = APIRouter(prefix="/api/telemetry", tags=["telemetry"])
MAX_POINTS = 720  # per series: a dashboard chart has no use for more
MetricName = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")]
Site = Annotated[str | None, Query(max_length=32)]


@router.get("/series")
async def series(
    conn: ReadConn,
    metric: Annotated[list[MetricName], Query(min_length=1, max_length=8)],
    site: Site = None,
    type: DeviceType | None = None,
    minutes: Annotated[int, Query(ge=1, le=360)] = 15,
    bucket_seconds: Annotated[int, Query(ge=5, le=3600)] = 30,
) -> list[SeriesPublic]:
    """Per site, type and ``metric`` (repeatable, e.g. ``rpm`` and ``pump_speed_rpm``): the
    average, min and max of the readings in each bucket over the last ``minutes``."""
    if minutes * 60 // bucket_seconds > MAX_POINTS:
        raise HTTPException(422, f"at most {MAX_POINTS} buckets: widen bucket_seconds")
    since = datetime.now(UTC) - timedelta(minutes=minutes)
    return await store.series(
        conn,
        metrics=sorted(set(metric)),
        since=since,
        bucket_seconds=bucket_seconds,
        site=site,
        device_type=type,
    )


@router.get("/status")
async def device_status(
    conn: ReadConn,
    site: Site = None,
    type: DeviceType | None = None,
    offline_after_seconds: Annotated[int, Query(ge=5, le=86_400)] = 300,
) -> TelemetryStatusPublic:
    """Devices by latest state (``FAULT``, ``WARNING``, ...) and how many are offline: no
    reading for ``offline_after_seconds``."""
    return await store.device_states(
        conn, site=site, device_type=type, offline_after_seconds=offline_after_seconds
    )
