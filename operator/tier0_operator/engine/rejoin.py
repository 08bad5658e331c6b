"""Step 8: the old primary becomes a streaming replica of the new one (pg_rewind, else clone)."""

from __future__ import annotations

import asyncio
import time

import structlog

from tier0_operator.engine import pg
from tier0_operator.engine.agent import AgentError
from tier0_operator.engine.plan import Plan
from tier0_operator.engine.runner import EngineContext
from tier0_operator.engine.sentinel import wait_redis_replica
from tier0_operator.engine.synchronous import ensure_synchronous
from tier0_operator.waiting import WaitingOnRejoin

log = structlog.get_logger(__name__)

STREAMING_POLL_SECONDS = 20.0


async def rejoin_old_primary(ctx: EngineContext, plan: Plan) -> Plan:
    """Turn the old primary into a standby of the new one; Sentinel sees its Redis as a replica.

    Both must hold before the next failover can run cleanly, so Ready waits for both.
    """
    async with asyncio.TaskGroup() as group:
        group.create_task(_rejoin_postgres(ctx, plan))
        group.create_task(wait_redis_replica(ctx, plan))
    # step 8c: a standby streams again, so commits can wait for it (spec.failover.synchronous).
    await ensure_synchronous(ctx, plan.target, standby_streams=True)
    return plan


async def _rejoin_postgres(ctx: EngineContext, plan: Plan) -> None:
    """The old primary streams from the new one (pg_rewind, else a fresh clone)."""
    # step 8a: nothing to do when it streams already (a resumed plan).
    if plan.source in await _streaming(ctx, plan.target):
        return
    # step 8b: a slot on the new primary keeps the WAL the old one will ask for; a checkpoint
    # writes its new timeline into pg_control, where pg_rewind looks for it.
    async with pg.superuser(ctx.region(plan.target).postgres, ctx.namespace, ctx.credentials) as c:
        await pg.ensure_slot(c, plan.source)
        await c.execute("CHECKPOINT")
    await ctx.agent.stop(plan.source)
    await _rewind_or_clone(ctx, plan)
    source = ctx.source_server(plan.target)
    await ctx.agent.follow(plan.source, source, slot=plan.source)
    await ctx.agent.start(plan.source)
    await _wait_streaming(ctx, plan)


async def _rewind_or_clone(ctx: EngineContext, plan: Plan) -> None:
    """pg_rewind is quick (only changed blocks); a fresh base backup always works."""
    source = ctx.source_server(plan.target)
    try:
        await ctx.agent.rewind(plan.source, source)
    except AgentError as exc:
        log.warning("pg_rewind failed, cloning instead", region=plan.source, error=str(exc))
        await ctx.agent.clone(plan.source, source)


async def _wait_streaming(ctx: EngineContext, plan: Plan) -> None:
    deadline = time.monotonic() + STREAMING_POLL_SECONDS
    while plan.source not in await _streaming(ctx, plan.target):
        if time.monotonic() > deadline:
            raise WaitingOnRejoin(f"{plan.source} does not stream from {plan.target} yet")
        await asyncio.sleep(0.2)


async def _streaming(ctx: EngineContext, primary: str) -> set[str]:
    async with pg.superuser(ctx.region(primary).postgres, ctx.namespace, ctx.credentials) as conn:
        return await pg.streaming_standbys(conn)
