"""Can this data directory follow that primary? Its WAL must lie on the primary's history.

A standby that holds WAL the primary never had (a former primary that wrote past the point
where the other node was promoted, or a node that followed a timeline the primary left) cannot
stream: PostgreSQL retries forever. ``divergence`` tells it before starting, from pg_control
and the primary's timeline history (as Patroni does); ``divergence_in_log`` recognises what
PostgreSQL logs when it finds out by itself. Either way the instance manager rewinds.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from tier0_operator.engine.pg import format_lsn, parse_lsn

# What PostgreSQL logs when a standby's history cannot continue on its primary's.
LOG_MARKERS = (
    "is not in this server's history",  # the primary refuses the standby's start point
    "forked off current database system timeline",  # its newer timeline left ours earlier
    "does not contain minimum recovery point",  # FATAL at start: the timeline to follow
    "is not a child of this server's history",  # FATAL at start: forked before our checkpoint
    "database system identifier differs",  # another database altogether
)


@dataclass(frozen=True)
class WalPoint:
    timeline: int
    lsn: int


@dataclass(frozen=True)
class LocalWal:
    """What pg_control says this data directory holds (lower bounds after a crash)."""

    system: int
    checkpoint: WalPoint  # start of the latest checkpoint record: last record after a shutdown
    min_recovery: WalPoint | None  # WAL a standby has replayed up to; None when unset


@dataclass(frozen=True)
class PrimaryHistory:
    system: int
    timeline: int | None  # None: the server is itself in recovery (nothing to compare with)
    forks: dict[int, int]  # each earlier timeline of its history -> LSN where it left it


def divergence(local: LocalWal, primary: PrimaryHistory) -> str | None:
    """Why ``local`` cannot follow ``primary``; None when it can (or it cannot be told)."""
    if local.system != primary.system:
        return (
            f"the data directory belongs to another database (system identifier "
            f"{local.system}, the primary's {primary.system})"
        )
    if primary.timeline is None:
        return None
    # A record that starts at the fork was never written on the primary's timeline; a replay
    # position that ends there was.
    past = _past_fork(local.checkpoint, primary.timeline, primary.forks, at_fork=True)
    if past is None and local.min_recovery is not None:
        past = _past_fork(local.min_recovery, primary.timeline, primary.forks, at_fork=False)
    return past


def _past_fork(point: WalPoint, current: int, forks: dict[int, int], at_fork: bool) -> str | None:
    if point.timeline == current:
        return None
    fork = forks.get(point.timeline)
    if fork is None:
        return f"timeline {point.timeline} is not in the primary's history (timeline {current})"
    if point.lsn > fork or (at_fork and point.lsn == fork):
        return (
            f"the primary's history forked off timeline {point.timeline} at {format_lsn(fork)}, "
            f"but this data directory has WAL at {format_lsn(point.lsn)}"
        )
    return None


def parse_history(text: str) -> dict[int, int]:
    """A timeline history file: ``<parent timeline> <switch LSN> <reason>`` per line."""
    forks = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].isdigit():
            forks[int(fields[0])] = parse_lsn(fields[1])
    return forks


async def read_primary_history(conn: asyncpg.Connection) -> PrimaryHistory:
    """The server's system identifier, current timeline and history (as a superuser)."""
    row = await conn.fetchrow(
        "SELECT (SELECT system_identifier FROM pg_control_system()) AS system, "
        "CASE WHEN NOT pg_is_in_recovery() THEN pg_walfile_name(pg_current_wal_lsn()) END AS wal"
    )
    system = int(row["system"])
    if row["wal"] is None:
        return PrimaryHistory(system, None, {})
    # A WAL file's name starts with the timeline it is written on (pg_control's lags behind
    # a promotion until the next checkpoint).
    timeline = int(row["wal"][:8], 16)
    forks: dict[int, int] = {}
    if timeline > 1:
        text = await conn.fetchval("SELECT pg_read_file($1)", f"pg_wal/{timeline:08X}.history")
        forks = parse_history(str(text))
    return PrimaryHistory(system, timeline, forks)


def divergence_in_log(text: str) -> str | None:
    """The first server log line saying the standby cannot follow its primary."""
    for line in text.splitlines():
        if any(marker in line for marker in LOG_MARKERS):
            return line.strip()[-300:]
    return None
