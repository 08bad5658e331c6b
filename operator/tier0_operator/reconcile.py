"""One reconcile pass over a Tier0Region, level-triggered from ``status`` (so it resumes).

Order of decisions: finish a failover recorded in status (or cancel a planned one stuck at
precheck); adopt a new resource; start a planned switchover when spec.activeRegion differs from
status.activeRegion; else probe the primary and fail over when it has been unreachable for
unhealthyAfterSeconds. No kopf here: "not yet" states surface as ``waiting.NotYet`` and the
handlers turn them into kopf retries. Both timers take ``RegionMemory.lock``, so ``observe``
never writes between a plan's steps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from tier0_operator import metrics
from tier0_operator.conditions import ConditionType, FailoverReason, Phase, Reason
from tier0_operator.engine.chain import run_failover
from tier0_operator.engine.lease import KubePrimaryLease
from tier0_operator.engine.pg import format_lsn, parse_lsn
from tier0_operator.engine.plan import PRECHECK, Plan, parse_time
from tier0_operator.engine.runner import EngineContext
from tier0_operator.engine.synchronous import ensure_synchronous
from tier0_operator.kube import KubeApi, ObjectRef
from tier0_operator.model import FAILBACK_ANNOTATION, FORCE_ANNOTATION
from tier0_operator.probes import (
    choose_candidate,
    find_writable,
    observe_replication,
    probe_primary,
)
from tier0_operator.progress import record_cancelled, record_done, record_progress
from tier0_operator.status import Condition, StatusWriter
from tier0_operator.waiting import MoreThanOneWritable

log = structlog.get_logger(__name__)


@dataclass
class RegionMemory:
    """Per-resource memory of this process; losing it (a restart) only delays detection."""

    writer: StatusWriter
    lease: KubePrimaryLease
    unhealthy_since: float | None = None
    last_primary_lsn: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    annotations: dict[str, str] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)


def in_progress(status: Mapping[str, Any]) -> Plan | None:
    raw = status.get("failover")
    return Plan.from_status(raw) if raw else None


async def reconcile(
    ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory, generation: int
) -> None:
    async with memory.lock:
        await _reconcile(ctx, api, ref, memory, generation)


async def _reconcile(
    ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory, generation: int
) -> None:
    status = memory.writer.current
    # step 1: a switchover/failover recorded in status is finished (or cancelled) first.
    plan = in_progress(status)
    if plan is not None:
        if not await cancelled(ctx, api, ref, memory, plan):
            await drive(ctx, api, ref, memory, plan, new=False)
        return
    # step 2: a new resource: find which region is the primary now.
    active = status.get("activeRegion")
    if active is None:
        await adopt(ctx, memory, generation)
        return
    # step 3: spec.activeRegion moved: a planned switchover (unless it is a re-applied manifest
    # naming the region an automatic failover left).
    wanted = ctx.spec.active_region
    if wanted != active and not await reapplied(ctx, api, ref, memory, wanted):
        epoch = int(status.get("epoch", 0)) + 1
        plan = Plan(epoch, active, wanted, FailoverReason.PLANNED)
        await drive(ctx, api, ref, memory, plan, new=True)
        return
    # step 4: watch the primary; the spec as it stands is handled.
    await watch_primary(ctx, api, ref, memory, active)
    if memory.unhealthy_since is None:
        await memory.writer.write(observedGeneration=generation)


async def cancelled(
    ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory, plan: Plan
) -> bool:
    """A planned switchover still at precheck is given up when the spec names another region
    (edited) or after switchoverTimeoutSeconds (its target stays down): nothing was fenced."""
    if plan.reason is not FailoverReason.PLANNED or plan.step != PRECHECK:
        return False
    if ctx.spec.active_region != plan.target:
        why = f"spec.activeRegion is now {ctx.spec.active_region}, not {plan.target}"
        await record_cancelled(memory.writer, plan, Reason.SWITCHOVER_CANCELLED, why)
        return True
    waited = time.time() - parse_time(plan.started_at).timestamp()
    if waited < ctx.spec.failover.switchover_timeout_seconds:
        return False
    why = f"{plan.target} not ready for a switchover after {waited:.0f} s; staying on {plan.source}"
    await api.patch_spec(ref, {"activeRegion": plan.source})
    await record_cancelled(memory.writer, plan, Reason.SWITCHOVER_TIMED_OUT, why)
    return True


async def reapplied(
    ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory, wanted: str
) -> bool:
    """spec.activeRegion names the region an automatic failover moved away from: a re-applied
    manifest (kubectl apply, helm upgrade), ignored unless annotated tier0.io/failback=true
    (which applies once)."""
    if memory.writer.current.get("failedOverFrom") != wanted:
        return False
    if memory.annotations.get(FAILBACK_ANNOTATION) == "true":
        await api.remove_annotation(ref, FAILBACK_ANNOTATION)
        await memory.writer.write(failedOverFrom=None)
        return False
    if wanted not in memory.warned:
        memory.warned.add(wanted)
        await api.event(
            ref, "ActiveRegionNotReverted",
            f"spec.activeRegion={wanted} is where an automatic failover moved away from; "
            f"ignored (annotate {FAILBACK_ANNOTATION}=true to switch back)", warning=True,
        )  # fmt: skip
    return True


async def adopt(ctx: EngineContext, memory: RegionMemory, generation: int) -> None:
    """Record the one writable region (every other must answer as a replica) and give it the
    primary Lease; synchronous replication as the spec asks, from the start."""
    writable = await find_writable(ctx)
    if not await memory.lease.hand_over(writable, ctx.spec.failover.lease_seconds, fenced=False):
        raise MoreThanOneWritable(f"the primary Lease is held by a region other than {writable}")
    seen = await observe_replication(ctx, writable)
    if seen is not None:
        await ensure_synchronous(ctx, writable, seen.standby_streams)
    await memory.writer.write(
        phase=Phase.READY, activeRegion=writable, epoch=0, observedGeneration=generation
    )


async def drive(
    ctx: EngineContext,
    api: KubeApi,
    ref: ObjectRef,
    memory: RegionMemory,
    plan: Plan,
    *,
    new: bool,
) -> None:
    """Run ``plan`` to its end, recording progress after every step.

    A ``new`` plan is recorded before its first step; a resumed one is in status already (not
    rewriting it keeps a failed step's Ready=False/StepFailed from flapping on every retry).
    """
    if plan.reason is FailoverReason.PRIMARY_LOST and ctx.spec.active_region != plan.target:
        # The desired region follows the failover, or a later pass would switch back.
        await api.patch_spec(ref, {"activeRegion": plan.target})

    async def save(progress: Plan) -> None:
        await record_progress(memory.writer, progress)

    if new:
        await save(plan)
    done = await run_failover(ctx, plan, save)
    if ctx.forced:
        # The force annotation lets one failover past the lag guard, not every later one.
        await api.remove_annotation(ref, FORCE_ANNOTATION)
    await record_done(memory.writer, done)
    memory.unhealthy_since = None


async def watch_primary(
    ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory, active: str
) -> None:
    """Probe the primary; after unhealthyAfterSeconds of failures, fail over (if automatic)."""
    lsn, _ = await asyncio.gather(probe_primary(ctx, active), _observe_lease(memory))
    # Exported at 0 from the first probe on, so a failure rate reads 0 rather than no data.
    failures = metrics.PROBE_FAILURES.labels(ref.name)
    if lsn is not None:
        memory.unhealthy_since, memory.last_primary_lsn = None, lsn
        return
    failures.inc()
    now = time.monotonic()
    memory.unhealthy_since = memory.unhealthy_since or now
    if now - memory.unhealthy_since < ctx.spec.failover.unhealthy_after_seconds:
        return
    unreachable = Condition(ConditionType.READY, False, Reason.PRIMARY_UNREACHABLE, active)
    await memory.writer.write(phase=Phase.DEGRADED, conditions=(unreachable,))
    if not ctx.spec.failover.automatic:
        return
    await fail_over(ctx, api, ref, memory, active)


async def _observe_lease(memory: RegionMemory) -> None:
    """Every probe looks at the primary Lease, so its expiry is judged from the first miss."""
    try:
        await memory.lease.observe()
    except Exception as exc:  # the probe must not fail because the API server hiccupped
        log.info("primary Lease unreadable", error=str(exc)[:200])


async def fail_over(
    ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory, lost: str
) -> None:
    """Start an unplanned failover to the most advanced replica."""
    candidate, _ = await choose_candidate(ctx, lost)
    seen = max(memory.last_primary_lsn, _status_lsn(memory.writer.current))
    epoch = int(memory.writer.current.get("epoch", 0)) + 1
    plan = Plan(epoch, lost, candidate, FailoverReason.PRIMARY_LOST, final_lsn=format_lsn(seen))
    log.warning("primary lost, failing over", lost=lost, candidate=candidate, epoch=epoch)
    await drive(ctx, api, ref, memory, plan, new=True)


def _status_lsn(status: Mapping[str, Any]) -> int:
    text = status.get("primaryLsn")
    return parse_lsn(text) if text else 0


async def _route_to(ctx: EngineContext, active: str) -> None:
    await ctx.router.route(primary=active, replicas=[r.name for r in ctx.spec.others(active)])


async def label_recreated_pod(ctx: EngineContext, memory: RegionMemory, region: str) -> None:
    """A PostgreSQL pod of ``region`` appeared without its role label (the StatefulSet
    recreated it): label it at once, unless a plan is moving the labels. The -rw Service
    selects nothing until the primary's pod has the label, so waiting for the next
    observation would add up to its interval to the outage."""
    if region not in [r.name for r in ctx.spec.regions]:
        return
    async with memory.lock:
        status = memory.writer.current
        active = status.get("activeRegion")
        if active is not None and in_progress(status) is None:
            await _route_to(ctx, str(active))


async def observe(ctx: EngineContext, ref: ObjectRef, memory: RegionMemory) -> None:
    """Lag, synchronous replication, role labels, Replicating and Ready while no failover runs
    (the primary probe handles outages)."""
    async with memory.lock:
        status = memory.writer.current
        active = status.get("activeRegion")
        if active is None or in_progress(status) is not None:
            return
        seen = await observe_replication(ctx, active)
        if seen is None:
            return
        metrics.REPLICATION_LAG.labels(ref.name).set(seen.lag_bytes)
        memory.last_primary_lsn = max(memory.last_primary_lsn, seen.primary_lsn)
        # A recreated pod comes without the role label: -rw would select nothing.
        await _route_to(ctx, active)
        # Before Replicating=True is written: Ready then implies the spec's synchronous setting.
        await ensure_synchronous(ctx, active, seen.standby_streams)
        reason = Reason.STREAMING if seen.streaming else Reason.NOT_STREAMING
        conditions = (
            Condition(ConditionType.READY, True, Reason.PRIMARY_WRITABLE, active),
            Condition(ConditionType.REPLICATING, seen.streaming, reason),
        )
        await memory.writer.write(
            phase=Phase.READY if seen.streaming else Phase.DEGRADED,
            conditions=conditions,
            replicationLagBytes=seen.lag_bytes,
            primaryLsn=format_lsn(seen.primary_lsn),
        )
