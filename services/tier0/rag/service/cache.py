"""Answers cached in Redis (through Sentinel): identical questions are served from the cache."""

from __future__ import annotations

import hashlib
import json
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tier0.rag.service.models import QueryResponse

logger = logging.getLogger(__name__)

KEY_PREFIX = "tier0:rag:answer:"


def cache_key(
    question: str, top_k: int, sources: list[str] | None, answer_mode: str, scope: str = ""
) -> str:
    """Same question (case and spacing aside), options, answer mode and scope -> same key."""
    normalised = " ".join(question.casefold().split())
    material = json.dumps([normalised, top_k, sorted(sources or []), answer_mode])
    return (
        f"{KEY_PREFIX}{scope}{':' if scope else ''}{hashlib.sha256(material.encode()).hexdigest()}"
    )


class AnswerCache:
    """Cache-aside over Redis; a Redis outage costs latency, never an answer."""

    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def get(self, key: str) -> QueryResponse | None:
        """The cached response, or None on a miss or when Redis is unreachable."""
        try:
            raw = await self._redis.get(key)
        except RedisError as exc:
            logger.warning("answer cache read failed: %s", exc)
            return None
        return QueryResponse.model_validate_json(raw) if raw else None

    async def put(self, key: str, response: QueryResponse) -> None:
        """Store ``response`` for the TTL (failures are logged, not raised)."""
        try:
            await self._redis.set(key, response.model_dump_json(), ex=self._ttl)
        except RedisError as exc:
            logger.warning("answer cache write failed: %s", exc)
