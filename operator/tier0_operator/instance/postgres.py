"""The PostgreSQL child of the instance manager and the commands run on its data directory.

Every command runs as the unprivileged account (``InstanceConfig.wrap``) and is spawned from the
event loop's thread: ``--pdeathsig`` kills PostgreSQL when the manager dies, as a container does.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pwd
import re
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog

from tier0_operator.engine.pg import parse_lsn
from tier0_operator.instance.config import (
    APP_DATABASE,
    APP_USER,
    REPLICATION_USER,
    SUPERUSER,
    InstanceConfig,
    bindir,
)
from tier0_operator.instance.history import LocalWal, WalPoint

log = structlog.get_logger(__name__)

READY_TIMEOUT_SECONDS = 120.0
VOLUME_LOCK = "volume.lock"  # in the state directory, on the data volume
HBA = (
    "local all all trust\nhost all all all scram-sha-256\nhost replication all all scram-sha-256\n"
)


# WAL segments of 1 MB rather than 16: a promotion copies the segment it ends in to the new
# timeline, zero-filled to its full size, before the server accepts writes (a 16 MB write
# and fsync inside every failover's outage, measured at 30-40 ms on a busy node).
WAL_SEGMENT_MB = 1


class CommandFailed(RuntimeError):
    """A PostgreSQL tool exited non-zero; the message carries its output."""


@dataclass(frozen=True)
class Source:
    """The server to clone from, rewind onto or follow."""

    host: str
    port: int


@dataclass(frozen=True)
class Following:
    """The standby configuration ``Postgres.follow`` wrote: whom it streams from, which slot."""

    source: Source
    slot: str


@dataclass(frozen=True)
class Control:
    """pg_controldata's view of a stopped (or running) data directory."""

    state: str
    timeline: int
    checkpoint_lsn: str
    system: int
    min_recovery_lsn: str
    min_recovery_timeline: int

    @property
    def wal(self) -> LocalWal:
        """Where this data directory's WAL reaches, to compare with a primary's history."""
        checkpoint = WalPoint(self.timeline, parse_lsn(self.checkpoint_lsn))
        min_recovery = None
        if self.min_recovery_timeline:
            min_recovery = WalPoint(self.min_recovery_timeline, parse_lsn(self.min_recovery_lsn))
        return LocalWal(self.system, checkpoint, min_recovery)


class Postgres:
    """The data directory and at most one running postmaster, our child."""

    def __init__(self, config: InstanceConfig) -> None:
        self.config = config
        self.child: asyncio.subprocess.Process | None = None
        self.log_read = 0  # how far ``new_log`` has read the server log
        self.volume_fd: int | None = None  # the held volume lock (``hold_volume``)

    @property
    def datadir(self) -> Path:
        return self.config.datadir

    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def standby(self) -> bool:
        return (self.datadir / "standby.signal").exists()

    def running(self) -> bool:
        return self.child is not None and self.child.returncode is None

    async def hold_volume(self) -> None:
        """An exclusive flock on a file beside the data directory, taken once and held for the
        manager's life; every postmaster it starts inherits it, and so does every backend.

        A pod recreated while its predecessor's server is still running (``kubectl delete pod
        --force``: the kubelet kills the old container only a moment later) shares the data
        volume but not the PID namespace, so postmaster.pid cannot show it that server is
        alive. The flock can: the kernel releases it only when the last process holding it
        has exited. Until then this waits, and nothing touches the data directory."""
        if self.volume_fd is not None:
            return
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.config.state_dir / VOLUME_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        waiting_since = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waiting_since is None:
                    waiting_since = time.monotonic()
                    log.warning("waiting for the previous server on this volume to exit")
                await asyncio.sleep(0.1)
        if waiting_since is not None:
            log.info("the previous server has exited", waited=time.monotonic() - waiting_since)
        self.volume_fd = fd

    async def start(self) -> None:
        """Start the postmaster (idempotent) and wait until it accepts connections."""
        if self.running():
            return
        await self.hold_volume()
        self._prepare_dirs()
        self._remove_stale_lock()
        argv = [str(bindir() / "postgres"), "-D", str(self.datadir)]
        for key, value in self.config.server_settings().items():
            argv += ["-c", f"{key}={value}"]
        logfile = self.log_path.open("ab")
        self.log_read = logfile.tell()
        try:
            self.child = await asyncio.create_subprocess_exec(
                *self.config.wrap(argv), stdin=asyncio.subprocess.DEVNULL,
                stdout=logfile, stderr=asyncio.subprocess.STDOUT,
                pass_fds=(self.volume_fd,) if self.volume_fd is not None else (),
            )  # fmt: skip
        finally:
            logfile.close()
        await self._wait_ready()

    def _remove_stale_lock(self) -> None:
        """A postmaster.pid left by a server that died with its container. PostgreSQL keeps
        refusing to start while the PID written there is alive, and in a new container that
        PID is often one of our own threads (PIDs restart at 1), so the server never starts.
        It is stale unless that process is a postgres server of ours."""
        lock = self.datadir / "postmaster.pid"
        try:
            pid = int(lock.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            command = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            command = ""
        if command != "postgres":
            lock.unlink(missing_ok=True)
            log.info("removed a stale postmaster.pid", pid=pid, process=command or None)

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if not self.running():
                raise CommandFailed(f"postgres exited at start: {self._log_tail()}")
            try:
                conn = await self.connect()
            except (TimeoutError, OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    raise CommandFailed("postgres did not accept connections") from None
                await asyncio.sleep(0.05)
                continue
            await conn.close()
            return

    async def stop(self, mode: str = "fast") -> None:
        """Shut down (``fast``: clean, WAL sent to standbys; ``immediate``: at once)."""
        if not self.running():
            return
        assert self.child is not None
        self.child.send_signal(signal.SIGINT if mode == "fast" else signal.SIGQUIT)
        try:
            async with asyncio.timeout(60):
                await self.child.wait()
        except TimeoutError:
            self.child.kill()
            await self.child.wait()

    async def connect(self) -> asyncpg.Connection:
        """The local superuser over the Unix socket (trust)."""
        return await asyncpg.connect(
            host=str(self.config.socket_dir), port=self.config.port, user=SUPERUSER,
            database="postgres", timeout=2,
        )  # fmt: skip

    async def in_recovery(self) -> bool | None:
        """Whether the running server is a standby; None when it does not answer."""
        if not self.running():
            return None
        try:
            conn = await self.connect()
        except (TimeoutError, OSError, asyncpg.PostgresError):
            return None
        try:
            return bool(await conn.fetchval("SELECT pg_is_in_recovery()"))
        finally:
            await conn.close()

    async def control(self) -> Control | None:
        if not self.initialized():
            return None
        out = await self.run(str(bindir() / "pg_controldata"), "-D", str(self.datadir))
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        return Control(
            state=fields["Database cluster state"].strip(),
            timeline=int(fields["Latest checkpoint's TimeLineID"]),
            checkpoint_lsn=fields["Latest checkpoint location"].strip(),
            system=int(fields["Database system identifier"]),
            min_recovery_lsn=fields["Minimum recovery ending location"].strip(),
            min_recovery_timeline=int(fields["Min recovery ending loc's timeline"]),
        )

    async def init_primary(self) -> None:
        """initdb, start, create the replication and application roles and database."""
        self._prepare_dirs()
        await self.run(
            str(bindir() / "initdb"), "-D", str(self.datadir), "-U", SUPERUSER,
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
            "--no-instructions", "-E", "UTF8", "--locale=C", f"--wal-segsize={WAL_SEGMENT_MB}",
        )  # fmt: skip
        await self.start()
        conn = await self.connect()
        try:
            await self._create_roles(conn)
        finally:
            await conn.close()

    async def _create_roles(self, conn: asyncpg.Connection) -> None:
        passwords = self.config.passwords
        await _set_password(conn, SUPERUSER, passwords.superuser, "SUPERUSER")
        await _set_password(conn, REPLICATION_USER, passwords.replication, "REPLICATION")
        if passwords.app is not None:
            await _set_password(conn, APP_USER, passwords.app, "CREATEDB")
            if not await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", APP_DATABASE
            ):
                await conn.execute(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_USER}")

    async def clone(self, source: Source) -> None:
        """Replace the data directory with a pg_basebackup of ``source`` (a standby of it)."""
        shutil.rmtree(self.datadir, ignore_errors=True)
        self._prepare_dirs()
        await self.run(
            str(bindir() / "pg_basebackup"), f"--dbname={self._conninfo(source, True)}",
            "-D", str(self.datadir), "-X", "stream", "--no-sync", "-c", "fast",
        )  # fmt: skip

    async def rewind(self, source: Source) -> None:
        """pg_rewind the stopped data directory onto ``source``'s timeline.

        pg_rewind first recovers a server that did not shut down cleanly (a crashed primary)
        with ``postgres --single``, which refuses a live PID in postmaster.pid as ``start``
        does, and reads the data directory's configuration only, not our command line: without
        wal_log_hints there, pg_rewind refuses the result. ``follow`` rewrites
        postgresql.auto.conf afterwards.
        """
        self._remove_stale_lock()
        settings = self.datadir / "postgresql.auto.conf"
        with settings.open("a") as out:
            out.write("\nwal_log_hints = on\n")
        self._own(settings)
        await self.run(
            str(bindir() / "pg_rewind"), f"--target-pgdata={self.datadir}",
            f"--source-server={self._conninfo(source, False)}", "--no-sync",
        )  # fmt: skip

    def follow(self, source: Source, slot: str) -> None:
        """Standby configuration: stream from ``source`` through ``slot``.

        A fresh postgresql.auto.conf also drops what ALTER SYSTEM left on a former primary
        (synchronous_standby_names would otherwise apply after a later promotion).
        """
        conninfo = self._conninfo(source, True).replace("'", "\\'")
        (self.datadir / "postgresql.auto.conf").write_text(
            f"primary_conninfo = '{conninfo}'\nprimary_slot_name = '{slot}'\n"
        )
        (self.datadir / "standby.signal").touch()
        self._own(self.datadir)

    def following(self) -> Following | None:
        """What ``follow`` configured (None: not a standby, or configured otherwise)."""
        if not self.standby():
            return None
        try:
            text = (self.datadir / "postgresql.auto.conf").read_text()
        except OSError:
            return None
        address = re.search(r"^primary_conninfo = '.*?\bhost=(\S+) port=(\d+)", text, re.M)
        slot = re.search(r"^primary_slot_name = '([^']*)'", text, re.M)
        if address is None or slot is None:
            return None
        return Following(Source(address[1], int(address[2])), slot[1])

    async def connect_source(self, source: Source) -> asyncpg.Connection:
        """The superuser on ``source`` (the server to clone from, rewind onto or follow)."""
        return await asyncpg.connect(
            host=source.host, port=source.port, user=SUPERUSER,
            password=self.config.passwords.superuser, database="postgres", timeout=5,
        )  # fmt: skip

    def _conninfo(self, source: Source, replication: bool) -> str:
        user = REPLICATION_USER if replication else SUPERUSER
        passwords = self.config.passwords
        password = passwords.replication if replication else passwords.superuser
        return (
            f"host={source.host} port={source.port} user={user} password={password} "
            f"dbname=postgres application_name={self.config.region}"
        )

    def _prepare_dirs(self) -> None:
        for directory in (self.config.state_dir, self.config.socket_dir, self.datadir):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.config.hba_file.write_text(HBA)
        self._own(self.config.state_dir, self.config.socket_dir, self.datadir)

    def _own(self, *paths: Path) -> None:
        """Give ``paths`` (recursively) to the unprivileged account when running as root."""
        if not self.config.run_as or os.geteuid() != 0:
            return
        entry = pwd.getpwnam(self.config.run_as)
        for path in paths:
            for item in [path, *path.rglob("*")]:
                os.chown(item, entry.pw_uid, entry.pw_gid)

    async def run(self, *argv: str) -> str:
        """Run a PostgreSQL tool as the unprivileged account; its output, CommandFailed if it
        fails."""
        proc = await asyncio.create_subprocess_exec(
            *self.config.wrap(list(argv)), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "LC_ALL": "C"},
        )  # fmt: skip
        output, _ = await proc.communicate()
        text = output.decode(errors="replace")
        if proc.returncode != 0:
            raise CommandFailed(f"{Path(argv[0]).name} exited {proc.returncode}: {text[-2000:]}")
        return text

    @property
    def log_path(self) -> Path:
        return self.config.state_dir / "postgres.log"

    def _log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-15:])

    def new_log(self) -> str:
        """The server log's whole lines written since the last call (or since the start)."""
        try:
            with self.log_path.open("rb") as logfile:
                logfile.seek(self.log_read)
                chunk = logfile.read()
        except OSError:
            return ""
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.log_read += len(complete)
        return complete.decode(errors="replace")


async def _set_password(conn: asyncpg.Connection, role: str, password: str, attr: str) -> None:
    """Create ``role`` (LOGIN + ``attr``) or reset its password; passwords from the env."""
    quoted = password.replace("'", "''")
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    await conn.execute(f"{verb} ROLE {role} WITH LOGIN {attr} PASSWORD '{quoted}'")
