"""Real PostgreSQL (primary + replica) and Redis + Sentinels for one test module, in a tmp dir.

Failovers mutate them (promotions, rewinds), so these tests never share the session ``stack``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tier0.stack.base import LOOPBACK, generate_password
from tier0.stack.postgres import PostgresCluster, PostgresNode, bindir
from tier0.stack.redis import RedisGroup
from tier0_operator.model import Credentials


@dataclass
class LocalStores:
    cluster: PostgresCluster
    redis: RedisGroup
    superuser_password: str

    @property
    def nodes(self) -> dict[str, PostgresNode]:
        return {"region1": self.cluster.primary, "region2": self.cluster.replica}

    @property
    def credentials(self) -> Credentials:
        return Credentials(
            "postgres",
            self.superuser_password,
            "replicator",
            self.cluster.replication_password,
            self.redis.password,
        )

    def secret_data(self) -> dict[str, str]:
        return {
            "superuser-password": self.superuser_password,
            "replication-password": self.cluster.replication_password,
            "redis-password": self.redis.password,
        }

    def spec(self, active: str = "region1", **failover: Any) -> dict[str, Any]:
        """A Tier0Region spec for these processes (local mode: hosts, not Services)."""
        redis_ports = {"region1": self.redis.master_port, "region2": self.redis.replica_port}
        regions = [
            {
                "name": name,
                "postgres": {"host": LOOPBACK, "port": node.port},
                "redis": {"host": LOOPBACK, "port": redis_ports[name]},
            }
            for name, node in self.nodes.items()
        ]
        sentinels = [f"{LOOPBACK}:{port}" for port in self.redis.sentinel_ports]
        return {
            "activeRegion": active,
            "regions": regions,
            "sentinel": {"hosts": sentinels, "masterName": "tier0"},
            "failover": {"unhealthyAfterSeconds": 2, **failover},
        }

    def agent_config(self, path: Path) -> Path:
        nodes = {name: {"datadir": str(node.datadir)} for name, node in self.nodes.items()}
        path.write_text(json.dumps(nodes))
        return path

    def crash(self, region: str) -> None:
        """kill -9 the region's postmaster and its backends (its process group)."""
        crash_node(self.nodes[region])

    def writable(self, region: str) -> bool:
        return self.nodes[region].psql("SELECT pg_is_in_recovery()") == "f"


def crash_node(node: PostgresNode) -> None:
    """SIGKILL the node's process group; reap it when this process started it (a zombie would
    look alive to ``pg_ctl status``). Nodes the operator restarted belong to init."""
    if node.process is not None and node.process.running():
        node.process.kill(signal.SIGKILL)
        return
    pid = int((node.datadir / "postmaster.pid").read_text().split()[0])
    os.killpg(pid, signal.SIGKILL)


def start_stores(root: Path) -> LocalStores:
    cluster = PostgresCluster(root / "pg")
    cluster.start()
    password = generate_password()
    cluster.primary.psql(f"ALTER ROLE postgres PASSWORD '{password}'")
    group = RedisGroup(root / "redis")
    group.start()
    return LocalStores(cluster, group, password)


def stop_stores(stores: LocalStores) -> None:
    """Stop the servers, including those the operator's agent restarted with pg_ctl."""
    for node in stores.nodes.values():
        argv = [str(bindir() / "pg_ctl"), "-D", str(node.datadir), "stop", "-m", "immediate"]
        subprocess.run(stores.cluster.run_as.wrap(argv), capture_output=True, check=False)
        with contextlib.suppress(Exception):
            node.stop()
    stores.redis.stop()
