"""``Annotated`` dependencies: pools, the cache, the image store, the query service client,
the Tier0Region client, settings and the API-key scope checks."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
import httpx
from fastapi import Depends, Header, HTTPException, Request
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from tier0.api.cache import DeviceCache
from tier0.api.regions import RegionClient
from tier0.common.settings import Scope, Settings


@dataclass
class Resources:
    """What the lifespan opens; ``read_pool`` is the replica's, or ``write_pool`` without one.

    ``mongo`` and ``rag`` are None when ``mongo_url`` / ``rag_url`` are not set, ``regions``
    when no Kubernetes credentials were found.
    """

    settings: Settings
    write_pool: asyncpg.Pool
    read_pool: asyncpg.Pool
    cache: DeviceCache
    mongo: AsyncMongoClient[dict[str, Any]] | None = None
    rag: httpx.AsyncClient | None = None
    regions: RegionClient | None = None

    @property
    def has_replica(self) -> bool:
        return self.read_pool is not self.write_pool


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def read_connection(resources: ResourcesDep) -> AsyncIterator[asyncpg.Connection]:
    async with resources.read_pool.acquire() as conn:
        yield conn


async def write_connection(resources: ResourcesDep) -> AsyncIterator[asyncpg.Connection]:
    async with resources.write_pool.acquire() as conn:
        yield conn


ReadConn = Annotated[asyncpg.Connection, Depends(read_connection)]
WriteConn = Annotated[asyncpg.Connection, Depends(write_connection)]


def get_cache(resources: ResourcesDep) -> DeviceCache:
    return resources.cache


CacheDep = Annotated[DeviceCache, Depends(get_cache)]


def get_images(resources: ResourcesDep) -> AsyncCollection[dict[str, Any]]:
    """The processed-images collection; 503 when no MongoDB is configured."""
    if resources.mongo is None:
        raise HTTPException(503, "the image store is not configured (TIER0_MONGO_URL)")
    settings = resources.settings
    return resources.mongo[settings.mongo_database][settings.images_collection]


ImagesDep = Annotated[AsyncCollection[dict[str, Any]], Depends(get_images)]


def get_rag(resources: ResourcesDep) -> httpx.AsyncClient:
    """A client on the query service; 503 when none is configured."""
    if resources.rag is None:
        raise HTTPException(503, "the query service is not configured (TIER0_RAG_URL)")
    return resources.rag


RagDep = Annotated[httpx.AsyncClient, Depends(get_rag)]


def get_regions(resources: ResourcesDep) -> RegionClient:
    """The Tier0Region client; 503 when the API has no Kubernetes credentials."""
    if resources.regions is None:
        raise HTTPException(
            503,
            "failover is not available: no in-cluster credentials, TIER0_KUBECONFIG or KUBECONFIG",
        )
    return resources.regions


RegionsDep = Annotated[RegionClient, Depends(get_regions)]


def require_scope(scope: Scope) -> Callable[..., None]:
    """A dependency that admits a request whose ``X-API-Key`` grants ``scope``.

    401 without a key; 403 for an unknown key, a key of another scope, or when no key of this
    scope is configured (the operation is then off).
    """

    def check(
        resources: ResourcesDep,
        x_api_key: Annotated[str | None, Header(description="A key of the needed scope")] = None,
    ) -> None:
        if x_api_key is None:
            raise HTTPException(401, "X-API-Key header required", {"WWW-Authenticate": "ApiKey"})
        credentials = resources.settings.api_credentials
        if not any(c.scope is scope for c in credentials):
            raise HTTPException(403, f"disabled: no API key of the {scope} scope is configured")
        # Compare with every key (no early exit), so timing tells nothing about which matched.
        given = x_api_key.encode()
        granted = [c.scope for c in credentials if hmac.compare_digest(given, c.key_bytes)]
        if not granted:
            raise HTTPException(403, "invalid API key")
        if scope not in granted:
            raise HTTPException(403, f"this API key lacks the {scope} scope")

    return check


WriteScope = Depends(require_scope(Scope.WRITE))
OperateScope = Depends(require_scope(Scope.OPERATE))
