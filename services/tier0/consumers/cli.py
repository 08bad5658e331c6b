"""Long-running consumers that move messages into PostgreSQL (MQTT telemetry, RabbitMQ)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tier0.common.cli_options import OpsHost, OpsPort

if TYPE_CHECKING:
    from tier0.consumers.mqtt import ConsumerConfig

app = typer.Typer(no_args_is_help=True, help=__doc__)

DEFAULT_OPS_PORT = 9108
# paho's network thread is busy whenever messages stream in; with the default 5 ms GIL switch
# interval every await of the asyncio side (each COPY chunk, each reply) could wait that long
# for the GIL, stretching a 30 ms batch write to 200 ms. 0.5 ms keeps both threads moving.
GIL_SWITCH_INTERVAL_SECONDS = 0.0005


@app.command("mqtt")
def consume_mqtt(
    client_id: Annotated[
        str | None,
        typer.Option(
            envvar="TIER0_MQTT_CLIENT_ID",
            help="Stable MQTT client id naming the persistent session (default: hostname).",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=30000, help="Rows per COPY.")] = 2000,
    flush_seconds: Annotated[
        float, typer.Option(min=0.001, help="Max wait to fill a batch.")
    ] = 0.2,
    ops_port: OpsPort = DEFAULT_OPS_PORT,
    ops_host: OpsHost = "0.0.0.0",
) -> None:
    """Ingest telemetry from TIER0_MQTT_URL (shared subscription) into TIER0_POSTGRES_DSN."""
    from tier0.common.logging import configure_logging
    from tier0.common.settings import get_settings
    from tier0.consumers.mqtt import ConsumerConfig

    settings = get_settings()
    configure_logging(settings.log_level)
    if not settings.mqtt_url:
        raise typer.BadParameter("TIER0_MQTT_URL is not set")
    config = ConsumerConfig(
        client_id=client_id or f"tier0-mqtt-consumer-{os.uname().nodename}",
        batch_size=batch_size,
        flush_seconds=flush_seconds,
    )
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    asyncio.run(_run_mqtt(settings.postgres_dsn, settings.mqtt_url, config, ops_host, ops_port))


async def _run_mqtt(
    dsn: str, mqtt_url: str, config: ConsumerConfig, ops_host: str, ops_port: int
) -> None:
    from tier0.common.http import OpsServer
    from tier0.common.mqtt import MqttEndpoint
    from tier0.common.postgres import create_pool
    from tier0.consumers.mqtt import MqttConsumer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        consumer = MqttConsumer(endpoint=MqttEndpoint.from_url(mqtt_url), pool=pool, config=config)
        async with OpsServer(health=consumer.heartbeat.status, host=ops_host, port=ops_port):
            await consumer.run(stop)
    finally:
        await pool.close()
