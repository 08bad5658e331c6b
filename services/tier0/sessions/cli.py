"""``tier0 consume rabbitmq`` and ``tier0 simulate users`` (registered in tier0.cli)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from tier0.common.cli_options import OpsHost, OpsPort
from tier0.sessions.topology import QUEUE

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


def simulate_users(
    amqp_url: Annotated[str, typer.Option(envvar="TIER0_AMQP_URL", help="amqp://user:pw@host")],
    users: Annotated[int, typer.Option(min=1, help="Simulated users.")] = 1000,
    rate: Annotated[float, typer.Option(min=0, help="Events per second (0: unthrottled).")] = 100,
    events: Annotated[int, typer.Option(min=0, help="Stop after N events (0: never).")] = 0,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    queue: Annotated[str, typer.Option(help="Queue to publish to.")] = QUEUE,
) -> None:
    """Users log in, go active ⇄ idle and log out (NA/EU/APAC), with publisher confirms."""
    from tier0.common.logging import configure_logging
    from tier0_simulators.users import simulate_users as run_simulation

    configure_logging("INFO")

    async def run() -> None:
        stop = _stop_on_signals()
        population = await run_simulation(
            amqp_url=amqp_url, users=users, events=events, rate=rate, seed=seed, queue=queue,
            stop=stop,
        )  # fmt: skip
        counts = population.expected_counts()
        for (region, state), sessions in sorted(counts.items()):
            typer.echo(f"{region:5} {state:13} {sessions}")

    asyncio.run(run())
