"""Run a Plan's remaining steps in order, saving progress after each one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from tier0_operator.engine import pg
from tier0_operator.engine.agent import NodeAgent, SourceServer
from tier0_operator.engine.lease import PrimaryLease
from tier0_operator.engine.plan import Plan
from tier0_operator.model import Credentials, Region, Tier0RegionSpec

log = structlog.get_logger(__name__)


class Router(Protocol):
    """Points clients at the primary (the tier0.io/role label and the -rw Service)."""

    async def route(self, *, primary: str, replicas: Sequence[str]) -> None: ...

    async def demote(self, regions: Sequence[str]) -> None:
        """Takes the primary role off ``regions`` (a fenced primary) ahead of ``route``."""
        ...

    async def promote(self, region: str) -> None:
        """Gives ``region`` the primary role ahead of ``route``, while it promotes (after the
        fence's ``demote``; a router that cannot tell nothing else is labelled primary leaves
        it to ``route``)."""
        ...


@dataclass(frozen=True)
class EngineContext:
    """Everything a step needs; built fresh for every reconcile from spec, Secret and config."""

    namespace: str
    spec: Tier0RegionSpec
    credentials: Credentials
    agent: NodeAgent
    router: Router
    lease: PrimaryLease
    forced: bool = False
    # Raises when this operator replica stopped leading: asked before every step.
    leading: Callable[[], None] = lambda: None
    # The target's connection, kept for the plan run (closed when run_plan ends).
    connections: pg.Connections = field(default_factory=pg.Connections)

    def region(self, name: str) -> Region:
        return self.spec.region(name)

    def kept(self, region: str) -> pg.SuperuserConnection:
        """A superuser connection to ``region`` that stays open for the rest of the plan run."""
        endpoint = self.region(region).postgres
        timeout = float(self.spec.failover.probe_timeout_seconds)
        return self.connections.use(
            region, lambda: pg.connect(endpoint, self.namespace, self.credentials, timeout)
        )

    def source_server(self, name: str) -> SourceServer:
        """Region ``name``'s PostgreSQL, as another node dials it for rewind and streaming."""
        endpoint = self.region(name).postgres
        return SourceServer(endpoint.address(self.namespace), endpoint.port)


Step = Callable[[EngineContext, Plan], Awaitable[Plan]]
SaveProgress = Callable[[Plan], Awaitable[None]]


class _BackgroundSave:
    """Saves progress behind the steps: the next step starts while the status patch and Events
    of the last one are written (each save takes tens of milliseconds, and fence to routing is
    the clients' outage). Saves run one at a time, in order, the latest plan only; ``flush``
    waits for the last and raises what a save raised."""

    def __init__(self, save: SaveProgress) -> None:
        self._save = save
        self._pending: Plan | None = None
        self._task: asyncio.Task[None] | None = None

    def submit(self, plan: Plan) -> None:
        self._pending = plan
        if self._task is None or self._task.done():
            if self._task is not None:
                self._task.result()  # a failed save stops the plan at the next step
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending is not None:
            plan, self._pending = self._pending, None
            await self._save(plan)

    async def flush(self) -> None:
        if self._task is not None:
            await self._task


async def run_plan(
    ctx: EngineContext, plan: Plan, steps: dict[str, Step], save: SaveProgress
) -> Plan:
    """Run each remaining step; a step that cannot finish raises and the plan stays resumable
    (every step is idempotent, so one whose save had not landed simply runs again)."""
    saver = _BackgroundSave(save)
    try:
        for name in plan.remaining:
            ctx.leading()
            started = time.monotonic()
            log.info(
                "failover step", step=name, epoch=plan.epoch, source=plan.source, to=plan.target
            )
            plan = await steps[name](ctx, plan)
            plan = plan.finished(name, time.monotonic() - started)
            saver.submit(plan)
    finally:
        try:
            await saver.flush()
        finally:
            await ctx.connections.close()
    return plan
