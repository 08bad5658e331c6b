"""What the service holds open: PostgreSQL pool, Redis (Sentinel), MongoDB, the index, models."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from tier0.common.postgres import create_pool
from tier0.common.redis import SentinelMaster
from tier0.common.settings import Settings
from tier0.rag.backends import embedder_for_index, make_answerer, make_reranker
from tier0.rag.cohere_backend import CohereAnswerer, CohereSettings
from tier0.rag.index import IndexFormatError
from tier0.rag.ingest import load_index
from tier0.rag.retrieval import Retriever
from tier0.rag.service.cache import AnswerCache
from tier0.rag.service.metrics import ServiceMetrics
from tier0.rag.service.settings import ServiceSettings

logger = logging.getLogger(__name__)
CHECK_TIMEOUT = 2.0


@dataclass
class Resources:
    """Everything a request needs; built in the app's lifespan and closed after it."""

    settings: ServiceSettings
    pool: asyncpg.Pool
    redis_master: SentinelMaster
    mongo: AsyncMongoClient[dict[str, Any]]
    images: AsyncCollection[dict[str, Any]]
    retriever: Retriever | None
    answerer: CohereAnswerer | None
    cache: AnswerCache
    metrics: ServiceMetrics

    async def check(self) -> dict[str, str]:
        """``ok`` or the error, per dependency."""
        probes = {
            "postgres": self.pool.fetchval("SELECT 1"),
            "redis": self.redis_master.client.ping(),
            "mongo": self.mongo.admin.command("ping"),
        }
        results: dict[str, str] = {}
        for name, probe in probes.items():
            try:
                await asyncio.wait_for(probe, CHECK_TIMEOUT)
                results[name] = "ok"
            except Exception as exc:  # a health check reports every failure, whatever it is
                results[name] = f"error: {type(exc).__name__}"
        results["index"] = "ok" if self.retriever is not None else "missing"
        return results

    async def close(self) -> None:
        """Close pools and clients."""
        await self.pool.close()
        await self.redis_master.aclose()
        await self.mongo.close()


def load_retriever(settings: ServiceSettings, cohere: CohereSettings) -> Retriever | None:
    """The document retriever, or None (documents unavailable) when there is no index."""
    try:
        index = load_index(settings.index_dir)
    except IndexFormatError as exc:
        logger.warning("document search disabled: %s", exc)
        return None
    embedder = embedder_for_index(index.model_id, cohere)
    return Retriever(index, embedder, reranker=make_reranker(cohere))


async def open_resources(
    settings: ServiceSettings, stores: Settings, cohere: CohereSettings
) -> Resources:
    """Connect to the stores and load the index (in a thread: it reads files and a model)."""
    retriever = await asyncio.to_thread(load_retriever, settings, cohere)
    pool = await create_pool(stores.postgres_dsn, max_size=5)
    redis_master = SentinelMaster(stores)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stores.mongo_url, serverSelectionTimeoutMS=5000
    )
    return Resources(
        settings=settings,
        pool=pool,
        redis_master=redis_master,
        mongo=mongo,
        images=mongo[stores.mongo_database][settings.images_collection],
        retriever=retriever,
        answerer=make_answerer(cohere),
        cache=AnswerCache(redis_master.client, settings.cache_ttl_seconds),
        metrics=ServiceMetrics(),
    )
