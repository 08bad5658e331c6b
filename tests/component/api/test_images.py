"""``/api/images`` and ``/api/images/summary`` on real FerretDB data from ``tier0.images``.

The expected figures are computed from the sample sidecars, not from the store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tier0.images.model import safety_fields
from tier0.images.process import find_images, process_directory
from tier0.images.sidecar import read_sidecar
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.stack.harness import Harness

from .conftest import Database, serve, settings_for

pytestmark = pytest.mark.component

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Expected:
    site_id: str
    device_type: str
    score: float | None
    missing: list[str]


async def _process(url: str, database: str, directory: Path, embedder: LocalOnnxEmbedder) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        report = await process_directory(
            directory, collection=client[database]["images"], embedder=embedder
        )
        assert (report.stored, report.rejected) == (len(find_images(directory)), [])
    finally:
        await client.close()


async def _drop(url: str, database: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        await client.drop_database(database)
    finally:
        await client.close()


@pytest.fixture(scope="module")
def mongo_database(
    stack: Harness, sample_images: Path, local_embedder: LocalOnnxEmbedder
) -> Iterator[str]:
    """A Mongo database of its own, with the sample images processed into ``images``."""
    name = f"apiimg_{uuid.uuid4().hex[:8]}"
    asyncio.run(_process(stack.ferretdb.url, name, sample_images, local_embedder))
    yield name
    asyncio.run(_drop(stack.ferretdb.url, name))


@pytest.fixture(scope="module")
def expected(sample_images: Path) -> list[Expected]:
    rows = []
    for path in find_images(sample_images):
        annotations = read_sidecar(path)
        fields = safety_fields(annotations.detections)
        rows.append(
            Expected(
                annotations.site_id,
                annotations.device_type,
                fields.compliance_score,
                fields.missing,
            )
        )
    return rows


@pytest.fixture
async def api(
    stack: Harness, database: Database, mongo_database: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(stack, database).model_copy(
        update={"mongo_url": stack.ferretdb.url, "mongo_database": mongo_database}
    )
    async with serve(settings) as client:
        yield client


async def _total(api: httpx.AsyncClient, **params: Any) -> int:
    response = await api.get("/api/images", params=params)
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


async def test_filters_match_the_sidecars(api: httpx.AsyncClient, expected: list[Expected]) -> None:
    site, device_type = expected[0].site_id, expected[1].device_type
    assert await _total(api) == len(expected)
    assert await _total(api, site_id=site) == sum(e.site_id == site for e in expected)
    assert await _total(api, device_type=device_type) == sum(
        e.device_type == device_type for e in expected
    )
    assert await _total(api, missing="hard_hat") == sum("hard_hat" in e.missing for e in expected)
    scored = [e.score for e in expected if e.score is not None]
    assert await _total(api, min_score=70) == sum(s >= 70 for s in scored)
    assert await _total(api, min_score=30, max_score=70) == sum(30 <= s <= 70 for s in scored)
    combined = {"device_type": device_type, "max_score": 60, "missing": "safety_vest"}
    assert await _total(api, **combined) == sum(
        e.device_type == device_type
        and e.score is not None
        and e.score <= 60
        and "safety_vest" in e.missing
        for e in expected
    )
    assert 0 < await _total(api, missing="safety_vest") < len(expected)


async def test_items_are_public_fields_newest_first(
    api: httpx.AsyncClient, expected: list[Expected]
) -> None:
    body = (await api.get("/api/images", params={"site_id": expected[0].site_id})).json()
    items = body["items"]
    assert items
    assert all(item["site_id"] == expected[0].site_id for item in items)
    captured = [item["captured_at"] for item in items]
    assert captured == sorted(captured, reverse=True)
    first = items[0]
    assert len(first["image_id"]) == 64
    assert first["captured_at"].endswith("Z")  # stored as UTC, read back time-zone aware
    assert not {"embedding", "path", "_id"} & set(first)
    assert set(first["safety"]) == {"hard_hat", "safety_vest", "inspection_equipment"}


async def test_pages_cover_every_image_once(
    api: httpx.AsyncClient, expected: list[Expected]
) -> None:
    seen: list[str] = []
    for offset in range(0, len(expected), 10):
        response = await api.get("/api/images", params={"limit": 10, "offset": offset})
        page = response.json()
        assert (page["total"], page["limit"], page["offset"]) == (len(expected), 10, offset)
        assert len(page["items"]) == min(10, len(expected) - offset)
        seen += [item["image_id"] for item in page["items"]]
    assert len(set(seen)) == len(seen) == len(expected)
    beyond = (await api.get("/api/images", params={"offset": len(expected)})).json()
    assert (beyond["total"], beyond["items"]) == (len(expected), [])


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"offset": 1_000_001},
        {"min_score": -1},
        {"max_score": 101},
        {"min_score": 80, "max_score": 20},
        {"missing": "gloves"},
        {"device_type": "toaster"},
        {"site_id": ""},
    ],
)
async def test_invalid_parameters_are_422_problems(
    api: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    for path in ("/api/images", "/api/images/summary"):
        if path.endswith("summary") and ("limit" in params or "offset" in params):
            continue
        response = await api.get(path, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON


async def test_summary_matches_the_sidecars(
    api: httpx.AsyncClient, expected: list[Expected]
) -> None:
    response = await api.get("/api/images/summary")
    assert response.status_code == 200, response.text
    summary = response.json()
    scores = [e.score for e in expected if e.score is not None]
    overall = summary["overall"]
    assert (overall["site_id"], overall["images"]) == ("*", len(expected))
    assert overall["images_with_workers"] == len(scores)
    assert overall["average_score"] == pytest.approx(sum(scores) / len(scores), abs=0.01)
    assert overall["fully_compliant"] == sum(s >= 100 for s in scores)
    assert overall["missing"]["hard_hat"] == sum("hard_hat" in e.missing for e in expected)
    assert {s["site_id"] for s in summary["sites"]} == {e.site_id for e in expected}
    averages = [s["average_score"] for s in summary["sites"] if s["average_score"] is not None]
    assert averages == sorted(averages)
    for site in summary["sites"]:
        site_scores = [
            e.score for e in expected if e.site_id == site["site_id"] and e.score is not None
        ]
        assert site["images"] == sum(e.site_id == site["site_id"] for e in expected)
        if site_scores:
            mean = sum(site_scores) / len(site_scores)
            assert site["average_score"] == pytest.approx(mean, abs=0.01)


async def test_summary_honours_the_filters(
    api: httpx.AsyncClient, expected: list[Expected]
) -> None:
    site = next(e.site_id for e in expected if "safety_vest" in e.missing)
    params = {"site_id": site, "missing": "safety_vest"}
    summary = (await api.get("/api/images/summary", params=params)).json()
    matching = [e for e in expected if e.site_id == site and "safety_vest" in e.missing]
    assert summary["overall"]["images"] == len(matching)
    assert [s["site_id"] for s in summary["sites"]] == [site]
    assert summary["overall"]["missing"]["safety_vest"] == len(matching)


async def test_images_without_a_configured_store_are_503_problems(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/api/images", "/api/images/summary"):
        response = await client.get(path)
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM_JSON
        assert "TIER0_MONGO_URL" in response.json()["detail"]
