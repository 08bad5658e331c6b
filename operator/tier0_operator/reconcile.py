"""One reconcile pass over a Tier0Region, level-triggered from ``status`` (so it resumes).

Order of decisions: finish a failover recorded in status; adopt a new resource; start a planned
switchover when spec.activeRegion differs from status.activeRegion; else probe the primary and
fail over when it has been unreachable for unhealthyAfterSeconds. No kopf here: "not yet" states
surface as ``waiting.NotYet`` and the handlers turn them into kopf retries.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from tier0_operator import metrics
from tier0_operator.conditions import ConditionType, FailoverReason, Phase, Reason
from tier0_operator.engine.chain import run_failover
from tier0_operator.engine.pg import format_lsn, parse_lsn
from tier0_operator.engine.plan import FENCE, PLANNED_CHAIN, PROMOTE, VALIDATE, Plan
from tier0_operator.engine.runner import EngineContext
from tier0_operator.engine.synchronous import ensure_synchronous
from tier0_operator.kube import KubeApi, ObjectRef
from tier0_operator.probes import (
    choose_candidate,
    find_writable,
    observe_replication,
    probe_primary,
)
from tier0_operator.status import Condition, StatusWriter
from tier0_operator.waiting import WaitingOnReplica

log = structlog.get_logger(__name__)


@dataclass
class RegionMemory:
    """Per-resource memory of this process; losing it (a restart) only delays detection."""

    writer: StatusWriter
    unhealthy_since: float | None = None
    last_primary_lsn: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def in_progress(status: Mapping[str, Any]) -> Plan | None:
    raw = status.get("failover")
    return Plan.from_status(raw) if raw else None


async def reconcile(
    ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory, generation: int
) -> None:
    status = memory.writer.current
    # step 1: a switchover/failover recorded in status is finished before anything else.
    plan = in_progress(status)
    if plan is not None:
        await drive(ctx, api, ref, memory, plan, new=False)
        return
    # step 2: a new resource: find which region is the primary now.
    active = status.get("activeRegion")
    if active is None:
        await adopt(ctx, memory)
        return
    # step 3: spec.activeRegion moved: a planned switchover.
    if ctx.spec.active_region != active:
        epoch = int(status.get("epoch", 0)) + 1
        plan = Plan(epoch, active, ctx.spec.active_region, FailoverReason.PLANNED)
        await drive(ctx, api, ref, memory, plan, new=True)
        return
    # step 4: watch the primary; the spec as it stands is handled.
    await watch_primary(ctx, api, ref, memory, active)
    if memory.unhealthy_since is None:
        await memory.writer.write(observedGeneration=generation)


async def adopt(ctx: EngineContext, memory: RegionMemory) -> None:
    """Record the writable region; synchronous replication as the spec asks, from the start."""
    writable = await find_writable(ctx)
    if writable is None:
        raise WaitingOnReplica("no region's PostgreSQL accepts writes yet")
    seen = await observe_replication(ctx, writable)
    if seen is not None:
        await ensure_synchronous(ctx, writable, seen.standby_streams)
    await memory.writer.write(phase=Phase.READY, activeRegion=writable, epoch=0)


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
    await record_done(memory.writer, done)
    memory.unhealthy_since = None


async def record_progress(writer: StatusWriter, plan: Plan) -> None:
    """Status during a plan: phase, conditions, the plan itself, and lastFailover once valid."""
    planned = plan.reason is FailoverReason.PLANNED
    fields: dict[str, Any] = {
        "failover": plan.to_status(),
        "epoch": plan.epoch,
        "activeRegion": plan.target if plan.passed(PROMOTE) else plan.source,
    }
    if plan.passed(VALIDATE):
        fields["lastFailover"] = last_failover(writer.current.get("lastFailover"), plan)
    conditions = [
        Condition(
            ConditionType.FAILOVER_IN_PROGRESS,
            True,
            Reason.SWITCHOVER if planned else Reason.FAILOVER,
            f"{plan.source} -> {plan.target}, next step {plan.step}",
        ),
        Condition(ConditionType.READY, plan.passed(VALIDATE), Reason.WAITING, plan.step),
    ]
    if plan.passed(FENCE):
        conditions.append(Condition(ConditionType.FENCED, True, Reason.FENCED, plan.source))
    phase = Phase.SWITCHING_OVER if planned else Phase.FAILING_OVER
    await writer.write(phase=phase, conditions=tuple(conditions), **fields)


def last_failover(previous: Mapping[str, Any] | None, plan: Plan) -> dict[str, Any]:
    """lastFailover for ``plan``; totalSeconds is fixed when validate first passes."""
    same = previous is not None and previous.get("startedAt") == plan.started_at
    total = previous["totalSeconds"] if same and previous else round(plan.seconds_since_start(), 3)
    return {
        "from": plan.source,
        "to": plan.target,
        "reason": plan.reason.value,
        "startedAt": plan.started_at,
        "totalSeconds": total,
        # Every step name, None for those this chain skips: a merge patch then drops the
        # previous failover's values instead of merging them in.
        "steps": {name: plan.steps.get(name) for name in PLANNED_CHAIN},
    }


async def record_done(writer: StatusWriter, plan: Plan) -> None:
    summary = last_failover(writer.current.get("lastFailover"), plan)
    metrics.FAILOVERS.labels(plan.reason.value).inc()
    metrics.FAILOVER_SECONDS.labels(plan.reason.value).observe(summary["totalSeconds"])
    conditions = (
        Condition(ConditionType.FAILOVER_IN_PROGRESS, False, Reason.IDLE),
        Condition(ConditionType.FENCED, False, Reason.NOT_FENCED),
        Condition(ConditionType.READY, True, Reason.PRIMARY_WRITABLE, plan.target),
        Condition(ConditionType.REPLICATING, True, Reason.STREAMING, f"{plan.source} rejoined"),
    )
    await writer.write(
        phase=Phase.READY,
        conditions=conditions,
        failover=None,
        lastFailover=summary,
        activeRegion=plan.target,
    )


async def watch_primary(
    ctx: EngineContext, api: KubeApi, ref: ObjectRef, memory: RegionMemory, active: str
) -> None:
    """Probe the primary; after unhealthyAfterSeconds of failures, fail over (if automatic)."""
    lsn = await probe_primary(ctx, active)
    if lsn is not None:
        memory.unhealthy_since, memory.last_primary_lsn = None, lsn
        return
    metrics.PROBE_FAILURES.labels(ref.name).inc()
    now = time.monotonic()
    memory.unhealthy_since = memory.unhealthy_since or now
    if now - memory.unhealthy_since < ctx.spec.failover.unhealthy_after_seconds:
        return
    unreachable = Condition(ConditionType.READY, False, Reason.PRIMARY_UNREACHABLE, active)
    await memory.writer.write(phase=Phase.DEGRADED, conditions=(unreachable,))
    if not ctx.spec.failover.automatic:
        return
    await fail_over(ctx, api, ref, memory, active)


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


async def observe(ctx: EngineContext, ref: ObjectRef, memory: RegionMemory) -> None:
    """Lag, synchronous replication, Replicating and Ready while no failover runs (the primary
    probe handles outages)."""
    status = memory.writer.current
    active = status.get("activeRegion")
    if active is None or in_progress(status) is not None:
        return
    seen = await observe_replication(ctx, active)
    if seen is None:
        return
    metrics.REPLICATION_LAG.labels(ref.name).set(seen.lag_bytes)
    memory.last_primary_lsn = max(memory.last_primary_lsn, seen.primary_lsn)
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
