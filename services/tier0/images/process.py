"""``tier0 images process DIR``: metadata, safety fields, score and embedding into MongoDB.

One document per image, keyed by the sha256 of its bytes, upserted: processing the same
directory again changes nothing, and a re-delivered sidecar with new detections replaces the
old fields.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from tier0.images.metadata import ImageMetadata, ImageReadError, read_metadata
from tier0.images.model import SafetyFields, safety_fields
from tier0.images.sidecar import Annotations, SidecarError, read_sidecar
from tier0.rag.embeddings import Embedder

logger = logging.getLogger(__name__)

COLLECTION = "images"
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
BATCH = 64

Document = dict[str, Any]


@dataclass
class ProcessReport:
    """What one run stored and what it refused (file name and reason)."""

    stored: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)


def find_images(directory: Path) -> list[Path]:
    """Image files under ``directory``, sorted."""
    return sorted(p for p in directory.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def describe(annotations: Annotations, fields: SafetyFields) -> str:
    """A sentence about the image, embedded so images can be searched by meaning."""
    gear = ", ".join(
        f"{count} {name.replace('_', ' ')}" for name, count in fields.counts.items() if count
    )
    missing = ", ".join(m.replace("_", " ") for m in fields.missing) or "nothing"
    return (
        f"Site camera image at {annotations.site_id} ({annotations.device_type}): "
        f"{gear or 'no people or gear detected'}; missing: {missing}."
    )


def image_document(
    meta: ImageMetadata, annotations: Annotations, fields: SafetyFields, source: Path
) -> Document:
    """The MongoDB document for one image (without its embedding)."""
    return {
        "_id": meta.sha256,
        "file_name": meta.file_name,
        "path": str(source),
        "format": meta.format,
        "width": meta.width,
        "height": meta.height,
        "size_bytes": meta.size_bytes,
        "camera_id": annotations.camera_id,
        "site_id": annotations.site_id,
        "device_type": annotations.device_type,
        "device_id": annotations.device_id,
        "captured_at": annotations.captured_at,
        "detector": annotations.detector,
        "detections": len(annotations.detections),
        "workers": fields.workers,
        "safety": {
            "hard_hat": fields.hard_hat,
            "safety_vest": fields.safety_vest,
            "inspection_equipment": fields.inspection_equipment,
        },
        "gear_counts": fields.counts,
        "missing": fields.missing,
        "compliance_score": fields.compliance_score,
    }


def read_image(path: Path) -> Document:
    """Metadata, sidecar and safety fields of one file; raises on bad input."""
    meta = read_metadata(path)
    annotations = read_sidecar(path)
    fields = safety_fields(annotations.detections)
    document = image_document(meta, annotations, fields, path)
    document["description"] = describe(annotations, fields)
    return document


async def ensure_indexes(collection: AsyncCollection[Document]) -> None:
    """Indexes the list and summary queries filter on."""
    await collection.create_index([("site_id", ASCENDING), ("device_type", ASCENDING)])
    await collection.create_index([("compliance_score", ASCENDING)])


async def process_directory(
    directory: Path, *, collection: AsyncCollection[Document], embedder: Embedder
) -> ProcessReport:
    """Store every readable image under ``directory``; bad files are reported, not fatal."""
    report = ProcessReport()
    documents: list[Document] = []
    for path in find_images(directory):
        try:
            documents.append(read_image(path))
        except (ImageReadError, SidecarError) as exc:
            report.rejected.append((path.name, str(exc)))
            logger.warning("skipped %s: %s", path.name, exc)
    await ensure_indexes(collection)
    for start in range(0, len(documents), BATCH):
        await _store(collection, documents[start : start + BATCH], embedder, report)
    return report


async def _store(
    collection: AsyncCollection[Document],
    batch: list[Document],
    embedder: Embedder,
    report: ProcessReport,
) -> None:
    vectors = await asyncio.to_thread(embedder.embed_documents, [d["description"] for d in batch])
    operations = []
    for document, vector in zip(batch, vectors, strict=True):
        document["embedding"] = [float(x) for x in vector]
        document["embedding_model"] = embedder.model_id
        fields = {k: v for k, v in document.items() if k != "_id"}
        update = {"$set": fields, "$setOnInsert": {"processed_at": dt.datetime.now(dt.UTC)}}
        operations.append(UpdateOne({"_id": document["_id"]}, update, upsert=True))
    result = await collection.bulk_write(operations, ordered=False)
    report.stored += result.upserted_count + result.modified_count
    report.unchanged += len(batch) - result.upserted_count - result.modified_count
