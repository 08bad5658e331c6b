"""``/api/failover``: the Tier0Region's state, its Events, and a planned switchover.

A switchover is a patch of ``spec.activeRegion``; the operator does the work and reports it in
``status``. So POST answers 202 at once with the epoch the switchover will leave in
``status.epoch``; a client polls GET until ``epoch`` reaches it and ``phase`` is Ready.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response

from tier0.api.deps import OperateScope, RegionsDep
from tier0.api.models import (
    FailoverAccepted,
    FailoverCreate,
    RegionEventPublic,
    RegionStatusPublic,
)
from tier0.api.regions import RegionError
from tier0.common.logging import get_logger

log = get_logger(__name__)
router = APIRouter(prefix="/api/failover", tags=["failover"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
# Reads and patches of a switch request, while status writes keep changing the resourceVersion.
CONFLICT_ATTEMPTS = 5
UPSTREAM_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "The Tier0Region does not exist", **PROBLEM},
    502: {"description": "The Kubernetes API is unreachable or refused the API", **PROBLEM},
    503: {"description": "The API has no Kubernetes credentials", **PROBLEM},
}


@asynccontextmanager
async def _kubernetes() -> AsyncIterator[None]:
    try:
        yield
    except RegionError as exc:
        raise HTTPException(exc.status, exc.detail) from exc


def region_status(resource: dict[str, Any]) -> RegionStatusPublic:
    meta, spec = resource["metadata"], resource.get("spec", {})
    return RegionStatusPublic.model_validate(
        {
            **resource.get("status", {}),
            "name": meta["name"],
            "namespace": meta["namespace"],
            "generation": meta.get("generation"),
            "regions": [region["name"] for region in spec.get("regions", [])],
            "desired_region": spec.get("activeRegion"),
        }
    )


@router.get("", responses=UPSTREAM_ERRORS)
async def failover_status(regions: RegionsDep) -> RegionStatusPublic:
    """Active region, phase, conditions, replication lag, the switchover in progress (if any)
    and the last one with its per-step timings."""
    async with _kubernetes():
        return region_status(await regions.get())


def _refusal(current: RegionStatusPublic, target: str) -> HTTPException | None:
    """Why switching to ``target`` now makes no sense, if it does not."""
    if target not in current.regions:
        known = ", ".join(current.regions)
        return HTTPException(422, f"{target!r} is not a region of {current.name} ({known})")
    if current.failover is not None:
        run = current.failover
        return HTTPException(
            409,
            f"a switchover to {run.to_region} (epoch {run.epoch}) is in progress, at step"
            f" {run.step}; wait until it is done",
        )
    if target == current.desired_region:
        return HTTPException(409, f"{target} is already the active region")
    return None


@router.post(
    "",
    status_code=202,
    dependencies=[OperateScope],
    responses={
        **UPSTREAM_ERRORS,
        401: {"description": "No X-API-Key", **PROBLEM},
        403: {"description": "The key lacks the operate scope", **PROBLEM},
        409: {"description": "Already active, a switchover in progress, or a race", **PROBLEM},
        422: {"description": "Not a region of this Tier0Region", **PROBLEM},
    },
)
async def switch_region(
    body: FailoverCreate, regions: RegionsDep, response: Response
) -> FailoverAccepted:
    """Start a planned switchover to ``region`` (``X-API-Key`` of the operate scope)."""
    async with _kubernetes():
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            resource = await regions.get()
            current = region_status(resource)
            refusal = _refusal(current, body.region)
            if refusal is not None:
                raise refusal
            version = resource["metadata"]["resourceVersion"]
            try:
                await regions.set_active_region(body.region, resource_version=version)
                break
            except RegionError as exc:
                # The operator's status writes (lag, every few seconds) change the
                # resourceVersion too: read again. Another client's switch then shows as a
                # refusal above (in progress, or already active).
                if exc.status != 409 or attempt == CONFLICT_ATTEMPTS:
                    raise
    log.info("switchover requested", to=body.region, was=current.desired_region)
    response.headers["Location"] = router.prefix
    return FailoverAccepted(
        from_region=current.active_region or current.desired_region,
        to_region=body.region,
        epoch=(current.epoch or 0) + 1,
    )


@router.get("/events", responses=UPSTREAM_ERRORS)
async def failover_events(
    regions: RegionsDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[RegionEventPublic]:
    """The Tier0Region's recent Events (each phase change and failover step), newest first."""
    async with _kubernetes():
        events = await regions.events(limit=limit)
    return [
        RegionEventPublic(
            type=event.type,
            reason=event.reason,
            message=event.message,
            count=event.count,
            first_seen=event.first_timestamp or event.event_time,
            last_seen=event.last_timestamp or event.event_time,
            source=event.source.component if event.source else event.reporting_component,
        )
        for event in events
    ]
