"""The Cohere path through the official SDK, against a local server speaking Cohere's JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tier0.rag.backends import embedder_for_index, make_answerer, make_embedder, make_reranker
from tier0.rag.cohere_backend import (
    EMBED_BATCH,
    CohereEmbedder,
    CohereSettings,
    SourcePassage,
)
from tier0.rag.corpus import write_sample_corpus
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.rag.ingest import ingest, load_index
from tier0.rag.retrieval import Retriever

from .conftest import document_named
from .fake_cohere import FakeCohere

KEY = "test-cohere-key-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeCohere]:
    with FakeCohere() as server:
        yield server


@pytest.fixture
def settings(fake: FakeCohere) -> CohereSettings:
    return CohereSettings(api_key=KEY, base_url=fake.url)


def test_documents_and_queries_use_their_input_types(
    fake: FakeCohere, settings: CohereSettings
) -> None:
    embedder = CohereEmbedder(settings)
    passages = embedder.embed_documents([f"passage {i}" for i in range(EMBED_BATCH + 4)])
    query = embedder.embed_query("passage 3")
    calls = fake.calls("/v2/embed")
    assert [(c.body["model"], c.body["input_type"], len(c.body["texts"])) for c in calls] == [
        ("embed-english-v3.0", "search_document", EMBED_BATCH),
        ("embed-english-v3.0", "search_document", 4),
        ("embed-english-v3.0", "search_query", 1),
    ]
    assert all(c.authorization == f"Bearer {KEY}" for c in calls)
    assert calls[0].body["embedding_types"] == ["float"]
    assert passages.shape == (EMBED_BATCH + 4, 1024)
    assert query.shape == (1024,)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert embedder.model_id == "cohere:embed-english-v3.0"


def test_cohere_index_retrieves_and_reranks(
    tmp_path: Path, fake: FakeCohere, settings: CohereSettings
) -> None:
    corpus = tmp_path / "corpus"
    write_sample_corpus(corpus, (document_named("INC-2026-022"), document_named("OPS-RB-204")))
    embedder = make_embedder(settings)
    ingest([corpus], index_dir=tmp_path / "index", embedder=embedder)
    index = load_index(tmp_path / "index")
    assert index.model_id == "cohere:embed-english-v3.0"
    assert index.dimension == 1024
    retriever = Retriever(
        index, embedder_for_index(index.model_id, settings), reranker=make_reranker(settings)
    )
    question = "What was the ambient temperature when the AK-NORTH standby engine failed?"
    hits = retriever.search(question, top_k=3)
    assert hits[0].citation.document.startswith("INC-2026-022")
    rerank = fake.calls("/v2/rerank")
    assert len(rerank) == 1
    assert rerank[0].body["model"] == "rerank-english-v3.0"
    assert rerank[0].body["query"] == question
    assert rerank[0].body["top_n"] == 3
    # The reranker's relevance (share of query words, in the fake) is what the hits carry.
    assert hits[0].score == pytest.approx(max(h.score for h in hits))
    assert hits[0].score <= 1.0
    assert fake.calls("/v2/embed")[-1].body["input_type"] == "search_query"


def test_chat_gets_the_passages_as_documents(fake: FakeCohere, settings: CohereSettings) -> None:
    answerer = make_answerer(settings)
    assert answerer is not None
    passages = [
        SourcePassage("[1]", "manual p.2", "Oil every 500 h."),
        SourcePassage("[2]", "t", "x"),
    ]
    text = asyncio.run(answerer.answer("How often is oil changed?", passages))
    assert text == "Synthesised answer from 2 documents."
    (call,) = fake.calls("/v2/chat")
    assert call.body["model"] == "command-r-08-2024"
    assert call.body["messages"][-1] == {"role": "user", "content": "How often is oil changed?"}
    assert call.body["documents"][0] == {
        "id": "[1]",
        "data": {"title": "manual p.2", "snippet": "Oil every 500 h."},
    }


def test_without_a_key_everything_is_local() -> None:
    settings = CohereSettings(api_key=None)
    assert make_reranker(settings) is None
    assert make_answerer(settings) is None
    assert isinstance(embedder_for_index("all-MiniLM-L6-v2-onnx-int8", settings), LocalOnnxEmbedder)
    with pytest.raises(RuntimeError, match="COHERE_API_KEY"):
        embedder_for_index("cohere:embed-english-v3.0", settings)
