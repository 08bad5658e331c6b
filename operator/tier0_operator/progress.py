"""What status says while a plan runs and once it is done (through the one status writer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tier0_operator import metrics
from tier0_operator.conditions import ConditionType, FailoverReason, Phase, Reason
from tier0_operator.engine.plan import DONE, FENCE, PLANNED_CHAIN, PROMOTE, VALIDATE, Plan
from tier0_operator.status import Condition, StatusWriter


async def record_progress(writer: StatusWriter, plan: Plan) -> None:
    """Status during a plan: phase, conditions, the plan itself, and lastFailover once valid.

    Ready stays False until rejoin is done: Ready means the next failover can run at once.
    """
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
        Condition(ConditionType.READY, plan.step == DONE, Reason.WAITING, plan.step),
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
    # A re-applied manifest naming the old region again must not switch back (reconcile).
    lost = plan.source if plan.reason is FailoverReason.PRIMARY_LOST else None
    await writer.write(
        phase=Phase.READY,
        conditions=conditions,
        failover=None,
        lastFailover=summary,
        activeRegion=plan.target,
        failedOverFrom=lost,
    )


async def record_cancelled(writer: StatusWriter, plan: Plan, reason: Reason, why: str) -> None:
    """A planned switchover given up at precheck (nothing was fenced): back to Ready."""
    conditions = (
        Condition(ConditionType.FAILOVER_IN_PROGRESS, False, reason, why),
        Condition(ConditionType.READY, True, Reason.PRIMARY_WRITABLE, plan.source),
    )
    await writer.write(phase=Phase.READY, conditions=conditions, failover=None)
    await writer.api.event(writer.ref, reason.value, why, warning=True)
