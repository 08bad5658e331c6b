"""Log and live-device questions answered from real PostgreSQL rows, and the answer cache."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json

import asyncpg
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.component

LOG_QUESTION = "Which IP addresses are generating the most errors?"
NOW = dt.datetime.now(dt.UTC)


def _log_rows(
    ip: str, status: int, path: str, latency: float, count: int
) -> list[tuple[object, ...]]:
    rows = []
    for n in range(count):
        key = hashlib.sha256(f"{ip}{status}{path}{n}{latency}".encode()).digest()
        ts = NOW - dt.timedelta(minutes=n)
        rows.append((key, ip, ts, "GET", path, "HTTP/1.1", status, 512, latency, "test"))
    return rows


async def _insert_logs(dsn: str, rows: list[tuple[object, ...]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            "INSERT INTO system_logs (line_key, ip, ts, method, path, protocol, status, bytes,"
            " latency_ms, source) VALUES ($1, $2::inet, $3, $4, $5, $6, $7, $8, $9, $10)",
            rows,
        )
    finally:
        await conn.close()


async def _insert_telemetry(dsn: str) -> None:
    rows = [
        (
            "WY-ALPHA-turbine-00001",
            "turbine",
            "WY-ALPHA",
            NOW - dt.timedelta(minutes=5),
            {"rpm": 10.0},
            "running",
        ),
        (
            "WY-ALPHA-turbine-00001",
            "turbine",
            "WY-ALPHA",
            NOW - dt.timedelta(minutes=1),
            {"rpm": 14.0},
            "running",
        ),
        (
            "WY-ALPHA-turbine-00002",
            "turbine",
            "WY-ALPHA",
            NOW - dt.timedelta(minutes=2),
            {"rpm": 16.0},
            "fault",
        ),
        (
            "TX-EAGLE-turbine-00003",
            "turbine",
            "TX-EAGLE",
            NOW - dt.timedelta(minutes=2),
            {"rpm": 99.0},
            "running",
        ),
        (
            "WY-ALPHA-turbine-00004",
            "turbine",
            "WY-ALPHA",
            NOW - dt.timedelta(hours=5),
            {"rpm": 1.0},
            "running",
        ),
    ]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            "INSERT INTO device_telemetry (device_id, device_type, site_id, timestamp_utc, metrics,"
            " state, status_code) VALUES ($1, $2, $3, $4, $5::jsonb, $6, 'OK')",
            [(d, t, s, ts, json.dumps(m), st) for d, t, s, ts, m, st in rows],
        )
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def seeded(database: str) -> str:
    rows = (
        _log_rows("10.0.0.9", 500, "/api/devices", 40.0, 6)
        + _log_rows("10.0.0.7", 404, "/api/missing", 5.0, 3)
        + _log_rows("10.0.0.1", 200, "/api/reports", 900.0, 4)
        + _log_rows("10.0.0.1", 200, "/api/health", 2.0, 10)
    )
    asyncio.run(_insert_logs(database, rows))
    asyncio.run(_insert_telemetry(database))
    return database


def test_log_question_is_answered_from_sql_aggregates(client: TestClient, seeded: str) -> None:
    response = client.post("/query", json={"question": LOG_QUESTION})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sources"] == ["logs"]
    assert body["answer_mode"] == "extractive"
    assert body["answer"].startswith("Extractive answer")
    logs = body["figures"]["logs"]
    assert [(r["ip"], r["errors"]) for r in logs["top_error_ips"]] == [
        ("10.0.0.9", 6),
        ("10.0.0.7", 3),
    ]
    assert logs["status_classes"] == {"2xx": 14, "4xx": 3, "5xx": 6}
    assert logs["slow_endpoints"][0]["path"] == "/api/reports"
    assert "10.0.0.9 (6 errors)" in body["answer"]
    assert {c["store"] for c in body["citations"]} == {"system_logs"}
    assert all(f"[{c['id']}]" in body["answer"] for c in body["citations"])


def test_identical_question_is_served_from_the_cache(client: TestClient, seeded: str) -> None:
    question = "Which endpoints are the slowest by latency?"
    first = client.post("/query", json={"question": question})
    # New rows would change the answer: an unchanged second answer must come from Redis.
    asyncio.run(_insert_logs(seeded, _log_rows("10.0.0.3", 200, "/api/new-slow", 5000.0, 3)))
    second = client.post(
        "/query", json={"question": "  which endpoints are the SLOWEST by latency? "}
    )
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.json()["cached"] is True
    assert second.json()["answer"] == first.json()["answer"]
    assert "/api/new-slow" not in second.json()["answer"]
    fresh = client.post("/query", json={"question": question, "top_k": 3})
    assert fresh.headers["x-cache"] == "miss"
    assert "/api/new-slow" in fresh.json()["answer"]
    metrics = client.get("/metrics").text
    assert 'tier0_rag_cache_total{result="hit"} 1.0' in metrics


def test_live_metrics_question_reads_latest_readings(client: TestClient, seeded: str) -> None:
    body = client.post(
        "/query", json={"question": "What are the latest turbine readings at WY-ALPHA?"}
    ).json()
    assert body["sources"] == ["devices"]
    devices = body["figures"]["devices"]
    # Device 1's latest reading (14) counts, not its older one; device 4 is outside the window.
    assert devices["devices"] == 2
    assert devices["states"] == {"fault": 1, "running": 1}
    assert devices["metric_means"] == {"rpm": 15.0}
    assert body["citations"][0]["store"] == "device_telemetry"
    assert body["citations"][0]["filters"] == {"site_id": "WY-ALPHA", "device_type": "turbine"}


def test_question_spanning_documents_and_logs_cites_both(client: TestClient, seeded: str) -> None:
    question = "What caused the AK-NORTH engine incident, and which IPs return errors?"
    body = client.post("/query", json={"question": question}).json()
    assert set(body["sources"]) == {"documents", "logs"}
    cited = {c["source"] for c in body["citations"]}
    assert cited == {"documents", "logs"}
    pages = [c for c in body["citations"] if c["source"] == "documents"]
    assert all(c["document"] and c["page"] and c["chunk_id"] for c in pages)
    assert any(c["document"].startswith("INC-2026-022") for c in pages)
