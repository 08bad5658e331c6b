"""``/api/sites``: every site with its device counts by type and by latest state."""

from __future__ import annotations

from fastapi import APIRouter

from tier0.api.deps import ReadConn
from tier0.api.models import SitePublic
from tier0.api.store.devices import site_aggregates

router = APIRouter(prefix="/api/sites", tags=["sites"])


@router.get("")
async def list_sites(conn: ReadConn) -> list[SitePublic]:
    return await site_aggregates(conn)
