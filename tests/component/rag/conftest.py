"""A fresh database (migrated) and the query service per module; the document index and the
sample images come from ``tests/component/conftest.py``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from component.conftest import migrated_database
from tier0.common.settings import Settings
from tier0.rag.cohere_backend import CohereSettings
from tier0.rag.service.main import create_app
from tier0.rag.service.settings import ServiceSettings
from tier0.stack.harness import Harness


@pytest.fixture(scope="module")
def database(stack: Harness) -> Iterator[str]:
    """DSN of a new, migrated database, dropped after the module."""
    with migrated_database(stack, "rag") as dsn:
        yield dsn


def store_settings(stack: Harness, dsn: str, mongo_database: str) -> Settings:
    """Settings pointing at the harness, with our own database and Mongo database."""
    env = stack.environment()
    return Settings(
        postgres_dsn=dsn,
        redis_sentinels=env["TIER0_REDIS_SENTINELS"],
        redis_master_name=env["TIER0_REDIS_MASTER_NAME"],
        redis_password=env["TIER0_REDIS_PASSWORD"],
        mongo_url=env["TIER0_MONGO_URL"],
        mongo_database=mongo_database,
    )


@pytest.fixture(scope="module")
def mongo_database() -> str:
    return f"rag_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def client(
    stack: Harness, database: str, local_index: Path, mongo_database: str
) -> Iterator[TestClient]:
    """The query service without Cohere (extractive answers), lifespan running."""
    app = create_app(
        ServiceSettings(
            index_dir=local_index, cache_ttl_seconds=60, cache_scope=uuid.uuid4().hex[:8]
        ),
        stores=store_settings(stack, database, mongo_database),
        cohere=CohereSettings(api_key=None),
    )
    with TestClient(app) as test_client:
        yield test_client
