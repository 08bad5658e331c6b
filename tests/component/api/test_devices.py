"""/api/devices on real PostgreSQL (primary + replica) and Redis through Sentinel."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from .conftest import (
    API_KEY,
    CACHE_TTL,
    DEVICES_PER_SITE_TYPE,
    NOW,
    SITES,
    TYPES,
    device_id,
)

pytestmark = pytest.mark.component
PROBLEM = "application/problem+json"


async def test_filters_select_devices_with_their_latest_reading(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/api/devices", params={"limit": 500})).json()
    assert everything["total"] == len(SITES) * len(TYPES) * DEVICES_PER_SITE_TYPE

    site = (await client.get("/api/devices", params={"site": "TX-EAGLE"})).json()
    assert site["total"] == len(TYPES) * DEVICES_PER_SITE_TYPE
    assert {d["site_id"] for d in site["items"]} == {"TX-EAGLE"}

    one = await client.get("/api/devices", params={"site": "TX-EAGLE", "type": "oil_gas"})
    items = one.json()["items"]
    assert [d["device_id"] for d in items] == [
        device_id("TX-EAGLE", "oil_gas", n) for n in range(DEVICES_PER_SITE_TYPE)
    ]
    latest = items[0]["latest"]
    assert latest["metrics"]["age"] == 0  # the newer of the two readings
    assert latest["timestamp_utc"].startswith(NOW.strftime("%Y-%m-%dT%H:%M:%S"))

    alarms = (await client.get("/api/devices", params={"state": "alarm", "limit": 500})).json()
    assert alarms["total"] == len(SITES) * len(TYPES)  # n == 0 of each 5
    assert {d["latest"]["state"] for d in alarms["items"]} == {"alarm"}


async def test_pages_cover_every_device_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    for offset in range(0, 60, 25):
        page = (await client.get("/api/devices", params={"limit": 25, "offset": offset})).json()
        assert page["limit"] == 25
        assert page["offset"] == offset
        seen += [d["device_id"] for d in page["items"]]
    assert len(seen) == len(set(seen)) == 60
    assert seen == sorted(seen)


async def test_cache_hit_then_miss_after_ttl(client: httpx.AsyncClient) -> None:
    params = {"site": "ND-RAVEN", "type": "turbine"}
    first = await client.get("/api/devices", params=params)
    second = await client.get("/api/devices", params=params)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert first.json() == second.json()
    await asyncio.sleep(CACHE_TTL + 0.5)
    assert (await client.get("/api/devices", params=params)).headers["x-cache"] == "miss"


async def test_registering_a_device_invalidates_its_listings(client: httpx.AsyncClient) -> None:
    params: dict[str, str | int] = {"site": "WY-ALPHA", "type": "turbine", "limit": 500}
    before = await client.get("/api/devices", params=params)
    assert (await client.get("/api/devices", params=params)).headers["x-cache"] == "hit"
    new = {"device_id": "WY-ALPHA-turbine-new", "device_type": "turbine", "site_id": "WY-ALPHA"}
    created = await client.post("/api/devices", json=new, headers={"X-API-Key": API_KEY})
    assert created.status_code == 201, created.text
    after = await client.get("/api/devices", params=params)
    assert after.headers["x-cache"] == "miss"  # and served from the replica, caught up
    assert after.json()["total"] == before.json()["total"] + 1
    assert "WY-ALPHA-turbine-new" in [d["device_id"] for d in after.json()["items"]]

    again = await client.post("/api/devices", json=new, headers={"X-API-Key": API_KEY})
    assert again.status_code == 409
    unknown_site = new | {"device_id": "x-1", "site_id": "NOWHERE"}
    refused = await client.post("/api/devices", json=unknown_site, headers={"X-API-Key": API_KEY})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"X-API-Key": "wrong" * 5}, 403)])
async def test_writes_without_the_right_key_are_refused(
    client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    device = {"device_id": "sneaky-1", "device_type": "turbine", "site_id": "WY-ALPHA"}
    response = await client.post("/api/devices", json=device, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == status
    listing = await client.get("/api/devices", params={"site": "WY-ALPHA", "limit": 500})
    assert "sneaky-1" not in [d["device_id"] for d in listing.json()["items"]]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/api/devices?limit=0", None),
        ("GET", "/api/devices?type=toaster", None),
        ("GET", "/api/devices?offset=-1", None),
        ("POST", "/api/devices", {"device_id": "a b", "device_type": "turbine", "site_id": "X"}),
        ("POST", "/api/devices", {"device_id": "ok", "device_type": "turbine"}),
        ("GET", "/api/users?region=MARS", None),
    ],
)
async def test_bad_input_is_a_422_problem(
    client: httpx.AsyncClient, method: str, url: str, body: object
) -> None:
    response = await client.request(method, url, json=body, headers={"X-API-Key": API_KEY})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["title"] == "Unprocessable Entity"
    assert problem["errors"]


async def test_telemetry_in_a_time_range(client: httpx.AsyncClient) -> None:
    dev = device_id("WY-ALPHA", "turbine", 1)
    url = f"/api/devices/{dev}/telemetry"
    window = {
        "start": (NOW - timedelta(minutes=5)).isoformat(),
        "end": (NOW + timedelta(seconds=1)).isoformat(),
    }
    both = (await client.get(url, params=window)).json()
    assert [r["metrics"]["age"] for r in both["readings"]] == [60, 0]
    older = window | {"end": (NOW - timedelta(seconds=30)).isoformat()}
    assert [
        r["metrics"]["age"] for r in (await client.get(url, params=older)).json()["readings"]
    ] == [60]

    backwards = {"start": window["end"], "end": window["start"]}
    assert (await client.get(url, params=backwards)).status_code == 422
    missing = await client.get("/api/devices/no-such-device/telemetry")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
