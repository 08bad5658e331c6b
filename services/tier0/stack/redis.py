"""Redis master + replica (one per region) watched by three Sentinels (quorum 2)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tier0.stack.base import (
    LOOPBACK,
    ServerProcess,
    StartupError,
    find_binary,
    free_port,
    generate_password,
    start_on_free_ports,
)

MASTER_NAME = "tier0"
SENTINEL_COUNT = 3
QUORUM = 2
DOWN_AFTER_MS = 2000
FAILOVER_TIMEOUT_MS = 10000


@dataclass
class RedisGroup:
    """Data nodes share one password; Sentinels authenticate to them with ``auth-pass``."""

    root: Path
    password: str = field(default_factory=generate_password)
    master_port: int = field(default_factory=free_port)
    replica_port: int = field(default_factory=free_port)
    sentinel_ports: list[int] = field(
        default_factory=lambda: [free_port() for _ in range(SENTINEL_COUNT)]
    )
    processes: list[ServerProcess] = field(default_factory=list)

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        return [(LOOPBACK, port) for port in self.sentinel_ports]

    def start(self, timeout: float = 30.0) -> None:
        # One after the other: the replica's argv and the Sentinels' configs name the master's
        # port, which is only final once the master has started.
        self._start_data_node("redis-region1", replica=False)
        self._start_data_node("redis-region2", replica=True)
        with ThreadPoolExecutor(SENTINEL_COUNT) as pool:
            list(pool.map(self._start_sentinel, range(SENTINEL_COUNT)))
        self.wait_discovered(timeout)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def process(self, name: str) -> ServerProcess:
        return next(p for p in self.processes if p.name == name)

    def _start_data_node(self, name: str, *, replica: bool) -> None:
        def build() -> ServerProcess:
            port = self.replica_port if replica else self.master_port
            workdir = self.root / name
            argv = [find_binary("redis-server"), "--port", str(port), "--bind", LOOPBACK]
            argv += ["--dir", str(workdir), "--save", "", "--appendonly", "no"]
            # Both nodes carry both passwords: either may become master after a failover.
            argv += ["--requirepass", self.password, "--masterauth", self.password]
            if replica:
                argv += ["--replicaof", LOOPBACK, str(self.master_port)]
            return ServerProcess(name, argv, port, workdir)

        def repick() -> None:
            if replica:
                self.replica_port = free_port()
            else:
                self.master_port = free_port()

        self.processes.append(start_on_free_ports(build, repick))

    def _start_sentinel(self, index: int) -> None:
        def repick() -> None:
            self.sentinel_ports[index] = free_port()

        self.processes.append(start_on_free_ports(lambda: self._sentinel(index), repick))

    def _sentinel(self, index: int) -> ServerProcess:
        """Sentinel ``index`` on its current port, its config file written anew."""
        port = self.sentinel_ports[index]
        workdir = self.root / f"sentinel-{index}"
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "sentinel.conf"  # Sentinel rewrites this file as it learns.
        config.write_text(
            f"port {port}\nbind {LOOPBACK}\ndir {workdir}\n"
            f"sentinel monitor {MASTER_NAME} {LOOPBACK} {self.master_port} {QUORUM}\n"
            f"sentinel auth-pass {MASTER_NAME} {self.password}\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {MASTER_NAME} 1\n"
        )
        argv = [find_binary("redis-server"), str(config), "--sentinel"]
        return ServerProcess(f"sentinel-{index}", argv, port, workdir)

    def wait_discovered(self, timeout: float) -> None:
        """Wait until every Sentinel knows the replica and the other Sentinels.

        Until then ``SENTINEL FAILOVER`` fails with NOGOODSLAVE and quorum cannot be reached.
        """
        deadline = time.monotonic() + timeout
        while not all(self._sentinel_ready(port) for port in self.sentinel_ports):
            if time.monotonic() > deadline:
                raise StartupError(f"Sentinels did not discover each other in {timeout} s")
            time.sleep(0.2)

    def _sentinel_ready(self, port: int) -> bool:
        with redis.Redis(LOOPBACK, port, decode_responses=True) as client:
            master = client.sentinel_master(MASTER_NAME)
            replicas = client.sentinel_slaves(MASTER_NAME)
        healthy = [
            r for r in replicas if "s_down" not in r["flags"] and r["master-link-status"] == "ok"
        ]
        return int(master["num-other-sentinels"]) == SENTINEL_COUNT - 1 and len(healthy) >= 1
