"""Step 5: Redis follows PostgreSQL: Sentinel must report the target region's Redis as master."""

from __future__ import annotations

import asyncio
import time

import redis.exceptions
import structlog
from redis.asyncio import Redis

from tier0_operator.engine.plan import Plan
from tier0_operator.engine.runner import EngineContext
from tier0_operator.waiting import WaitingOnSentinel

log = structlog.get_logger(__name__)

# Sentinel confirms a promotion through INFO polls (about once a second): allow a few.
SENTINEL_POLL_SECONDS = 8.0
# Answers to SENTINEL FAILOVER that mean "one is already under way": wait for it.
IN_PROGRESS = ("INPROG", "in progress")


async def move_redis_master(ctx: EngineContext, plan: Plan) -> Plan:
    """Ask for a Sentinel failover unless the target is master already, then verify it."""
    target = ctx.region(plan.target).redis
    wanted = (target.address(ctx.namespace), target.port)
    addresses = ctx.spec.sentinel.addresses(ctx.namespace)
    # step 5a: already there (a resumed plan, or Sentinel failed over on its own).
    if await _all_report(addresses, ctx.spec.sentinel.master_name, wanted):
        return plan
    # step 5b: one Sentinel leads the failover; with one replica per master it picks the target.
    await _request_failover(addresses[0], ctx.spec.sentinel.master_name)
    deadline = time.monotonic() + SENTINEL_POLL_SECONDS
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        if await _all_report(addresses, ctx.spec.sentinel.master_name, wanted):
            return plan
    raise WaitingOnSentinel(f"Sentinels do not report {wanted[0]}:{wanted[1]} as master yet")


async def _request_failover(address: tuple[str, int], master: str) -> None:
    async with Redis(host=address[0], port=address[1], socket_timeout=2.0) as client:
        try:
            await client.execute_command("SENTINEL", "FAILOVER", master)  # type: ignore[no-untyped-call]
        except redis.exceptions.ResponseError as exc:
            if not any(marker in str(exc) for marker in IN_PROGRESS):
                raise WaitingOnSentinel(f"SENTINEL FAILOVER refused: {exc}") from exc


async def _all_report(
    addresses: list[tuple[str, int]], master: str, wanted: tuple[str, int]
) -> bool:
    reports = await asyncio.gather(*(_master_of(a, master) for a in addresses))
    return all(report == wanted for report in reports)


async def _master_of(address: tuple[str, int], master: str) -> tuple[str, int] | None:
    """What one Sentinel reports as the master (None when it cannot be asked)."""
    try:
        async with Redis(host=address[0], port=address[1], socket_timeout=1.0) as client:
            reply = await client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", master)  # type: ignore[no-untyped-call]
    except (OSError, redis.exceptions.RedisError):
        return None
    if not reply:
        return None
    host, port = (part.decode() if isinstance(part, bytes) else str(part) for part in reply)
    return host, int(port)
