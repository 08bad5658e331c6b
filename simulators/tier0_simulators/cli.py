"""Simulators that load Tier-0 like the field does: devices (MQTT), users (RabbitMQ), logs.

Like the real producers they stand in for, they know only the message contracts in
``tier0.common``; ``tier0.cli`` mounts this app as ``tier0 simulate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from tier0.common.schemas.session_queue import QUEUE

if TYPE_CHECKING:
    from tier0_simulators.publisher import WindowedPublisher

app = typer.Typer(no_args_is_help=True, help=__doc__)
console = Console()


class RateView:
    """A small table of publish counters and the acknowledged rate since the last render."""

    def __init__(self, publisher: WindowedPublisher) -> None:
        self._publisher = publisher
        self._started = self._last_time = time.monotonic()
        self._last_acked = 0
        self._rate = 0.0

    def render(self) -> Table:
        now, acked = time.monotonic(), self._publisher.acked
        if now - self._last_time >= 0.5:
            self._rate = (acked - self._last_acked) / (now - self._last_time)
            self._last_time, self._last_acked = now, acked
        table = Table(title="device simulator (QoS 1)")
        for column in ("published", "acked", "in flight", "msg/s now", "msg/s average"):
            table.add_column(column, justify="right")
        average = acked / max(now - self._started, 1e-9)
        table.add_row(
            f"{self._publisher.published:,}",
            f"{acked:,}",
            f"{self._publisher.in_flight:,}",
            f"{self._rate:,.0f}",
            f"{average:,.0f}",
        )
        return table


@app.command()
def devices(
    mqtt_url: Annotated[
        str, typer.Option(envvar="TIER0_MQTT_URL", help="mqtt://user:pw@host:port")
    ],
    devices_per_cycle: Annotated[int, typer.Option(min=1, help="Devices per cycle.")] = 1000,
    interval: Annotated[float, typer.Option(min=0, help="Seconds between cycle starts.")] = 5.0,
    cycles: Annotated[int, typer.Option(min=0, help="Stop after N cycles (0: never).")] = 0,
    duration: Annotated[float, typer.Option(min=0, help="Stop after N seconds (0: never).")] = 0.0,
    window: Annotated[int, typer.Option(min=1, help="Max unacknowledged messages.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed of the fleet.")] = 0,
    client_id: Annotated[str | None, typer.Option(help="MQTT client id.")] = None,
    seed_registry: Annotated[
        bool, typer.Option(help="First seed sites and device_registry (TIER0_POSTGRES_DSN).")
    ] = False,
    live: Annotated[bool, typer.Option(help="Show the live publish rate.")] = True,
    json_summary: Annotated[
        bool, typer.Option(help="End with one JSON line of totals (for scripts).")
    ] = False,
) -> None:
    """Simulate 100,000 field devices publishing QoS 1 telemetry to og/field/{site}/{type}/{id}."""
    from tier0.common.logging import configure_logging
    from tier0.common.mqtt import MqttEndpoint
    from tier0_simulators.devices import SimulationConfig, run_simulation
    from tier0_simulators.fleet import Fleet
    from tier0_simulators.publisher import WindowedPublisher

    configure_logging(os.environ.get("TIER0_LOG_LEVEL", "WARNING"))
    if seed_registry:
        console.print(f"device registry: {asyncio.run(_seed_registry())} new devices")
    fleet = Fleet(seed=seed)
    identifier = client_id or f"tier0-device-simulator-{os.uname().nodename}"
    publisher = WindowedPublisher(MqttEndpoint.from_url(mqtt_url), identifier, window=window)
    publisher.connect()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    view = RateView(publisher)
    display = Live(get_renderable=view.render, console=console, refresh_per_second=2)
    started = time.time()
    try:
        with display if live else contextlib.nullcontext():
            config = SimulationConfig(devices_per_cycle, interval, cycles, duration)
            run_simulation(fleet, publisher, config, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        publisher.close()
    if json_summary:
        typer.echo(json.dumps(_summary(publisher, started)))
    else:
        console.print(view.render())


def _summary(publisher: WindowedPublisher, started: float) -> dict[str, float]:
    return {
        "published": publisher.published,
        "acked": publisher.acked,
        "refused": publisher.refused,
        "unrouted_retries": publisher.unrouted_retries,
        "started_at": started,
        "finished_at": time.time(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def _seed_registry() -> int:
    import asyncpg

    from tier0.common.settings import get_settings
    from tier0_simulators.registry import seed_registry

    conn = await asyncpg.connect(get_settings().postgres_dsn)
    try:
        return await seed_registry(conn)
    finally:
        await conn.close()


@app.command("users")
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
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        population = await run_simulation(
            amqp_url=amqp_url, users=users, events=events, rate=rate, seed=seed,
            queue=queue, stop=stop,
        )  # fmt: skip
        counts = population.expected_counts()
        for (region, state), sessions in sorted(counts.items()):
            typer.echo(f"{region:5} {state:13} {sessions}")

    asyncio.run(run())


@app.command("logs")
def simulate_logs(
    lines: Annotated[int, typer.Option(min=1, help="Lines to write.")] = 10_000,
    output: Annotated[
        Path | None, typer.Option(help="File to write (gzip if it ends in .gz); default stdout.")
    ] = None,
    rps: Annotated[float, typer.Option(min=0.01, help="Mean requests per second.")] = 50.0,
    broken: Annotated[float, typer.Option(min=0, max=1, help="Share of torn lines.")] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
) -> None:
    """Write realistic access-log traffic (combined format + latency) with error bursts."""
    from tier0_simulators.logs import write_log

    write_log(lines=lines, output=output, seed=seed, rps=rps, broken=broken, out=sys.stdout)
