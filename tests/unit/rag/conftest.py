"""Shared fixtures: the local embedder and the sample corpus rendered to real PDFs.

Loading the model and embedding the whole corpus are the slow parts, so both happen once per
session; tests that change an index work on their own small copies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tier0.rag.corpus import SAMPLE_DOCUMENTS, write_sample_corpus
from tier0.rag.corpus.model import SampleDocument
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.rag.index import HybridIndex
from tier0.rag.ingest import ingest, load_index
from tier0.rag.retrieval import Retriever


def document_named(prefix: str) -> SampleDocument:
    """The sample document whose file name starts with ``prefix``."""
    return next(doc for doc in SAMPLE_DOCUMENTS if doc.filename.startswith(prefix))


@pytest.fixture(scope="session")
def embedder(local_embedder: LocalOnnxEmbedder) -> LocalOnnxEmbedder:
    return local_embedder


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("corpus")
    write_sample_corpus(directory)
    return directory


@pytest.fixture(scope="session")
def sample_index_dir(
    tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path, embedder: LocalOnnxEmbedder
) -> Path:
    index_dir = tmp_path_factory.mktemp("index") / "sample"
    ingest([corpus_dir], index_dir=index_dir, embedder=embedder)
    return index_dir


@pytest.fixture(scope="session")
def sample_index(sample_index_dir: Path) -> HybridIndex:
    return load_index(sample_index_dir)


@pytest.fixture(scope="session")
def retriever(sample_index: HybridIndex, embedder: LocalOnnxEmbedder) -> Retriever:
    return Retriever(sample_index, embedder)
