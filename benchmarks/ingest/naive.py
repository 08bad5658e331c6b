"""Baseline (b): what a first attempt looks like: parse, one INSERT (autocommit) per message.

Run by the benchmark as ``python -m benchmarks.ingest.naive CLIENT_ID TOPIC`` with
TIER0_MQTT_URL and TIER0_POSTGRES_DSN set, until SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from datetime import datetime

import aiomqtt
import asyncpg

from tier0.common.mqtt import MqttEndpoint

INSERT_SQL = (
    "INSERT INTO device_telemetry (device_id, device_type, site_id, timestamp_utc, metrics,"
    " state, status_code) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
)


async def consume(client_id: str, topic: str) -> None:
    endpoint = MqttEndpoint.from_url(os.environ["TIER0_MQTT_URL"])
    conn = await asyncpg.connect(os.environ["TIER0_POSTGRES_DSN"])
    async with aiomqtt.Client(
        endpoint.host,
        endpoint.port,
        username=endpoint.username,
        password=endpoint.password,
        identifier=client_id,
    ) as client:
        await client.subscribe(topic, qos=1)
        async for message in client.messages:
            data = json.loads(bytes(message.payload))  # type: ignore[arg-type]
            await conn.execute(
                INSERT_SQL,
                data["device_id"],
                data["device_type"],
                data["site_id"],
                datetime.fromisoformat(data["timestamp_utc"]),
                json.dumps(data["metrics"]),
                data["status"]["state"],
                data["status"]["code"],
            )


def main() -> None:
    async def run() -> None:
        task = asyncio.create_task(consume(sys.argv[1], sys.argv[2]))
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
