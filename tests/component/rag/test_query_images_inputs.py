"""Image questions from real FerretDB data, bad input, health and metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymongo import AsyncMongoClient

from tier0.images.model import safety_fields
from tier0.images.process import find_images, process_directory
from tier0.images.sidecar import read_sidecar
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.stack.harness import Harness

pytestmark = pytest.mark.component


async def _process(url: str, database: str, directory: Path, embedder: LocalOnnxEmbedder) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        await process_directory(directory, collection=client[database]["images"], embedder=embedder)
    finally:
        await client.close()


@pytest.fixture(scope="module")
def images_loaded(
    stack: Harness, mongo_database: str, sample_images: Path, local_embedder: LocalOnnxEmbedder
) -> Path:
    asyncio.run(_process(stack.ferretdb.url, mongo_database, sample_images, local_embedder))
    return sample_images


def test_image_question_is_answered_from_mongo(client: TestClient, images_loaded: Path) -> None:
    expected: dict[str, int] = {}
    for path in find_images(images_loaded):
        annotations = read_sidecar(path)
        if "hard_hat" in safety_fields(annotations.detections).missing:
            expected[annotations.site_id] = expected.get(annotations.site_id, 0) + 1
    body = client.post(
        "/query", json={"question": "Which sites have workers without hard hats?"}
    ).json()
    assert body["sources"] == ["images"]
    images = body["figures"]["images"]
    assert images["overall"]["images"] == len(find_images(images_loaded))
    found = {
        s["site_id"]: s["missing"]["hard_hat"] for s in images["sites"] if s["missing"]["hard_hat"]
    }
    assert found == expected
    assert expected
    assert any(c["query"] == "missing_hard_hat" for c in body["citations"])
    for site, count in expected.items():
        assert f"{site} ({count} images)" in body["answer"]


def test_site_filter_narrows_the_image_aggregates(client: TestClient, images_loaded: Path) -> None:
    body = client.post(
        "/query", json={"question": "What is the safety compliance score at TX-EAGLE?"}
    ).json()
    assert [s["site_id"] for s in body["figures"]["images"]["sites"]] == ["TX-EAGLE"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "title"),
    [
        (b'{"question": ""}', "application/json", 422, "Invalid request"),
        (b'{"question": "   "}', "application/json", 422, "Empty question"),
        (b'{"question": "\xff\xfe oops"}', "application/json", 400, "Body is not UTF-8"),
        (b'{"question": ', "application/json", 400, "Body is not JSON"),
        (b'{"question": "hi"}', "text/plain", 415, "Unsupported media type"),
        (b'{"question": "hi", "sources": ["weather"]}', "application/json", 422, "Invalid request"),
        (b'{"question": "hi", "top_k": 500}', "application/json", 422, "top_k too large"),
        (b'{"question": "' + b"x" * 20_000 + b'"}', "application/json", 413, "Body too large"),
        (b'{"question": "' + b"x" * 2_000 + b'"}', "application/json", 422, "Question too long"),
    ],
)
def test_bad_input_gets_a_problem_document(
    client: TestClient, content: bytes, content_type: str, status: int, title: str
) -> None:
    response = client.post("/query", content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["title"], problem["instance"]) == (status, title, "/query")


def test_health_and_metrics(client: TestClient) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["checks"] == {
        "postgres": "ok",
        "redis": "ok",
        "mongo": "ok",
        "index": "ok",
    }
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "tier0_rag_queries_total" in metrics.text
    assert "tier0_rag_rejected_total" in metrics.text
