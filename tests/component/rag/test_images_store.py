"""``tier0.images.aggregate`` on real FerretDB: filters, pagination, per-site aggregates."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from tier0.images.aggregate import ImageFilter, compliance_summary, list_images
from tier0.images.model import Gear, safety_fields
from tier0.images.process import find_images, process_directory
from tier0.images.sidecar import read_sidecar
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.stack.harness import Harness

pytestmark = pytest.mark.component


@pytest.fixture
async def images(
    stack: Harness, sample_images: Path, local_embedder: LocalOnnxEmbedder
) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.ferretdb.url)
    collection = client["tier0"][f"images_{uuid.uuid4().hex[:8]}"]
    first = await process_directory(sample_images, collection=collection, embedder=local_embedder)
    again = await process_directory(sample_images, collection=collection, embedder=local_embedder)
    assert (first.stored, again.stored, again.unchanged) == (24, 0, 24)
    yield collection
    await collection.drop()
    await client.close()


def _expected(directory: Path) -> list[tuple[str, str, float | None, list[str]]]:
    rows = []
    for path in find_images(directory):
        annotations = read_sidecar(path)
        fields = safety_fields(annotations.detections)
        rows.append(
            (annotations.site_id, annotations.device_type, fields.compliance_score, fields.missing)
        )
    return rows


async def test_filters_and_pagination(
    images: AsyncCollection[dict[str, Any]], sample_images: Path
) -> None:
    expected = _expected(sample_images)
    page = await list_images(images, limit=10, offset=20)
    assert (page.total, len(page.items)) == (24, 4)
    assert "embedding" not in page.items[0]
    missing_vest = await list_images(images, filters=ImageFilter(missing=Gear.SAFETY_VEST))
    assert missing_vest.total == sum("safety_vest" in m for *_, m in expected)
    low = await list_images(images, filters=ImageFilter(max_score=60, device_type="turbine"))
    assert low.total == sum(t == "turbine" and s is not None and s <= 60 for _, t, s, _ in expected)
    stored = await images.find_one({})
    assert stored is not None
    assert len(stored["embedding"]) == 384


async def test_site_aggregates_match_the_sidecars(
    images: AsyncCollection[dict[str, Any]], sample_images: Path
) -> None:
    expected = _expected(sample_images)
    summary = await compliance_summary(images)
    scores = [s for _, _, s, _ in expected if s is not None]
    assert summary.overall.images == 24
    assert summary.overall.average_score == pytest.approx(sum(scores) / len(scores), abs=0.01)
    site = summary.sites[0]
    site_scores = [s for site_id, _, s, _ in expected if site_id == site.site_id and s is not None]
    if site_scores:
        assert site.average_score == pytest.approx(sum(site_scores) / len(site_scores), abs=0.01)
    averages = [s.average_score for s in summary.sites if s.average_score is not None]
    assert averages == sorted(averages)
