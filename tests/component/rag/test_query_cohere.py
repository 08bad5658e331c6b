"""The query service with a Cohere key: SDK calls go to a local server speaking Cohere's API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tier0.rag.backends import make_embedder
from tier0.rag.cohere_backend import CohereSettings
from tier0.rag.ingest import ingest
from tier0.rag.service.main import create_app
from tier0.rag.service.settings import ServiceSettings
from tier0.stack.harness import Harness
from unit.rag.fake_cohere import FakeCohere

from .conftest import store_settings

pytestmark = pytest.mark.component
KEY = "component-cohere-key-0123456789"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCohere]:
    with FakeCohere() as server:
        yield server


@pytest.fixture(scope="module")
def cohere_client(
    stack: Harness,
    database: str,
    small_corpus: Path,
    tmp_path_factory: pytest.TempPathFactory,
    fake: FakeCohere,
) -> Iterator[TestClient]:
    cohere = CohereSettings(api_key=KEY, base_url=fake.url)
    index_dir = tmp_path_factory.mktemp("cohere-index") / "index"
    ingest([small_corpus], index_dir=index_dir, embedder=make_embedder(cohere))
    settings = ServiceSettings(index_dir=index_dir, cache_scope=uuid.uuid4().hex[:8])
    app = create_app(settings, stores=store_settings(stack, database, "cohere"), cohere=cohere)
    with TestClient(app) as client:
        yield client


def test_answer_is_synthesised_by_cohere_chat_with_citations(
    cohere_client: TestClient, fake: FakeCohere
) -> None:
    question = "What was the ambient temperature when the AK-NORTH standby engine failed?"
    response = cohere_client.post("/query", json={"question": question, "top_k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer_mode"] == "cohere:command-r-08-2024"
    assert body["answer"] == "Synthesised answer from 3 documents."
    assert len(body["citations"]) == 3
    assert body["citations"][0]["document"].startswith("INC-2026-022")
    query_embeds = [c for c in fake.calls("/v2/embed") if c.body["input_type"] == "search_query"]
    assert [c.body["texts"] for c in query_embeds] == [[question]]
    assert fake.calls("/v2/rerank")[-1].body["query"] == question
    chat = fake.calls("/v2/chat")[-1].body
    assert chat["messages"][-1]["content"] == question
    assert [d["id"] for d in chat["documents"]] == ["[1]", "[2]", "[3]"]
    assert chat["documents"][0]["data"]["title"].startswith("INC-2026-022")


def test_cached_answers_do_not_call_cohere_again(
    cohere_client: TestClient, fake: FakeCohere
) -> None:
    question = "How many producing wells does ND-RAVEN have?"
    cohere_client.post("/query", json={"question": question})
    calls = len(fake.requests)
    again = cohere_client.post("/query", json={"question": question})
    assert again.headers["x-cache"] == "hit"
    assert len(fake.requests) == calls
