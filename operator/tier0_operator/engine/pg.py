"""The few PostgreSQL facts and actions the engine needs, over asyncpg as the superuser."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg

from tier0_operator.model import Credentials, Endpoint

# Errors meaning "that server is not there": the probe and fence treat them alike.
UNREACHABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
)
CHECK_TABLE = "tier0_failover_check"
SuperuserConnection = AbstractAsyncContextManager[asyncpg.Connection]


def parse_lsn(text: str) -> int:
    """``'16/B374D848'`` as a byte position."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def format_lsn(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


async def connect(
    endpoint: Endpoint, namespace: str, credentials: Credentials, connect_timeout: float = 2.0
) -> asyncpg.Connection:
    """A superuser connection to one server (database ``postgres``)."""
    return await asyncpg.connect(
        host=endpoint.address(namespace),
        port=endpoint.port,
        user=credentials.superuser,
        password=credentials.superuser_password,
        database="postgres",
        timeout=connect_timeout,
        command_timeout=30,
    )


@asynccontextmanager
async def superuser(
    endpoint: Endpoint, namespace: str, credentials: Credentials, connect_timeout: float = 2.0
) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to one server, closed on exit."""
    conn = await connect(endpoint, namespace, credentials, connect_timeout)
    try:
        yield conn
    finally:
        await conn.close(timeout=1)


class Connections:
    """Connections kept open across the steps of one plan run: the target's, dialled by the
    precheck and used again by catch-up and promote, so that no step inside the clients' outage
    pays for a DNS lookup, a TCP handshake and SCRAM authentication. A connection that saw an
    error is dropped (the next use dials again); ``close`` ends them all."""

    def __init__(self) -> None:
        self._open: dict[str, asyncpg.Connection] = {}

    @asynccontextmanager
    async def use(
        self, key: str, dial: Callable[[], Awaitable[asyncpg.Connection]]
    ) -> AsyncIterator[asyncpg.Connection]:
        kept = self._open.get(key)
        conn = kept if kept is not None and not kept.is_closed() else await dial()
        self._open[key] = conn
        try:
            yield conn
        except BaseException:
            if self._open.get(key) is conn:
                del self._open[key]
            conn.terminate()
            raise

    async def close(self) -> None:
        kept, self._open = self._open, {}
        for conn in kept.values():
            with contextlib.suppress(*UNREACHABLE, asyncpg.PostgresError):
                await conn.close(timeout=1)


async def in_recovery(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT pg_is_in_recovery()"))


async def wal_position(conn: asyncpg.Connection) -> int:
    """Primary: current write LSN. Replica: the larger of received and replayed."""
    text = await conn.fetchval(
        "SELECT CASE WHEN pg_is_in_recovery() "
        "THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text "
        "ELSE pg_current_wal_lsn()::text END"
    )
    return parse_lsn(text) if text else 0


async def replay_state(conn: asyncpg.Connection) -> tuple[bool, int]:
    """(in recovery, replayed position) in one round trip."""
    row = await conn.fetchrow(
        "SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replayed"
    )
    assert row is not None
    return bool(row["standby"]), parse_lsn(row["replayed"]) if row["replayed"] else 0


async def replay_position(conn: asyncpg.Connection) -> int:
    text = await conn.fetchval("SELECT pg_last_wal_replay_lsn()::text")
    return parse_lsn(text) if text else 0


async def receiving(conn: asyncpg.Connection) -> bool:
    """Whether this replica's WAL receiver is streaming."""
    status = await conn.fetchval("SELECT status FROM pg_stat_wal_receiver")
    return bool(status == "streaming")


async def set_read_only(conn: asyncpg.Connection) -> None:
    """New transactions on this server start read-only (survives a restart)."""
    await _set_system(conn, "default_transaction_read_only", "on")


async def _set_system(conn: asyncpg.Connection, setting: str, value: str) -> None:
    """``ALTER SYSTEM SET`` and reload; no-op when already in effect.

    Waits until this session sees the reloaded value: the postmaster has then re-read the file,
    so every backend forked from now on has it.
    """
    if await conn.fetchval(f"SHOW {setting}") == value:
        return
    await conn.execute(f"ALTER SYSTEM SET {setting} = '{value}'")
    await conn.execute("SELECT pg_reload_conf()")
    for _ in range(200):
        if await conn.fetchval(f"SHOW {setting}") == value:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{setting} = '{value}' did not take effect")


async def terminate_clients(conn: asyncpg.Connection) -> int:
    """End every other client session, waiting up to 5 s for each to exit; how many ended."""
    ended = await conn.fetchval(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    return int(ended or 0)


async def current_lsn(conn: asyncpg.Connection) -> int:
    return parse_lsn(await conn.fetchval("SELECT pg_current_wal_lsn()::text"))


PROMOTE_WAIT_SECONDS = 30.0


async def request_promotion(conn: asyncpg.Connection) -> None:
    """``pg_promote`` without waiting: the server leaves recovery on its own shortly after."""
    await conn.fetchval("SELECT pg_promote(wait => false)")


async def wait_promoted(conn: asyncpg.Connection) -> bool:
    """True once the server is writable (False after ``PROMOTE_WAIT_SECONDS``).

    Asks every 5 ms rather than waiting in ``pg_promote(wait => true)``, which checks only
    every 100 ms: up to a tenth of a second of a planned switchover's outage.
    """
    deadline = asyncio.get_running_loop().time() + PROMOTE_WAIT_SECONDS
    while await in_recovery(conn):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def set_synchronous(conn: asyncpg.Connection, names: str) -> None:
    """``synchronous_standby_names`` (``''`` turns synchronous commit off)."""
    await _set_system(conn, "synchronous_standby_names", names)


async def ensure_slot(conn: asyncpg.Connection, slot: str) -> None:
    await conn.execute(
        "SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS "
        "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
        slot,
    )


async def standbys(conn: asyncpg.Connection) -> dict[str, tuple[bool, int]]:
    """Each standby of this primary by slot (= region) name: (streaming, replay lag in bytes)."""
    rows = await conn.fetch(
        "SELECT coalesce(s.slot_name, r.application_name) AS name, r.state = 'streaming' AS ok, "
        "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn), 0)::bigint AS lag "
        "FROM pg_stat_replication r LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid"
    )
    return {row["name"]: (bool(row["ok"]), int(row["lag"])) for row in rows}


async def streaming_standbys(conn: asyncpg.Connection) -> set[str]:
    """Slot (= region) name of every standby streaming from this primary."""
    return {name for name, (ok, _) in (await standbys(conn)).items() if ok}


async def record_check(conn: asyncpg.Connection, epoch: int, region: str) -> None:
    """The validation write: one row per epoch, in the ``postgres`` database."""
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {CHECK_TABLE} "
        "(epoch bigint PRIMARY KEY, region text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
    )
    await conn.execute(
        f"INSERT INTO {CHECK_TABLE} (epoch, region) VALUES ($1, $2) "
        "ON CONFLICT (epoch) DO UPDATE SET region = excluded.region, at = now()",
        epoch,
        region,
    )


async def has_check(conn: asyncpg.Connection, epoch: int, region: str) -> bool:
    found = await conn.fetchval(
        f"SELECT count(*) FROM {CHECK_TABLE} WHERE epoch = $1 AND region = $2", epoch, region
    )
    return bool(found)
