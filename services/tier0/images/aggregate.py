"""Queries over the processed images, for the API (``/api/images``, ``/api/images/summary``)
and the query service.

FerretDB 1.x (our MongoDB-wire store) implements ``$group`` only partly: ``$avg``, ``$min`` and
``$cond`` are "not implemented", and ``$sum`` over a field returned 0 in our probe. So filtering,
counting and paging run in the database, and the per-site averages are computed here from a
narrow projection (four small fields per image).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from tier0.images.model import Gear

Document = dict[str, Any]
MAX_PAGE = 200
# What a list entry leaves out: the vector is large and of no use to a dashboard.
_LIST_PROJECTION = {"embedding": 0, "path": 0}
_SUMMARY_PROJECTION = {"site_id": 1, "compliance_score": 1, "missing": 1, "workers": 1}


@dataclass(frozen=True, slots=True)
class ImageFilter:
    """Which images to include; every field is optional and they combine with AND."""

    site_id: str | None = None
    device_type: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    missing: Gear | None = None

    def query(self) -> Document:
        """The MongoDB filter document."""
        query: Document = {}
        if self.site_id:
            query["site_id"] = self.site_id
        if self.device_type:
            query["device_type"] = self.device_type
        score: Document = {}
        if self.min_score is not None:
            score["$gte"] = self.min_score
        if self.max_score is not None:
            score["$lte"] = self.max_score
        if score:
            query["compliance_score"] = score
        if self.missing is not None:
            query["missing"] = self.missing.value
        return query


@dataclass(frozen=True, slots=True)
class ImagePage:
    """One page of images, newest capture first, and how many match in total."""

    total: int
    offset: int
    limit: int
    items: list[Document]


@dataclass
class SiteCompliance:
    """Aggregates of one site (or of everything, with ``site_id`` ``"*"``)."""

    site_id: str
    images: int = 0
    images_with_workers: int = 0
    workers: int = 0
    fully_compliant: int = 0
    average_score: float | None = None
    missing: dict[str, int] = field(default_factory=lambda: {g.value: 0 for g in Gear})
    _score_total: float = 0.0

    def add(self, document: Document) -> None:
        """Count one image's projection into the aggregates."""
        self.images += 1
        self.workers += int(document.get("workers") or 0)
        score = document.get("compliance_score")
        if score is None:
            return
        self.images_with_workers += 1
        self._score_total += float(score)
        self.fully_compliant += float(score) >= 100.0
        self.average_score = round(self._score_total / self.images_with_workers, 2)
        for gear in document.get("missing") or ():
            self.missing[gear] = self.missing.get(gear, 0) + 1

    def public(self) -> Document:
        """A JSON-ready dict (without the running total)."""
        return {
            "site_id": self.site_id,
            "images": self.images,
            "images_with_workers": self.images_with_workers,
            "workers": self.workers,
            "fully_compliant": self.fully_compliant,
            "average_score": self.average_score,
            "missing": dict(self.missing),
        }


@dataclass(frozen=True, slots=True)
class ComplianceSummary:
    """Fleet-wide figures and one entry per site, sites sorted by average score (worst first)."""

    overall: SiteCompliance
    sites: list[SiteCompliance]


async def list_images(
    collection: AsyncCollection[Document],
    *,
    filters: ImageFilter | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ImagePage:
    """Images matching ``filters``, newest first; ``limit`` is capped at ``MAX_PAGE``."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    limit = min(limit, MAX_PAGE)
    query = (filters or ImageFilter()).query()
    total = await collection.count_documents(query)
    cursor = (
        collection.find(query, _LIST_PROJECTION)
        .sort([("captured_at", DESCENDING), ("_id", DESCENDING)])
        .skip(offset)
        .limit(limit)
    )
    return ImagePage(total, offset, limit, await cursor.to_list())


async def compliance_summary(
    collection: AsyncCollection[Document], *, filters: ImageFilter | None = None
) -> ComplianceSummary:
    """Per-site and overall compliance of the images matching ``filters``."""
    overall = SiteCompliance("*")
    sites: dict[str, SiteCompliance] = defaultdict(lambda: SiteCompliance(""))
    async for document in collection.find((filters or ImageFilter()).query(), _SUMMARY_PROJECTION):
        site = str(document.get("site_id"))
        if site not in sites:
            sites[site] = SiteCompliance(site)
        sites[site].add(document)
        overall.add(document)
    ordered = sorted(
        sites.values(), key=lambda s: (s.average_score is None, s.average_score or 0.0, s.site_id)
    )
    return ComplianceSummary(overall, ordered)
