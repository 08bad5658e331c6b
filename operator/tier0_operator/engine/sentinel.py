"""Step 5: Redis follows PostgreSQL: Sentinel must report the target region's Redis as master."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import redis.exceptions
import structlog
from redis.asyncio import Redis

from tier0_operator.engine.plan import Plan
from tier0_operator.engine.runner import EngineContext
from tier0_operator.waiting import WaitingOnRejoin, WaitingOnSentinel

log = structlog.get_logger(__name__)

# Sentinel confirms a promotion through INFO polls (about once a second): allow a few.
SENTINEL_POLL_SECONDS = 8.0
# How often every Sentinel is asked during the step (answers are local and cheap).
POLL_INTERVAL_SECONDS = 0.05
# A failover Sentinel aborted or refused (e.g. no good replica yet) is asked for again after this.
REQUEST_INTERVAL_SECONDS = 1.0
# Sentinel asks a replica for INFO every 10 s: rejoin waits up to two rounds for its view.
REPLICA_POLL_SECONDS = 25.0
REPLICA_POLL_INTERVAL_SECONDS = 0.2
# Answers to SENTINEL FAILOVER that mean "one is already under way": wait for it.
IN_PROGRESS = ("INPROG", "in progress")
REDIS_ERRORS = (OSError, redis.exceptions.RedisError)

Address = tuple[str, int]


async def move_redis_master(ctx: EngineContext, plan: Plan) -> Plan:
    """Make every Sentinel report the target's Redis as master, then demote the old master."""
    target = ctx.region(plan.target).redis
    wanted = (target.address(ctx.namespace), target.port)
    master = ctx.spec.sentinel.master_name
    async with _clients(ctx.spec.sentinel.addresses(ctx.namespace)) as sentinels:
        # step 5a: already there (a resumed plan, or Sentinel failed over on its own) ends at once.
        # step 5b: otherwise one Sentinel leads a failover; with one replica it picks the target.
        await _until_all_report(sentinels, master, wanted)
    # step 5c: Sentinel leaves a reachable old master writable for ~10 s before converting it;
    # a failover started in that window aborts (no good replica), so convert it now.
    await _demote_old_master(ctx, plan.source, wanted)
    return plan


@contextlib.asynccontextmanager
async def _clients(addresses: Sequence[Address]) -> AsyncIterator[list[Redis]]:
    """One client per Sentinel for the whole step (a poll then costs no new connection)."""
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                Redis(host=host, port=port, socket_timeout=1.0, socket_connect_timeout=1.0)
            )
            for host, port in addresses
        ]


async def _until_all_report(sentinels: list[Redis], master: str, wanted: Address) -> None:
    """Poll every Sentinel; ask for a failover whenever none is under way and none is done."""
    deadline = time.monotonic() + SENTINEL_POLL_SECONDS
    asked_at = -REQUEST_INTERVAL_SECONDS
    while not await _all_report(sentinels, master, wanted):
        now = time.monotonic()
        if now > deadline:
            raise WaitingOnSentinel(f"Sentinels do not report {wanted[0]}:{wanted[1]} as master")
        if now - asked_at >= REQUEST_INTERVAL_SECONDS and await _ask_for_failover(
            sentinels, master, wanted
        ):
            asked_at = now
        await asyncio.sleep(POLL_INTERVAL_SECONDS)


async def _ask_for_failover(sentinels: list[Redis], master: str, wanted: Address) -> bool:
    """Ask the first reachable Sentinel, unless it already reports ``wanted`` or is failing over.

    Asking only then (in one answer: address and flags) means a repeated request can never move
    the master away from the target again. False when no Sentinel could be asked.
    """
    for sentinel in sentinels:
        try:
            state = _fields(await sentinel.execute_command("SENTINEL", "MASTER", master))  # type: ignore[no-untyped-call]
        except REDIS_ERRORS:
            continue
        if (state["ip"], int(state["port"])) == wanted:
            return True
        if "failover_in_progress" in state["flags"].split(","):
            return True
        if not await _all_know_replica(sentinels, master, wanted, None):
            return False  # a Sentinel still sees it as a master: it would demote it mid-failover
        await _request_failover(sentinel, master)
        return True
    return False


def _fields(reply: Any) -> dict[str, str]:
    """One instance as SENTINEL MASTER/REPLICAS describe it (redis-py: a dict or a flat list)."""
    pairs = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2], strict=True)
    return {_text(key): _text(value) for key, value in pairs}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _request_failover(sentinel: Redis, master: str) -> None:
    try:
        await sentinel.execute_command("SENTINEL", "FAILOVER", master)  # type: ignore[no-untyped-call]
    except redis.exceptions.ResponseError as exc:
        if not any(marker in str(exc) for marker in IN_PROGRESS):
            # e.g. NOGOODSLAVE right after Sentinel reconfigured a replica: asked again later.
            log.warning("SENTINEL FAILOVER refused", error=str(exc))


async def _all_report(sentinels: list[Redis], master: str, wanted: Address) -> bool:
    reports = await asyncio.gather(*(_master_of(s, master) for s in sentinels))
    return all(report == wanted for report in reports)


async def _master_of(sentinel: Redis, master: str) -> Address | None:
    """What one Sentinel reports as the master (None when it cannot be asked)."""
    try:
        reply = await sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", master)  # type: ignore[no-untyped-call]
    except REDIS_ERRORS:
        return None
    if not reply:
        return None
    host, port = (_text(part) for part in reply)
    return host, int(port)


async def wait_redis_replica(ctx: EngineContext, plan: Plan) -> None:
    """Every Sentinel knows the old region's Redis as a replica of the new master (rejoin).

    Sentinel refreshes a replica's role only every 10 s; until each has seen it as a replica, a
    Sentinel demotes it again if a next failover promotes it (which then stalls ~10 s).
    """
    old = ctx.region(plan.source).redis
    new = ctx.region(plan.target).redis
    replica = (old.address(ctx.namespace), old.port)
    master_at = (new.address(ctx.namespace), new.port)
    deadline = time.monotonic() + REPLICA_POLL_SECONDS
    async with _clients(ctx.spec.sentinel.addresses(ctx.namespace)) as sentinels:
        name = ctx.spec.sentinel.master_name
        if master_at not in await asyncio.gather(*(_master_of(s, name) for s in sentinels)):
            return  # Redis is not on the target (step 5 did not run, or it moved since)
        while not await _all_know_replica(sentinels, name, replica, master_at):
            if time.monotonic() > deadline:
                raise WaitingOnRejoin(
                    f"Sentinels do not know {replica[0]}:{replica[1]} as a replica"
                )
            await asyncio.sleep(REPLICA_POLL_INTERVAL_SECONDS)


async def _all_know_replica(
    sentinels: list[Redis], master: str, replica: Address, master_at: Address | None
) -> bool:
    """Each reachable Sentinel lists ``replica`` as a replica that reported that role itself
    (following ``master_at`` when given)."""
    views = await asyncio.gather(*(_replica_view(s, master, replica) for s in sentinels))
    for view in views:
        if view is None:
            continue  # this Sentinel cannot be asked now
        flags = view.get("flags", "").split(",")
        if "s_down" in flags or "disconnected" in flags:
            continue  # unreachable: Sentinel converts it when it is back, nothing to race
        following = (view.get("master-host"), int(view.get("master-port", 0)))
        if view.get("role-reported") != "slave":
            return False
        if master_at is not None and following != master_at:
            return False
    return True


async def _replica_view(sentinel: Redis, master: str, replica: Address) -> dict[str, str] | None:
    """What one Sentinel knows about ``replica`` ({} when it does not list it, None: no answer)."""
    try:
        replies = await sentinel.execute_command("SENTINEL", "REPLICAS", master)  # type: ignore[no-untyped-call]
    except REDIS_ERRORS:
        return None
    for reply in replies:
        view = _fields(reply)
        if (view.get("ip"), int(view.get("port", 0))) == replica:
            return view
    return {}


async def _demote_old_master(ctx: EngineContext, region: str, wanted: Address) -> None:
    """The old region's Redis, if it still answers as a master, replicates the new one.

    This is what Sentinel does itself once the old master has reported its role for a while;
    until then two Redis masters accept writes. An unreachable one is left to Sentinel.
    """
    endpoint = ctx.region(region).redis
    try:
        async with Redis(
            host=endpoint.address(ctx.namespace),
            port=endpoint.port,
            password=ctx.credentials.redis_password,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
        ) as client:
            role = await client.execute_command("ROLE")  # type: ignore[no-untyped-call]
            if role[0] in (b"master", "master"):
                await client.execute_command("REPLICAOF", wanted[0], str(wanted[1]))  # type: ignore[no-untyped-call]
                log.info("old Redis master now replicates the new one", region=region)
    except REDIS_ERRORS as exc:
        log.info("old Redis master not reachable; Sentinel converts it later", error=str(exc))
