"""The named steps in chain order, and the entry point that runs a plan to its end."""

from __future__ import annotations

from tier0_operator.engine import plan as names
from tier0_operator.engine.plan import Plan
from tier0_operator.engine.rejoin import rejoin_old_primary
from tier0_operator.engine.runner import EngineContext, SaveProgress, Step, run_plan
from tier0_operator.engine.sentinel import move_redis_master
from tier0_operator.engine.steps import catch_up, fence, precheck, promote, validate


async def route_clients(ctx: EngineContext, plan: Plan) -> Plan:
    """Step 6: the tier0.io/role=primary label (and so the -rw Service) moves to the target."""
    others = [r.name for r in ctx.spec.others(plan.target)]
    await ctx.router.route(primary=plan.target, replicas=others)
    return plan


STEPS: dict[str, Step] = {
    names.PRECHECK: precheck,
    names.FENCE: fence,
    names.CATCH_UP: catch_up,
    names.PROMOTE: promote,
    names.SENTINEL: move_redis_master,
    names.ROUTING: route_clients,
    names.VALIDATE: validate,
    names.REJOIN: rejoin_old_primary,
}


async def run_failover(ctx: EngineContext, plan: Plan, save: SaveProgress) -> Plan:
    """Run the plan's remaining steps (all of them for a new plan); fencing precedes promotion."""
    return await run_plan(ctx, plan, STEPS, save)
