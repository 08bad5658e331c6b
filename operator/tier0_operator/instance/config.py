"""What ``tier0 pg-instance`` is told: flags and environment (in a cluster: the pod spec)."""

from __future__ import annotations

import glob
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tier0.common.postgres import REPLICATION_SETTINGS

SA_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
SUPERUSER = "postgres"
REPLICATION_USER = "replicator"
APP_USER = "tier0"
APP_DATABASE = "tier0"
DEFAULT_HTTP_PORT = 8008


def env_secret(name: str, required: bool = True) -> str | None:
    """``$NAME``, else the contents of the file named by ``$NAME_FILE`` (a mounted Secret)."""
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    if required:
        raise SystemExit(f"set {name} or {name}_FILE")
    return None


def bindir() -> Path:
    """PostgreSQL's server binaries: $TIER0_PG_BINDIR, the newest Debian install, or PATH."""
    if os.environ.get("TIER0_PG_BINDIR"):
        return Path(os.environ["TIER0_PG_BINDIR"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_major, reverse=True)
    if found:
        return Path(found[0]).parent
    on_path = shutil.which("postgres")
    if on_path is None:
        raise SystemExit("PostgreSQL server binaries not found (set TIER0_PG_BINDIR)")
    return Path(on_path).parent


def _major(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def default_namespace() -> str:
    """The pod's namespace (ServiceAccount files), else ``default``."""
    if SA_NAMESPACE_FILE.exists():
        return SA_NAMESPACE_FILE.read_text().strip()
    return "default"


@dataclass(frozen=True)
class Passwords:
    superuser: str
    replication: str
    app: str | None

    @classmethod
    def from_env(cls) -> Passwords:
        superuser = env_secret("TIER0_PG_SUPERUSER_PASSWORD")
        replication = env_secret("TIER0_PG_REPLICATION_PASSWORD")
        assert superuser is not None
        assert replication is not None
        return cls(superuser, replication, env_secret("TIER0_PG_APP_PASSWORD", required=False))


@dataclass(frozen=True)
class InstanceConfig:
    """One region's PostgreSQL node."""

    region: str
    datadir: Path
    port: int
    listen: str
    socket_dir: Path
    run_as: str | None  # an account to drop to when started as root (local mode)
    passwords: Passwords
    namespace: str
    resource: str  # the Tier0Region's name
    http_port: int
    token: str

    @property
    def state_dir(self) -> Path:
        """Next to the data directory (same volume): pg_hba.conf and the manager's log."""
        return self.datadir.parent / "tier0-instance"

    @property
    def hba_file(self) -> Path:
        return self.state_dir / "pg_hba.conf"

    def server_settings(self) -> dict[str, str]:
        """For the postgres command line, which wins over postgresql.conf and
        postgresql.auto.conf, so pg_rewind and pg_basebackup (which copy the source's files)
        cannot change them."""
        return {
            **REPLICATION_SETTINGS,
            "port": str(self.port),
            "listen_addresses": self.listen,
            "unix_socket_directories": str(self.socket_dir),
            "hba_file": str(self.hba_file),
        }

    def wrap(self, argv: list[str]) -> list[str]:
        """Run ``argv`` as the unprivileged account (if any), killed when the manager dies."""
        drop = []
        if self.run_as and os.geteuid() == 0:
            drop = [f"--reuid={self.run_as}", f"--regid={self.run_as}", "--init-groups"]
        return ["setpriv", *drop, "--pdeathsig=KILL", *argv]
