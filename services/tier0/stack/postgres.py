"""PostgreSQL primary + hot-standby streaming replica, as local processes."""

from __future__ import annotations

import asyncio
import glob
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from tier0.common.postgres import REPLICATION_SETTINGS
from tier0.stack.base import (
    LOOPBACK,
    RunAs,
    ServerProcess,
    StartupError,
    free_port,
    generate_password,
    start_on_free_ports,
)

APP_USER = "tier0"
APP_DATABASE = "tier0"
REPLICATION_USER = "replicator"
SUPERUSER = "postgres"
REPLICA_SLOT = "region2"

# The servers' common settings, on loopback only.
SERVER_SETTINGS = {"listen_addresses": LOOPBACK, **REPLICATION_SETTINGS}


# Generous: a loaded machine (CI, two cores shared with compilers) replays seconds behind.
REPLAY_TIMEOUT_SECONDS = 60.0
REPLAY_POLL_SECONDS = 0.05


async def wait_replayed(primary: str, replica: str) -> None:
    """Return once the standby at DSN ``replica`` has replayed everything committed so far on
    the primary at DSN ``primary``: rows, and the DDL and CREATE DATABASE before them.

    The one way tests wait for a replica. Polling a query there instead fails while a table,
    or the database itself, is not replayed yet, and a count can match stale rows.
    """
    conn = await asyncpg.connect(primary)
    try:
        lsn = str(await conn.fetchval("SELECT pg_current_wal_lsn()::text"))
    finally:
        await conn.close()
    try:
        async with asyncio.timeout(REPLAY_TIMEOUT_SECONDS):
            await _until_replayed(replica, lsn)
    except TimeoutError:
        raise TimeoutError(
            f"the replica did not replay the primary's WAL up to {lsn} "
            f"in {REPLAY_TIMEOUT_SECONDS} s"
        ) from None


async def _until_replayed(replica: str, lsn: str) -> None:
    # NULL outside recovery: a primary given as "replica" has everything already.
    caught_up = "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, true)"
    while True:
        try:
            standby = await asyncpg.connect(replica)
        # Its CREATE DATABASE is not replayed yet, or it is still starting up (a rejoined node).
        except (asyncpg.InvalidCatalogNameError, asyncpg.CannotConnectNowError):
            await asyncio.sleep(REPLAY_POLL_SECONDS)
            continue
        try:
            while not await standby.fetchval(caught_up, lsn):
                await asyncio.sleep(REPLAY_POLL_SECONDS)
            return
        finally:
            await standby.close()


def bindir() -> Path:
    """Directory of the newest installed PostgreSQL server binaries."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_major, reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if (Path(directory) / "postgres").exists() and (Path(directory) / "initdb").exists():
            return Path(directory)
    raise StartupError("PostgreSQL server binaries not found; run `make setup`")


def _major(path: str) -> int:
    return int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0


@dataclass
class PostgresNode:
    """One PostgreSQL server (primary or standby) with its data directory and socket."""

    name: str
    root: Path
    run_as: RunAs
    port: int = field(default_factory=free_port)
    process: ServerProcess | None = None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def configure(self, extra: dict[str, str] | None = None) -> None:
        """Append our settings to postgresql.conf (later lines win)."""
        settings = {
            **SERVER_SETTINGS,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            **(extra or {}),
        }
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# tier0 harness\n")
            conf.writelines(f"{key} = '{value}'\n" for key, value in settings.items())

    def start(self, timeout: float = 60.0) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.run_as.own(self.root)
        self.process = start_on_free_ports(lambda: self._server(timeout), self._repick_port)
        self.wait_ready(timeout)

    def _repick_port(self) -> None:
        self.port = free_port()
        self.configure({"port": str(self.port)})

    def _server(self, timeout: float) -> ServerProcess:
        argv = self.run_as.wrap([str(bindir() / "postgres"), "-D", str(self.datadir)])
        # SIGINT is PostgreSQL's "fast" shutdown: no waiting for clients to disconnect.
        return ServerProcess(
            self.name, argv, self.port, self.root, stop_signal=signal.SIGINT, timeout=timeout
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the server accepts connections (a standby once it is consistent)."""
        deadline = time.monotonic() + timeout
        argv = [str(bindir() / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(self.port)]
        while subprocess.run(argv, check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise StartupError(f"{self.name} not accepting connections after {timeout} s")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the local socket (trust auth), returning the output."""
        argv = [str(bindir() / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
        argv += ["-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, "-d", database]
        proc = subprocess.run([*argv, "-c", sql], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise StartupError(f"psql on {self.name} failed: {proc.stderr.strip()}")
        return proc.stdout.strip()


@dataclass
class PostgresCluster:
    """A primary and one streaming replica fed through a physical replication slot."""

    root: Path
    run_as: RunAs = field(default_factory=lambda: RunAs("postgres"))
    app_password: str = field(default_factory=generate_password)
    replication_password: str = field(default_factory=generate_password)
    primary: PostgresNode = field(init=False)
    replica: PostgresNode = field(init=False)

    def __post_init__(self) -> None:
        self.primary = PostgresNode("postgres-region1", self.root / "region1", self.run_as)
        self.replica = PostgresNode("postgres-region2", self.root / "region2", self.run_as)

    def start(self) -> None:
        self._init_primary()
        self.primary.start()
        self._create_roles()
        self._clone_replica(self.primary, self.replica, slot=REPLICA_SLOT)
        self.replica.start()
        self.wait_streaming()

    def wait_streaming(self, timeout: float = REPLAY_TIMEOUT_SECONDS) -> None:
        """Until the replica streams from the primary through its slot. A standby accepts
        connections (``wait_ready``) before its WAL receiver has connected."""
        query = (
            "SELECT count(*) FROM pg_stat_replication r JOIN pg_replication_slots s"
            f" ON s.active_pid = r.pid WHERE s.slot_name = '{REPLICA_SLOT}'"
            " AND r.state = 'streaming'"
        )
        deadline = time.monotonic() + timeout
        while self.primary.psql(query) != "1":
            if time.monotonic() > deadline:
                raise StartupError(f"{self.replica.name} not streaming after {timeout} s")
            time.sleep(0.1)

    def stop(self) -> None:
        for node in (self.replica, self.primary):
            node.stop()

    def dsn(self, node: PostgresNode, database: str = APP_DATABASE) -> str:
        """DSN of the application user on one node."""
        return f"postgresql://{APP_USER}:{self.app_password}@{LOOPBACK}:{node.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new database owned by the application user on the primary; returns its DSN."""
        self.primary.psql(f'CREATE DATABASE "{name}" OWNER {APP_USER}')
        return self.dsn(self.primary, name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending any sessions still connected to it."""
        self.primary.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def multihost_dsn(self, database: str = APP_DATABASE) -> str:
        """DSN listing both nodes; libpq and asyncpg pick the writable one."""
        hosts = ",".join(f"{LOOPBACK}:{n.port}" for n in (self.primary, self.replica))
        return (
            f"postgresql://{APP_USER}:{self.app_password}@{hosts}/{database}"
            "?target_session_attrs=read-write"
        )

    def _run(self, argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
        proc = subprocess.run(
            self.run_as.wrap(argv),
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            check=False,
        )
        if proc.returncode != 0:
            raise StartupError(f"{what} failed: {(proc.stdout + proc.stderr).strip()[-2000:]}")

    def _init_primary(self) -> None:
        node = self.primary
        node.root.mkdir(parents=True, exist_ok=True)
        # Give the unprivileged account a way into the (0700) temporary directory tree.
        if self.run_as.needed:
            for parent in (self.root, *self.root.parents):
                if not parent.stat().st_mode & 0o001:
                    parent.chmod(parent.stat().st_mode | 0o001)
        self.run_as.own(node.root)
        argv = [str(bindir() / "initdb"), "-D", str(node.datadir), "-U", SUPERUSER]
        argv += ["--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]
        argv += ["--no-instructions", "-E", "UTF8", "--locale=C"]
        self._run(argv, "initdb")
        node.configure()

    def _create_roles(self) -> None:
        node = self.primary
        node.psql(
            f"CREATE ROLE {REPLICATION_USER} WITH REPLICATION LOGIN "
            f"PASSWORD '{self.replication_password}';"
            f"CREATE ROLE {APP_USER} WITH LOGIN CREATEDB PASSWORD '{self.app_password}';"
        )
        node.psql(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_USER}")

    def _clone_replica(self, source: PostgresNode, target: PostgresNode, slot: str) -> None:
        """Make ``target`` a streaming standby of ``source`` with pg_basebackup."""
        target.root.mkdir(parents=True, exist_ok=True)
        self.run_as.own(target.root)
        argv = [str(bindir() / "pg_basebackup"), "-h", LOOPBACK, "-p", str(source.port)]
        argv += ["-U", REPLICATION_USER, "-D", str(target.datadir), "-R", "-X", "stream"]
        argv += ["-C", "-S", slot, "--no-sync", "-c", "fast"]
        self._run(
            argv, f"pg_basebackup for {target.name}", {"PGPASSWORD": self.replication_password}
        )
        target.configure({"primary_slot_name": slot})
