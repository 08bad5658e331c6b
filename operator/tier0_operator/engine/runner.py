"""Run a Plan's remaining steps in order, saving progress after each one."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from tier0_operator.engine.agent import NodeAgent, SourceServer
from tier0_operator.engine.lease import PrimaryLease
from tier0_operator.engine.plan import Plan
from tier0_operator.model import Credentials, Region, Tier0RegionSpec

log = structlog.get_logger(__name__)


class Router(Protocol):
    """Points clients at the primary (the tier0.io/role label and the -rw Service)."""

    async def route(self, *, primary: str, replicas: Sequence[str]) -> None: ...


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

    def region(self, name: str) -> Region:
        return self.spec.region(name)

    def source_server(self, name: str) -> SourceServer:
        """Region ``name``'s PostgreSQL, as another node dials it for rewind and streaming."""
        endpoint = self.region(name).postgres
        return SourceServer(endpoint.address(self.namespace), endpoint.port)


Step = Callable[[EngineContext, Plan], Awaitable[Plan]]
SaveProgress = Callable[[Plan], Awaitable[None]]


async def run_plan(
    ctx: EngineContext, plan: Plan, steps: dict[str, Step], save: SaveProgress
) -> Plan:
    """Run each remaining step; a step that cannot finish raises and the plan stays resumable."""
    for name in plan.remaining:
        ctx.leading()
        started = time.monotonic()
        log.info("failover step", step=name, epoch=plan.epoch, source=plan.source, to=plan.target)
        plan = await steps[name](ctx, plan)
        plan = plan.finished(name, time.monotonic() - started)
        await save(plan)
    return plan
