"""``/api/images``: processed site images and their safety-compliance summary (MongoDB)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from tier0.api.deps import ImagesDep
from tier0.api.models import (
    ComplianceSummaryPublic,
    DeviceType,
    ImagePublic,
    Page,
    SiteCompliancePublic,
)
from tier0.images.aggregate import MAX_PAGE, ImageFilter, compliance_summary, list_images
from tier0.images.model import Gear

router = APIRouter(prefix="/api/images", tags=["images"])
# Keeps ``skip`` far inside BSON's int64 (a larger offset would only ever return nothing).
MAX_OFFSET = 1_000_000

Score = Annotated[float | None, Query(ge=0, le=100)]


def image_filter(
    site_id: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    device_type: DeviceType | None = None,
    min_score: Score = None,
    max_score: Score = None,
    missing: Annotated[Gear | None, Query(description="Only images missing this gear")] = None,
) -> ImageFilter:
    """The filters both routes share; they combine with AND."""
    if min_score is not None and max_score is not None and min_score > max_score:
        raise HTTPException(422, "min_score must not be greater than max_score")
    return ImageFilter(
        site_id=site_id,
        device_type=device_type,
        min_score=min_score,
        max_score=max_score,
        missing=missing,
    )


FilterDep = Annotated[ImageFilter, Depends(image_filter)]


def _public(document: dict[str, Any]) -> ImagePublic:
    return ImagePublic.model_validate({**document, "image_id": document["_id"]})


@router.get("")
async def images(
    collection: ImagesDep,
    filters: FilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[ImagePublic]:
    """Images matching the filters, newest capture first."""
    page = await list_images(collection, filters=filters, limit=limit, offset=offset)
    return Page[ImagePublic](
        items=[_public(item) for item in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/summary")
async def summary(collection: ImagesDep, filters: FilterDep) -> ComplianceSummaryPublic:
    """Compliance of the matching images, overall and per site (worst average score first)."""
    result = await compliance_summary(collection, filters=filters)
    return ComplianceSummaryPublic(
        overall=SiteCompliancePublic(**result.overall.public()),
        sites=[SiteCompliancePublic(**site.public()) for site in result.sites],
    )
