"""What the operator observes: is the primary alive, how far behind are the replicas, who is the
best candidate when the primary is lost. No kopf here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tier0_operator.engine import pg
from tier0_operator.engine.runner import EngineContext
from tier0_operator.waiting import MoreThanOneWritable, NoCandidate


@dataclass(frozen=True)
class Replication:
    primary_lsn: int
    lag_bytes: int
    streaming: bool  # every other region streams
    standby_streams: bool  # at least one does (synchronous commit can be acknowledged)
    writable_region: str | None


async def probe_primary(ctx: EngineContext, region: str) -> int | None:
    """The primary's current LSN, or None when it is unreachable or not writable."""
    timeout = float(ctx.spec.failover.probe_timeout_seconds)
    try:
        async with asyncio.timeout(timeout * 2):
            endpoint = ctx.region(region).postgres
            async with pg.superuser(endpoint, ctx.namespace, ctx.credentials, timeout) as conn:
                if await pg.in_recovery(conn):
                    return None
                return await pg.current_lsn(conn)
    except pg.UNREACHABLE:
        return None


async def replica_position(ctx: EngineContext, region: str) -> int | None:
    """A replica's received/replayed LSN, or None when unreachable or not in recovery."""
    timeout = float(ctx.spec.failover.probe_timeout_seconds)
    try:
        endpoint = ctx.region(region).postgres
        async with pg.superuser(endpoint, ctx.namespace, ctx.credentials, timeout) as conn:
            if not await pg.in_recovery(conn):
                return None
            return await pg.wal_position(conn)
    except pg.UNREACHABLE:
        return None


async def choose_candidate(ctx: EngineContext, lost: str) -> tuple[str, int]:
    """The reachable replica with the highest received/replayed LSN."""
    regions = [r.name for r in ctx.spec.others(lost)]
    positions = await asyncio.gather(*(replica_position(ctx, r) for r in regions))
    found = [(pos, name) for name, pos in zip(regions, positions, strict=True) if pos is not None]
    if not found:
        raise NoCandidate(f"no replica of {lost} is reachable")
    position, name = max(found)
    return name, position


async def find_writable(ctx: EngineContext) -> str:
    """The one region whose PostgreSQL accepts writes, for adopting a new resource; every other
    region must answer as a replica (two writable, or one unanswered, and nothing is adopted)."""
    regions = [r.name for r in ctx.spec.regions]
    writable = await asyncio.gather(*(probe_primary(ctx, r) for r in regions))
    primaries = [r for r, lsn in zip(regions, writable, strict=True) if lsn is not None]
    if len(primaries) != 1:
        raise MoreThanOneWritable(f"writable regions: {primaries or 'none'}; need exactly one")
    others = [r for r in regions if r != primaries[0]]
    positions = await asyncio.gather(*(replica_position(ctx, r) for r in others))
    unchecked = [r for r, pos in zip(others, positions, strict=True) if pos is None]
    if unchecked:
        raise MoreThanOneWritable(f"{unchecked} do not answer as replicas of {primaries[0]}")
    return primaries[0]


async def observe_replication(ctx: EngineContext, primary: str) -> Replication | None:
    """Lag of the slowest replica and whether every replica streams; None if the primary is down."""
    endpoint = ctx.region(primary).postgres
    timeout = float(ctx.spec.failover.probe_timeout_seconds)
    try:
        async with pg.superuser(endpoint, ctx.namespace, ctx.credentials, timeout) as conn:
            lsn = await pg.current_lsn(conn)
            found = await pg.standbys(conn)
    except pg.UNREACHABLE:
        return None
    others = {r.name for r in ctx.spec.others(primary)}
    lags = [lag for name, (_, lag) in found.items() if name in others]
    streaming = {name for name, (ok, _) in found.items() if ok}
    return Replication(
        primary_lsn=lsn,
        lag_bytes=max(lags) if lags else 0,
        streaming=others <= streaming,
        standby_streams=bool(others & streaming),
        writable_region=primary,
    )
