"""Inputs the component suites share, built once per session and never modified: the local
embedding model, a small document index and a set of sample site images with sidecars."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tier0.db.migrate import migrate_database
from tier0.images.samples import write_sample_images
from tier0.rag.corpus import SAMPLE_DOCUMENTS, write_sample_corpus
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.rag.ingest import ingest
from tier0.stack.harness import Harness

SMALL_CORPUS = ("INC-2026-022", "OPS-RB-204")


@contextmanager
def migrated_database(stack: Harness, prefix: str) -> Iterator[str]:
    """DSN of a new database on the primary with every migration applied; dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    dsn = stack.postgres.create_database(name)
    try:
        asyncio.run(migrate_database(dsn))
        yield dsn
    finally:
        stack.postgres.drop_database(name)


SAMPLE_IMAGE_COUNT = 24


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
    write_sample_images(directory, count=SAMPLE_IMAGE_COUNT)
    return directory
