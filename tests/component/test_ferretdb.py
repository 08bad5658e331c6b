"""FerretDB (MongoDB wire protocol on PostgreSQL) through PyMongo's async client."""

from __future__ import annotations

import uuid

import pytest
from pymongo import AsyncMongoClient

from tier0.stack.harness import Harness

pytestmark = pytest.mark.component


async def test_insert_and_find_round_trip(stack: Harness) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        stack.ferretdb.url, serverSelectionTimeoutMS=5000
    )
    try:
        images = client["tier0"][f"images_{uuid.uuid4().hex[:8]}"]
        doc = {
            "image_id": "img-1",
            "site_id": "WY-ALPHA",
            "safety": {"hard_hat": True},
            "score": 70,
        }
        inserted = await images.insert_one(doc)
        found = await images.find_one({"site_id": "WY-ALPHA", "safety.hard_hat": True})
        assert found is not None
        assert found["_id"] == inserted.inserted_id
        assert found["score"] == 70
        assert await images.count_documents({"score": {"$gt": 50}}) == 1
    finally:
        await client.close()


async def test_documents_are_stored_in_postgresql(stack: Harness) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(stack.ferretdb.url)
    collection = f"probe_{uuid.uuid4().hex[:8]}"
    try:
        await client["tier0"][collection].insert_one({"marker": collection})
    finally:
        await client.close()
    tables = stack.postgres.primary.psql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'tier0'", "ferretdb"
    )
    assert int(tables) >= 1
