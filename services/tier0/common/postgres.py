"""asyncpg pools that follow the writable PostgreSQL server."""

from __future__ import annotations

import asyncpg
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

# Settings of every Tier-0 PostgreSQL server (the harness's and the instance manager's): small,
# quick and replication-ready. Each server adds its own identity (port, addresses, socket).
# pg_rewind needs hint bits WAL-logged (or data checksums) to rewind a former primary.
REPLICATION_SETTINGS = {
    "wal_level": "replica",
    "max_wal_senders": "10",
    "max_replication_slots": "10",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "wal_log_hints": "on",
    "wal_keep_size": "128MB",
    # A standby whose primary went away retries every 250 ms rather than every 5 s: with
    # synchronous replication, commits on a restarted primary wait until the standby is back.
    "wal_retrieve_retry_interval": "250ms",
    # No logical replication here, so no launcher for it: a fast shutdown waits for every
    # background worker before its checkpoint, and on a busy node the launcher was the last
    # to exit (170 ms after the request, while clients waited for the switchover).
    "max_logical_replication_workers": "0",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "logging_collector": "off",
    "log_line_prefix": "%m [%p] %u@%d ",
}

# Errors that mean "the server is not there (yet)", as during start-up or a failover. A
# multi-host DSN with target_session_attrs=read-write raises TargetServerAttributeNotMatched
# (an InternalClientError, not a PostgresError) while no host is writable yet, as between the
# fence and the promotion of a switchover.
CONNECT_ERRORS = (
    OSError,
    asyncpg.CannotConnectNowError,
    asyncpg.PostgresConnectionError,
    asyncpg.TargetServerAttributeNotMatched,
)

# Errors after which the same transaction may well succeed on a fresh connection: the server
# went away or is read-only for a moment (a failover), or the connection was cut in the middle
# of a statement and asyncpg refuses to use it again (InternalClientError "cannot switch to
# state ...; another operation is in progress", seen when a primary is fenced mid-batch).
TRANSIENT_ERRORS = (
    *CONNECT_ERRORS,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.ReadOnlySQLTransactionError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)
# The rows, not the server, are at fault (class 22 data exception, class 23 integrity).
DATA_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)


# A connection attempt gives up after this (asyncpg's default is 60 s): a Service whose endpoint
# is a pod that just vanished drops the SYN, and a consumer would stall for a minute, failing its
# liveness probe, while the new primary is already up. A timeout is an OSError: transient.
CONNECT_TIMEOUT_SECONDS = 5.0


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, wait_seconds: float = 30.0
) -> asyncpg.Pool:
    """A pool on ``dsn``, retrying with backoff for up to ``wait_seconds`` while it is down."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(CONNECT_ERRORS),
        stop=stop_after_delay(wait_seconds),
        wait=wait_exponential(multiplier=0.1, max=2.0),
        reraise=True,
    ):
        with attempt:
            pool: asyncpg.Pool = await asyncpg.create_pool(
                dsn, min_size=min_size, max_size=max_size, timeout=CONNECT_TIMEOUT_SECONDS
            )
            return pool
    raise AssertionError("unreachable: tenacity re-raises the last error")
