"""The workers' /health and /metrics endpoint."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter

from tier0.common.http import HealthStatus, Heartbeat, OpsServer


async def get(port: int, path: str) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    response = (await reader.read()).decode()
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition("\r\n\r\n")
    return int(head.split()[1]), body


async def test_health_follows_the_check_and_metrics_are_exposed() -> None:
    registry = CollectorRegistry()
    Counter("tier0_test_things", "things", registry=registry).inc(3)
    healthy = True
    server = OpsServer(
        health=lambda: HealthStatus(healthy, {"lag": 1}), host="127.0.0.1", registry=registry
    )
    async with server:
        assert await get(server.port, "/health") == (200, '{"healthy": true, "lag": 1}')
        healthy = False
        assert (await get(server.port, "/health"))[0] == 503
        status, body = await get(server.port, "/metrics")
        assert status == 200
        assert "tier0_test_things_total 3.0" in body
        assert (await get(server.port, "/nope"))[0] == 404


def test_heartbeat_expires_and_reports_failures() -> None:
    beat = Heartbeat(ttl_seconds=60)
    assert not beat.status().healthy  # starting
    beat.beat()
    assert beat.status().healthy
    beat.fail("broker down")
    assert beat.status().details["reason"] == "broker down"
    beat.beat()
    beat.ttl_seconds = -1
    assert not beat.status().healthy
