"""PostgreSQL steps of the chain: precheck, fence, catch-up, promote, validate.

Each takes the context and the plan and returns the plan (maybe with a recorded fact); each is
idempotent, so a resumed plan can run a half-done step again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import asyncpg
import structlog

from tier0_operator.conditions import FailoverReason
from tier0_operator.engine import pg
from tier0_operator.engine.agent import AgentError, NodeState
from tier0_operator.engine.plan import Plan
from tier0_operator.engine.runner import EngineContext
from tier0_operator.waiting import (
    CandidateTooFarBehind,
    PrimaryUnfenceable,
    WaitingOnCatchUp,
    WaitingOnReplica,
)

log = structlog.get_logger(__name__)


async def precheck(ctx: EngineContext, plan: Plan) -> Plan:
    """Step 1: the target is reachable, a replica (or already promoted) and close enough."""
    planned = plan.reason is FailoverReason.PLANNED
    # step 1a: a target that already left recovery was promoted by this plan before a restart.
    try:
        async with ctx.kept(plan.target) as conn:
            if not await pg.in_recovery(conn):
                return plan
            if planned and not await pg.receiving(conn):
                raise WaitingOnReplica(f"{plan.target} is not streaming")
            # Planned: catch-up waits for replay (the primary is fenced meanwhile), so replay lag
            # counts. Unplanned: promotion replays everything received first.
            position = await (pg.replay_position(conn) if planned else pg.wal_position(conn))
            # A standby ignores this setting; set now, the promote step finds it in effect.
            await pg.set_synchronous(conn, "")
    except pg.UNREACHABLE as exc:
        raise WaitingOnReplica(f"{plan.target} is unreachable: {exc}") from exc
    # step 1b: lag against the old primary (live, or last seen for an unplanned failover).
    reference = await _primary_position(ctx, plan)
    lag = max(0, reference - position)
    if lag > ctx.spec.failover.max_lag_bytes and not ctx.forced:
        raise CandidateTooFarBehind(
            f"{plan.target} is {lag} bytes behind (maxLagBytes "
            f"{ctx.spec.failover.max_lag_bytes}); annotate tier0.io/force-failover=true to force"
        )
    return plan


async def _primary_position(ctx: EngineContext, plan: Plan) -> int:
    """The old primary's WAL position: asked live when planned, else the last one recorded."""
    if plan.reason is not FailoverReason.PLANNED:
        return pg.parse_lsn(plan.final_lsn) if plan.final_lsn else 0
    try:
        async with _connect(ctx, plan.source) as conn:
            return await pg.wal_position(conn)
    except pg.UNREACHABLE:
        return 0


async def fence(ctx: EngineContext, plan: Plan) -> Plan:
    """Step 2: the old primary is stopped and the primary Lease is the target's.

    Stopped through its instance manager (a fast shutdown, which sends every WAL record to the
    standby first; nothing short of stopping keeps a client that opens ``BEGIN READ WRITE``
    from writing). A manager that cannot be reached fences itself when it cannot renew the
    Lease, so once the Lease has gone unrenewed for its duration the target may take it.
    """
    duration = float(ctx.spec.failover.lease_seconds)
    if plan.reason is FailoverReason.PLANNED:
        await _checkpoint(ctx, plan.source)
    # While the server stops: the role label comes off its pods (clients are refused by the
    # Service rather than by a server busy shutting down) and the Lease is read, so that once
    # it has stopped one write hands the Lease over.
    state, seen, _ = await asyncio.gather(
        _stop(ctx, plan.source), ctx.lease.current(), ctx.router.demote([plan.source])
    )
    if isinstance(state, AgentError):
        if not await ctx.lease.hand_over(plan.target, duration, fenced=False):
            # Still the primary as far as anyone can tell: clients go back to it meanwhile.
            others = [r.name for r in ctx.spec.others(plan.source)]
            await ctx.router.route(primary=plan.source, replicas=others)
            raise PrimaryUnfenceable(
                f"cannot stop {plan.source} and its Lease has not expired: {state}"
            ) from state
        log.warning("old primary unreachable; its Lease expired", region=plan.source)
        return plan
    handed = await ctx.lease.hand_over(plan.target, duration, fenced=True, seen=seen)
    if not handed:
        raise PrimaryUnfenceable(f"the primary Lease could not be handed to {plan.target}")
    checkpoint = state.get("checkpointLsn")
    log.info("fenced", region=plan.source, checkpoint=checkpoint)
    if plan.reason is FailoverReason.PLANNED and checkpoint:
        return dataclasses.replace(plan, final_lsn=str(checkpoint))
    return plan


async def _stop(ctx: EngineContext, region: str) -> NodeState | AgentError:
    """Its manager's answer to the fence, or why there was none."""
    try:
        return await ctx.agent.stop(region)
    except AgentError as exc:
        return exc


async def _checkpoint(ctx: EngineContext, region: str) -> None:
    """A checkpoint while the primary still takes writes, so that the shutdown checkpoint the
    fence waits for (writes stopped) has little left to flush (Patroni does the same)."""
    try:
        async with _connect(ctx, region) as conn:
            await conn.execute("CHECKPOINT")
    except (*pg.UNREACHABLE, asyncpg.PostgresError) as exc:
        log.info("no checkpoint before the fence", region=region, error=str(exc))


async def catch_up(ctx: EngineContext, plan: Plan) -> Plan:
    """Step 3: the target has replayed the fenced primary's shutdown checkpoint."""
    if plan.final_lsn is None:
        return plan  # its manager was unreachable: nothing to wait for
    checkpoint = pg.parse_lsn(plan.final_lsn)
    deadline = time.monotonic() + ctx.spec.failover.catch_up_timeout_seconds
    async with ctx.kept(plan.target) as conn:
        while True:
            # Replay positions are record ends: past the checkpoint record's start = replayed.
            standby, replayed = await pg.replay_state(conn)
            if not standby or replayed > checkpoint:
                return plan
            if time.monotonic() > deadline:
                raise WaitingOnCatchUp(f"{plan.target} has not replayed {plan.final_lsn} yet")
            await asyncio.sleep(0.005)


async def promote(ctx: EngineContext, plan: Plan) -> Plan:
    """Step 4: the target leaves recovery; synchronous commit waits for the rejoin.

    Its role label is sent once promotion has been asked for, so that it travels (API server,
    EndpointSlice, kube-proxy: tens of milliseconds) while the server finishes promoting. A
    client that arrives in between finds a read-only server and retries; nothing is writable
    twice, since the old primary is already stopped.
    """
    async with ctx.kept(plan.target) as conn:
        # With one replica (the old primary, not streaming yet) synchronous commit would block;
        # the precheck turned it off already, so this normally only confirms it.
        await pg.set_synchronous(conn, "")
        if await pg.in_recovery(conn):
            await pg.request_promotion(conn)
            promoted, _ = await asyncio.gather(
                pg.wait_promoted(conn), ctx.router.promote(plan.target)
            )
            if not promoted:
                await ctx.router.demote([plan.target])  # no read-only server behind -rw
                raise WaitingOnReplica(f"{plan.target} is still in recovery after pg_promote")
    return plan


async def validate(ctx: EngineContext, plan: Plan) -> Plan:
    """Step 7: a write through the read-write path (the -rw Service in a cluster) succeeds and
    is found on the target."""
    hosts, ports = ctx.spec.read_write_path(ctx.namespace)
    try:
        conn = await asyncpg.connect(
            host=hosts,
            port=ports,
            user=ctx.credentials.superuser,
            password=ctx.credentials.superuser_password,
            database="postgres",
            target_session_attrs="read-write",
            timeout=5,
        )
    except asyncpg.TargetServerAttributeNotMatched as exc:
        raise WaitingOnReplica(f"no region accepts writes yet: {exc}") from exc
    except pg.UNREACHABLE as exc:
        raise WaitingOnReplica(f"the read-write path {hosts} does not answer yet: {exc}") from exc
    try:
        await pg.record_check(conn, plan.epoch, plan.target)
    finally:
        await conn.close()
    # A primary does not receive WAL: the row is on the target only if the write went there.
    async with _connect(ctx, plan.target) as target:
        if not await pg.has_check(target, plan.epoch, plan.target):
            raise WaitingOnReplica(f"the read-write path did not reach {plan.target}")
    return plan


def _connect(ctx: EngineContext, region: str) -> pg.SuperuserConnection:
    timeout = float(ctx.spec.failover.probe_timeout_seconds)
    return pg.superuser(ctx.region(region).postgres, ctx.namespace, ctx.credentials, timeout)
