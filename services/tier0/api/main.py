"""The API's app factory: the lifespan opens the pools, the cache, the image store, the query
service client and the Tier0Region client, and refreshes the fleet gauges; then routers are
mounted.

uvicorn --factory tier0.api.main:create_app      (or: tier0 api)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TextIO

import asyncpg
import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pymongo import AsyncMongoClient

from tier0.api import cluster_gauges, fleet_gauges, problems
from tier0.api.accesslog import AccessLogMiddleware
from tier0.api.cache import DeviceCache
from tier0.api.deps import Resources
from tier0.api.regions import RegionClient
from tier0.api.routes import (
    devices,
    failover,
    health,
    images,
    logs,
    query,
    sites,
    telemetry,
    users,
)
from tier0.common.logging import get_logger
from tier0.common.postgres import create_pool
from tier0.common.settings import Settings, get_settings

log = get_logger(__name__)
# A cited answer can take a while (Cohere); an unreachable service should not.
RAG_TIMEOUT = httpx.Timeout(30.0, connect=2.0)
MONGO_TIMEOUT_MS = 5000


def create_app(
    settings: Settings | None = None,
    *,
    access_log: TextIO | None = None,
    cache_ttl: int | None = None,
) -> FastAPI:
    """A new app; ``settings`` default to the ``TIER0_*`` environment."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        write_pool = await create_pool(settings.postgres_dsn, min_size=2, max_size=10)
        read_pool = write_pool
        if settings.postgres_replica_dsn:
            read_pool = await create_pool(settings.postgres_replica_dsn, min_size=2, max_size=10)
        options = {} if cache_ttl is None else {"ttl": cache_ttl}
        cache = (
            DeviceCache.through_sentinel(settings, **options)
            if settings.redis_sentinels
            else DeviceCache(None)
        )
        mongo: AsyncMongoClient[dict[str, Any]] | None = None
        if settings.mongo_url:
            mongo = AsyncMongoClient(
                settings.mongo_url, tz_aware=True, serverSelectionTimeoutMS=MONGO_TIMEOUT_MS
            )
        rag = None
        if settings.rag_url:
            rag = httpx.AsyncClient(base_url=settings.rag_url, timeout=RAG_TIMEOUT)
        regions = await asyncio.to_thread(RegionClient.from_settings, settings)
        app.state.resources = Resources(
            settings, write_pool, read_pool, cache, mongo=mongo, rag=rag, regions=regions
        )
        log.info(
            "api ready",
            replica=read_pool is not write_pool,
            cache=cache.client is not None,
            images=mongo is not None,
            query=rag is not None,
            failover=regions is not None,
        )
        try:
            async with fleet_gauges.refreshing(*_gauge_refreshers(settings, read_pool, regions)):
                yield
        finally:
            if regions is not None:
                await regions.close()
            if rag is not None:
                await rag.aclose()
            if mongo is not None:
                await mongo.close()
            await cache.close()
            if read_pool is not write_pool:
                await read_pool.close()
            await write_pool.close()

    app = FastAPI(
        title="Tier-0 API",
        version="0.1.0",
        summary="Devices, sites, user sessions, access logs, site images and cited answers of a"
        " Tier-0 deployment",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(AccessLogMiddleware, stream=access_log)
    _allow_cross_origin(app, settings.cors_origins)
    for module in (health, devices, sites, telemetry, users, logs, images, query, failover):
        app.include_router(module.router)
    return app


def _allow_cross_origin(app: FastAPI, origins: list[str]) -> None:
    """CORS, only for a UI served from another origin; `tier0 dashboard` proxies, needs none."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-API-Key"],
        expose_headers=["X-Cache", "Location"],
        max_age=600,
    )


def _gauge_refreshers(
    settings: Settings, pool: asyncpg.Pool, regions: RegionClient | None
) -> list[fleet_gauges.Refresher]:
    """What the API measures in the background: the fleet, and the cluster it can see."""
    refreshers: list[fleet_gauges.Refresher] = [partial(fleet_gauges.refresh, pool)]
    if regions is not None:
        refreshers.append(partial(cluster_gauges.refresh_region, regions))
    if settings.sentinel_addresses:
        refreshers.append(partial(cluster_gauges.refresh_sentinels, settings))
    return refreshers
