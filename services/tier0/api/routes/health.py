"""``/health`` (each dependency's status) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

import tier0.common.metrics  # noqa: F401  (registers tier0_uptime_seconds)
from tier0.api.deps import ResourcesDep
from tier0.api.models import DependencyStatus, HealthPublic

router = APIRouter(tags=["operations"])
CHECK_TIMEOUT_SECONDS = 2.0


async def _check(probe: Callable[[], Awaitable[object]]) -> DependencyStatus:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await probe()
    except Exception as exc:  # any failure is "down"; the message says which
        return DependencyStatus(status="down", error=f"{exc.__class__.__name__}: {exc}"[:300])
    return DependencyStatus(status="up", latency_ms=round((time.perf_counter() - started) * 1e3, 2))


@router.get(
    "/health",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "PostgreSQL (writable) is down"}},
)
async def health(resources: ResourcesDep) -> JSONResponse:
    """``ok``: all up; ``degraded``: serving without Redis or the replica; ``down``: 503."""
    checks = {"postgres": _check(lambda: resources.write_pool.fetchval("SELECT 1"))}
    if resources.has_replica:
        checks["postgres_replica"] = _check(lambda: resources.read_pool.fetchval("SELECT 1"))
    if resources.cache.client is not None:
        checks["redis"] = _check(resources.cache.ping)
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    if resources.cache.client is None:
        results["redis"] = DependencyStatus(status="disabled")
    overall: Literal["ok", "degraded", "down"]
    if results["postgres"].status == "down":
        overall = "down"
    elif any(r.status == "down" for r in results.values()):
        overall = "degraded"
    else:
        overall = "ok"
    body = HealthPublic(status=overall, dependencies=results)
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if overall == "down" else 200)


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
