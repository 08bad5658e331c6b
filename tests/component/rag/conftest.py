"""A fresh database (migrated), a small document index and the query service per module."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from fastapi.testclient import TestClient

from tier0.common.settings import Settings
from tier0.db.migrate import migrate
from tier0.images.samples import write_sample_images
from tier0.rag.cohere_backend import CohereSettings
from tier0.rag.corpus import SAMPLE_DOCUMENTS, write_sample_corpus
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.rag.ingest import ingest
from tier0.rag.service.main import create_app
from tier0.rag.service.settings import ServiceSettings
from tier0.stack.harness import Harness

SMALL_CORPUS = ("INC-2026-022", "OPS-RB-204")


async def _migrate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def database(stack: Harness) -> Iterator[str]:
    """DSN of a new, migrated database, dropped after the module."""
    name = f"rag_{uuid.uuid4().hex[:10]}"
    stack.postgres.primary.psql(f"CREATE DATABASE {name} OWNER tier0")
    dsn = stack.postgres.dsn(stack.postgres.primary, name)
    asyncio.run(_migrate(dsn))
    yield dsn
    stack.postgres.primary.psql(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def local_embedder() -> LocalOnnxEmbedder:
    return LocalOnnxEmbedder()


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("rag-corpus")
    docs = tuple(d for d in SAMPLE_DOCUMENTS if d.filename.startswith(SMALL_CORPUS))
    write_sample_corpus(directory, docs)
    return directory


@pytest.fixture(scope="session")
def local_index(
    tmp_path_factory: pytest.TempPathFactory, small_corpus: Path, local_embedder: LocalOnnxEmbedder
) -> Path:
    index_dir = tmp_path_factory.mktemp("rag-index") / "local"
    ingest([small_corpus], index_dir=index_dir, embedder=local_embedder)
    return index_dir


@pytest.fixture(scope="session")
def sample_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("images")
    write_sample_images(directory, count=24)
    return directory


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
