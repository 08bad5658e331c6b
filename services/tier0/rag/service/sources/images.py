"""Image questions: compliance aggregates over the processed images in MongoDB."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from tier0.images.aggregate import ImageFilter, SiteCompliance, compliance_summary
from tier0.rag.service.models import Source
from tier0.rag.service.routing import Route
from tier0.rag.service.sources import Reference, SourceResult, Statement

WORST_SITES = 3


def _filters(route: Route) -> ImageFilter:
    return ImageFilter(site_id=route.site_id, device_type=route.device_type)


def _reference(query: str, filters: ImageFilter, collection: str) -> Reference:
    applied = {
        k: v for k, v in (("site_id", filters.site_id), ("device_type", filters.device_type)) if v
    }
    return Reference(Source.IMAGES, store=collection, query=query, filters=applied or None)


def _scope(filters: ImageFilter) -> str:
    parts = [p for p in (filters.site_id, filters.device_type) if p]
    return f" ({', '.join(parts)})" if parts else ""


def image_statements(
    overall: SiteCompliance, sites: list[SiteCompliance], route: Route, collection: str
) -> list[Statement]:
    """Sentences about the overall score, the worst sites and the gear asked about."""
    filters = _filters(route)
    if overall.images == 0:
        return [
            Statement(
                f"No processed images{_scope(filters)}.",
                _reference("compliance_summary", filters, collection),
            )
        ]
    summary = _reference("compliance_summary", filters, collection)
    average = "n/a" if overall.average_score is None else f"{overall.average_score}"
    text = (
        f"{overall.images} images{_scope(filters)}, {overall.images_with_workers} with workers; "
        f"average compliance score {average} of 100; {overall.fully_compliant} fully compliant."
    )
    statements = [Statement(text, summary)]
    scored = [s for s in sites if s.average_score is not None][:WORST_SITES]
    if scored and not route.site_id:
        listed = ", ".join(f"{s.site_id} ({s.average_score})" for s in scored)
        statements.append(
            Statement(
                f"Lowest average scores by site: {listed}.",
                _reference("site_compliance", filters, collection),
            )
        )
    if route.gear is not None:
        gear = route.gear.value
        lacking = [s for s in sites if s.missing.get(gear)]
        listed = ", ".join(f"{s.site_id} ({s.missing[gear]} images)" for s in lacking) or "none"
        name = gear.replace("_", " ")
        statements.append(
            Statement(
                f"Sites with images missing {name}: {listed}.",
                _reference(f"missing_{gear}", filters, collection),
            )
        )
    return statements


async def answer_from_images(
    collection: AsyncCollection[dict[str, Any]], route: Route
) -> SourceResult:
    """Aggregates and statements for an image question."""
    summary = await compliance_summary(collection, filters=_filters(route))
    figures = {"overall": summary.overall.public(), "sites": [s.public() for s in summary.sites]}
    statements = image_statements(summary.overall, summary.sites, route, collection.name)
    return SourceResult(Source.IMAGES, statements, figures)
