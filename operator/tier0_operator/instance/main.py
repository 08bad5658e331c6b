"""``tier0 pg-instance``: PID 1 of a PostgreSQL container (or a local process in local mode)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import structlog
import uvicorn

from tier0_operator.instance.api import build_app
from tier0_operator.instance.config import InstanceConfig
from tier0_operator.instance.manager import InstanceManager
from tier0_operator.kube import load_api_client

log = structlog.get_logger(__name__)


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handling: the manager owns SIGTERM (as PID 1 it must, or the
    kernel ignores it) and stops PostgreSQL before it exits."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(config: InstanceConfig) -> None:
    """Run the manager and its HTTP API until SIGTERM/SIGINT; PostgreSQL stops with it."""
    manager = InstanceManager(config, load_api_client())
    server = _QuietServer(
        uvicorn.Config(
            build_app(manager, config.token),
            host="0.0.0.0" if config.listen == "*" else config.listen,
            port=config.http_port,
            log_level="warning",
            lifespan="off",
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(manager.run()), asyncio.create_task(server.serve())]
    log.info("instance manager up", region=config.region, http_port=config.http_port)
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await manager.pg.stop("fast")
    waiter.cancel()
