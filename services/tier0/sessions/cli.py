"""``tier0 consume rabbitmq`` (registered in tier0.cli)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from tier0.common.cli_options import OpsHost, OpsPort
from tier0.common.schemas.session_queue import QUEUE

DEFAULT_OPS_PORT = 9109


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def consume_rabbitmq(
    queue: Annotated[str, typer.Option(help="Queue to consume.")] = QUEUE,
    prefetch: Annotated[int, typer.Option(min=1, help="Unacknowledged messages in flight.")] = 200,
    batch_size: Annotated[int, typer.Option(min=1, help="Messages per transaction.")] = 100,
    ops_port: OpsPort = DEFAULT_OPS_PORT,
    ops_host: OpsHost = "0.0.0.0",
) -> None:
    """User activity from TIER0_AMQP_URL into user_sessions (TIER0_POSTGRES_DSN)."""
    from tier0.common.logging import configure_logging
    from tier0.common.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level)
    if not settings.amqp_url:
        raise typer.BadParameter("TIER0_AMQP_URL is not set")

    async def run() -> None:
        from tier0.common.http import OpsServer
        from tier0.common.postgres import create_pool
        from tier0.consumers.rabbitmq import SessionConsumer

        stop = _stop_on_signals()
        pool = await create_pool(settings.postgres_dsn, min_size=1, max_size=2)
        try:
            consumer = SessionConsumer(
                amqp_url=settings.amqp_url,
                pool=pool,
                queue=queue,
                prefetch=prefetch,
                batch_size=batch_size,
            )
            async with OpsServer(health=consumer.heartbeat.status, host=ops_host, port=ops_port):
                await consumer.run(stop)
        finally:
            await pool.close()

    asyncio.run(run())
