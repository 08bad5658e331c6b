"""Commands that must run where a region's PostgreSQL data lives (stop, rewind, clone, start).

``NodeAgent`` is what the engine needs. ``LocalNodeAgent`` runs them as local processes on the
data directories of tier0.stack's PostgresNode (local mode and tests). In a cluster the same
protocol is implemented against the region's pod: stop = scale the region's StatefulSet to 0
(or delete the pod), rewind/clone = a Job mounting the region's PVC that runs pg_rewind or
pg_basebackup, start = scale back to 1 with a standby configuration (see docs/operator.md).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tier0.stack.base import RunAs
from tier0.stack.postgres import bindir

# Identity of a node (its port, socket dir, listen address); pg_rewind and pg_basebackup copy the
# source's versions of these files, so the agent keeps the node's own and puts them back.
IDENTITY_FILES = ("postgresql.conf", "pg_hba.conf")


class AgentError(RuntimeError):
    """A node command failed; the message carries its output."""


@dataclass(frozen=True)
class SourceServer:
    """The new primary, as the old one dials it."""

    host: str
    port: int
    superuser: str
    superuser_password: str
    replication_user: str
    replication_password: str

    def rewind_conninfo(self) -> str:
        return (
            f"host={self.host} port={self.port} user={self.superuser} "
            f"password={self.superuser_password} dbname=postgres"
        )

    def standby_conninfo(self, application_name: str) -> str:
        return (
            f"host={self.host} port={self.port} user={self.replication_user} "
            f"password={self.replication_password} application_name={application_name}"
        )


class NodeAgent(Protocol):
    async def stop(self, region: str) -> None:
        """Make sure the region's PostgreSQL is not running (fast shutdown)."""

    async def rewind(self, region: str, source: SourceServer) -> None:
        """pg_rewind the stopped node onto ``source``'s timeline; AgentError when impossible."""

    async def clone(self, region: str, source: SourceServer) -> None:
        """Replace the node's data with a fresh pg_basebackup of ``source``."""

    async def follow(self, region: str, source: SourceServer, slot: str) -> None:
        """Configure the stopped node as a standby of ``source`` through ``slot``."""

    async def start(self, region: str) -> None:
        """Start the node and wait until it accepts connections."""


@dataclass(frozen=True)
class LocalNode:
    """Where one region's server lives on this machine."""

    datadir: Path
    run_as: str = "postgres"

    @property
    def saved_config(self) -> Path:
        return self.datadir.parent / "tier0-identity"

    @property
    def log(self) -> Path:
        return self.datadir.parent / "postgres-agent.log"


class LocalNodeAgent:
    """NodeAgent for servers that are processes on this machine (pg_ctl, pg_rewind)."""

    def __init__(self, nodes: dict[str, LocalNode]) -> None:
        self.nodes = nodes

    @classmethod
    def from_file(cls, path: Path) -> LocalNodeAgent:
        """``{"region1": {"datadir": "...", "runAs": "postgres"}, ...}``"""
        raw = json.loads(path.read_text())
        return cls(
            {k: LocalNode(Path(v["datadir"]), v.get("runAs", "postgres")) for k, v in raw.items()}
        )

    async def stop(self, region: str) -> None:
        node = self.nodes[region]
        # pg_ctl status exits 3 when no server runs (also after a kill -9: stale pid file).
        if await self._pg_ctl(node, "status", check=False) == 0:
            await self._pg_ctl(node, "stop", "-m", "fast", "-w", "-t", "60")

    async def rewind(self, region: str, source: SourceServer) -> None:
        node = self.nodes[region]
        self._save_identity(node)
        # step 1: pg_rewind recovers an uncleanly stopped target itself (single-user mode) first.
        await self._run(
            node,
            str(bindir() / "pg_rewind"),
            f"--target-pgdata={node.datadir}",
            f"--source-server={source.rewind_conninfo()}",
            "--no-sync",
        )

    async def clone(self, region: str, source: SourceServer) -> None:
        node = self.nodes[region]
        self._save_identity(node)
        shutil.rmtree(node.datadir, ignore_errors=True)
        node.datadir.mkdir(mode=0o700)
        RunAs(node.run_as).own(node.datadir)
        await self._run(
            node,
            str(bindir() / "pg_basebackup"),
            f"--dbname={source.standby_conninfo(region)}",
            "-D",
            str(node.datadir),
            "-X",
            "stream",
            "--no-sync",
            "-c",
            "fast",
        )

    async def follow(self, region: str, source: SourceServer, slot: str) -> None:
        node = self.nodes[region]
        # step 1: the node's own identity back (rewind/clone copied the source's).
        for name in IDENTITY_FILES:
            saved = node.saved_config / name
            if saved.exists():
                shutil.copy2(saved, node.datadir / name)
        # step 2: a fresh auto.conf: drops the fence (read-only) and synchronous settings.
        conninfo = source.standby_conninfo(region).replace("'", "\\'")
        (node.datadir / "postgresql.auto.conf").write_text(
            f"primary_conninfo = '{conninfo}'\nprimary_slot_name = '{slot}'\n"
        )
        (node.datadir / "standby.signal").touch()
        RunAs(node.run_as).own(node.datadir)

    async def start(self, region: str) -> None:
        node = self.nodes[region]
        await self._pg_ctl(node, "start", "-w", "-t", "60", "-l", str(node.log))

    def _save_identity(self, node: LocalNode) -> None:
        """Keep the node's identity files once, while the data directory is still its own."""
        if node.saved_config.exists():
            return
        node.saved_config.mkdir(parents=True)
        for name in IDENTITY_FILES:
            shutil.copy2(node.datadir / name, node.saved_config / name)

    async def _pg_ctl(self, node: LocalNode, *args: str, check: bool = True) -> int:
        argv = [str(bindir() / "pg_ctl"), "-D", str(node.datadir), *args]
        return await self._run(node, *argv, check=check)

    async def _run(self, node: LocalNode, *argv: str, check: bool = True) -> int:
        proc = await asyncio.create_subprocess_exec(
            *RunAs(node.run_as).wrap(argv),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await proc.communicate()
        if check and proc.returncode != 0:
            text = output.decode(errors="replace").strip()[-2000:]
            raise AgentError(f"{Path(argv[0]).name} {argv[1:3]} exited {proc.returncode}: {text}")
        return int(proc.returncode or 0)
