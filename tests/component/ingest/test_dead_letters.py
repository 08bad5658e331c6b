"""Malformed telemetry of every kind is dead-lettered with its reason; the consumer carries on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from component.ingest.helpers import Consumers, count, wait_for_rows
from tier0.common.schemas.telemetry import MAX_PAYLOAD_BYTES, topic_for
from tier0_simulators.publisher import WindowedPublisher

pytestmark = pytest.mark.component

TOPIC = topic_for("WY-ALPHA", "turbine", "TURB-00001")


def reading(**changes: object) -> dict[str, object]:
    message: dict[str, object] = {
        "device_id": "TURB-00001",
        "device_type": "turbine",
        "site_id": "WY-ALPHA",
        "timestamp_utc": datetime.now(UTC).isoformat(),
        "metrics": {"rpm": 3500, "inlet_temp_c": 410.5},
        "status": {"state": "OK", "code": "TURB-OK"},
    }
    message.update(changes)
    return {k: v for k, v in message.items() if v is not None}


def encoded(**changes: object) -> bytes:
    return json.dumps(reading(**changes)).encode()


FUTURE = (datetime.now(UTC) + timedelta(days=1)).isoformat()
# (case, topic, payload, expected reason prefix)
MALFORMED: list[tuple[str, str, bytes, str]] = [
    ("truncated JSON", TOPIC, encoded()[:40], "invalid_json"),
    ("not JSON", TOPIC, b"\xff\xfe binary", "invalid_json"),
    ("JSON array", TOPIC, b"[1, 2, 3]", "schema"),
    ("missing field", TOPIC, encoded(metrics=None), "schema"),
    ("metric as string", TOPIC, encoded(metrics={"rpm": "fast"}), "schema"),
    ("metric as bool", TOPIC, encoded(metrics={"rpm": True}), "schema"),
    ("unknown state", TOPIC, encoded(status={"state": "MELTED", "code": "X"}), "schema"),
    ("extra field", TOPIC, encoded(firmware="1.2"), "schema"),
    ("naive timestamp", TOPIC, encoded(timestamp_utc="2025-01-01T00:00:00"), "schema"),
    (
        "unknown device type",
        topic_for("WY-ALPHA", "windmill", "TURB-00001"),
        encoded(device_type="windmill"),
        "unknown_device_type",
    ),
    ("future timestamp", TOPIC, encoded(timestamp_utc=FUTURE), "future_timestamp"),
    ("topic mismatch", topic_for("TX-EAGLE", "turbine", "TURB-00001"), encoded(), "topic_mismatch"),
    ("oversized", TOPIC, b" " * (MAX_PAYLOAD_BYTES + 1), "oversized"),
]


async def test_malformed_messages_are_dead_lettered_and_valid_ones_still_land(
    consumers: Consumers, publisher: WindowedPublisher, pool: asyncpg.Pool
) -> None:
    consumer = await consumers.start(batch_size=5)
    valid = 0
    for index, (_case, topic, payload, _reason) in enumerate(MALFORMED):
        publisher.publish(topic, payload)
        stamp = (datetime.now(UTC) - timedelta(seconds=index)).isoformat()
        publisher.publish(TOPIC, encoded(timestamp_utc=stamp))
        valid += 1
    publisher.wait_acked(10)

    await wait_for_rows(pool, len(MALFORMED) + valid)
    assert await count(pool, "device_telemetry") == valid
    rows = await pool.fetch("SELECT raw, reason, topic, source FROM dead_letters")
    by_raw = {bytes(r["raw"]): r for r in rows}
    for case, topic, payload, reason in MALFORMED:
        row = by_raw[payload]
        assert row["reason"].startswith(f"{reason}: "), (case, row["reason"])
        assert row["topic"] == topic
        assert row["source"] == "mqtt"
    assert consumer.stats.rejected == len(MALFORMED)
    assert consumer.heartbeat.status().healthy
