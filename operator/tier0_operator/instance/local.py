"""Local mode: one ``tier0 pg-instance`` process per region, as the kubelet would run the pods.

Tests and the failover benchmark start PostgreSQL only this way, so they exercise the code the
cluster runs. Each manager is the leader of its own process group: killing the group is the
local equivalent of a pod that vanishes (manager and PostgreSQL together).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tier0_operator.instance.config import SUPERUSER, bindir

TIER0 = Path(sys.executable).parent / "tier0"


@dataclass(frozen=True)
class Secrets:
    superuser: str
    replication: str
    app: str
    token: str


@dataclass
class LocalInstance:
    region: str
    root: Path
    port: int
    http_port: int
    namespace: str
    kubeconfig: Path
    secrets: Secrets
    run_as: str = "postgres"
    resource: str = "tier0"
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log(self) -> Path:
        return self.root / f"manager-{self.starts}.log"

    def start(self) -> None:
        """Start the manager (it decides how PostgreSQL starts); returns at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        # The unprivileged account must reach its data directory through (0700) temp dirs.
        for directory in (self.root, *self.root.parents):
            if not directory.stat().st_mode & 0o001:
                directory.chmod(directory.stat().st_mode | 0o001)
        self.starts += 1
        argv = [str(TIER0), "pg-instance", "--region", self.region, "--datadir",
                str(self.datadir), "--port", str(self.port), "--listen", "127.0.0.1",
                "--http-port", str(self.http_port), "--namespace", self.namespace,
                "--resource", self.resource, "--run-as", self.run_as]  # fmt: skip
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "TIER0_PG_SUPERUSER_PASSWORD": self.secrets.superuser,
            "TIER0_PG_REPLICATION_PASSWORD": self.secrets.replication,
            "TIER0_PG_APP_PASSWORD": self.secrets.app,
            "TIER0_INSTANCE_TOKEN": self.secrets.token,
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole group (manager and PostgreSQL): the pod vanishes."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=60)
        self.process = None

    def stop(self) -> None:
        """SIGTERM to the manager, which stops PostgreSQL cleanly (as a pod deletion does)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def postmaster_pid(self) -> int:
        return int((self.datadir / "postmaster.pid").read_text().split()[0])

    def psql(self, sql: str, database: str = "postgres") -> str:
        """SQL as the superuser over the Unix socket; raises on failure."""
        argv = [str(bindir() / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h",
                str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, "-d", database,
                "-c", sql]  # fmt: skip
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"psql on {self.region} failed: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def answers(self, sql: str, database: str = "postgres") -> str | None:
        try:
            return self.psql(sql, database)
        except (RuntimeError, subprocess.TimeoutExpired):
            return None

    def wait_role(self, role: str, timeout: float = 120.0) -> None:
        """Until PostgreSQL runs as ``primary`` or ``replica`` (streaming)."""
        query = (
            "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 'primary' WHEN EXISTS "
            "(SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 'replica' END"
        )
        deadline = time.monotonic() + timeout
        while self.answers(query) != role:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.region}'s manager exited; log {self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.region} not {role} after {timeout} s; log {self.log}")
            time.sleep(0.1)
