"""``Annotated`` dependencies: pools, the cache, the image store, the query service client,
settings and the API-key check."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
import httpx
from fastapi import Depends, Header, HTTPException, Request
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from tier0.api.cache import DeviceCache
from tier0.common.settings import Settings


@dataclass
class Resources:
    """What the lifespan opens; ``read_pool`` is the replica's, or ``write_pool`` without one.

    ``mongo`` and ``rag`` are None when ``mongo_url`` / ``rag_url`` are not set.
    """

    settings: Settings
    write_pool: asyncpg.Pool
    read_pool: asyncpg.Pool
    cache: DeviceCache
    mongo: AsyncMongoClient[dict[str, Any]] | None = None
    rag: httpx.AsyncClient | None = None

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


def require_api_key(
    resources: ResourcesDep,
    x_api_key: Annotated[str | None, Header(description="The deployment's API key")] = None,
) -> None:
    """401 without a key, 403 with a wrong one (or when no key is configured: writes are off)."""
    if x_api_key is None:
        raise HTTPException(401, "X-API-Key header required", {"WWW-Authenticate": "ApiKey"})
    expected = resources.settings.api_key
    if expected is None:
        raise HTTPException(403, "writes are disabled: no API key is configured")
    if not hmac.compare_digest(x_api_key.encode(), expected.get_secret_value().encode()):
        raise HTTPException(403, "invalid API key")


ApiKey = Depends(require_api_key)
