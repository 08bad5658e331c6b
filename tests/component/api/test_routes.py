"""/health, /metrics, /docs, /api/sites, /api/users and the API's own access log."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from tier0.common.schemas.accesslog import AccessLogEntry, parse_line
from tier0.common.schemas.sessions import Region, UserAction, UserEvent
from tier0.sessions.store import upsert_sessions
from tier0.stack.postgres import wait_replayed

from .conftest import DEVICES_PER_SITE_TYPE, SITES, TYPES, Database

pytestmark = pytest.mark.component


async def test_health_reports_every_dependency(client: httpx.AsyncClient) -> None:
    body = (await client.get("/health")).json()
    assert body["status"] == "ok"
    assert {k: v["status"] for k, v in body["dependencies"].items()} == {
        "postgres": "up",
        "postgres_replica": "up",
        "redis": "up",
    }


async def test_metrics_docs_and_openapi(client: httpx.AsyncClient) -> None:
    await client.get("/api/sites")
    metrics = (await client.get("/metrics")).text
    assert 'tier0_api_requests_total{method="GET",route="/api/sites",status="200"}' in metrics
    assert (await client.get("/docs")).status_code == 200
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/api/devices", "/api/sites", "/api/users", "/api/logs/summary", "/health"} <= set(
        paths
    )


async def test_sites_aggregate_devices_by_type_and_state(client: httpx.AsyncClient) -> None:
    sites = {s["site_id"]: s for s in (await client.get("/api/sites")).json()}
    assert set(sites) == set(SITES)
    site = sites["ND-RAVEN"]
    assert site["devices"] == len(TYPES) * DEVICES_PER_SITE_TYPE
    assert site["devices_by_type"] == dict.fromkeys(TYPES, DEVICES_PER_SITE_TYPE)
    assert site["devices_by_state"] == {"alarm": len(TYPES), "running": 4 * len(TYPES)}
    assert site["last_reading_at"] is not None


async def test_users_counts_by_region_and_state(
    client: httpx.AsyncClient, database: Database
) -> None:
    now = datetime.now(UTC)
    plan = [(Region.NA, [UserAction.LOGIN]), (Region.NA, [UserAction.LOGIN, UserAction.IDLE])]
    plan += [(Region.EU, [UserAction.LOGIN, UserAction.LOGOUT]), (Region.APAC, [UserAction.LOGIN])]
    events = []
    for n, (region, actions) in enumerate(plan):
        session = uuid.uuid4()
        for seq, action in enumerate(actions):
            events.append(
                UserEvent(
                    event_id=uuid.uuid4(), session_id=session, user_id=f"user_{n:04d}",
                    region=region, event=action, seq=seq, timestamp=now,
                )
            )  # fmt: skip
    conn = await asyncpg.connect(database.primary)
    try:
        await conn.execute("TRUNCATE user_sessions")
        await upsert_sessions(conn, events=events)
    finally:
        await conn.close()
    await wait_replayed(database.primary, database.replica)  # the API reads from the replica

    body = (await client.get("/api/users")).json()
    assert body["counts"]["by_state"] == {"active": 2, "idle": 1, "disconnected": 1}
    assert body["counts"]["by_region"] == {"NA": 2, "EU": 1, "APAC": 1}
    assert body["counts"]["by_region_state"]["NA"] == {"active": 1, "idle": 1}
    assert body["sessions"]["total"] == 2  # the active ones
    assert {s["state"] for s in body["sessions"]["items"]} == {"active"}
    idle_na = (await client.get("/api/users", params={"state": "idle", "region": "NA"})).json()
    assert [s["user_id"] for s in idle_na["sessions"]["items"]] == ["user_0001"]


async def test_the_api_writes_a_combined_access_log(
    client: httpx.AsyncClient, access_log: io.StringIO
) -> None:
    await client.get("/api/devices?limit=3", headers={"User-Agent": 'probe "quoted"'})
    await client.post("/api/devices", json={})
    lines = access_log.getvalue().splitlines()
    entries = [parse_line(line) for line in lines[-2:]]
    assert all(isinstance(e, AccessLogEntry) for e in entries), lines
    get, post = entries
    assert isinstance(get, AccessLogEntry)
    assert isinstance(post, AccessLogEntry)
    assert (get.method, get.path, get.status) == ("GET", "/api/devices?limit=3", 200)
    assert get.user_agent == 'probe "quoted"'
    assert get.latency_ms is not None
    assert get.bytes > 0
    assert (post.method, post.status) == ("POST", 401)
