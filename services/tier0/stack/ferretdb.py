"""FerretDB v1: the MongoDB wire protocol on top of the PostgreSQL primary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tier0.setup.gotools import FERRETDB
from tier0.stack.base import (
    LOOPBACK,
    ServerProcess,
    StartupError,
    free_port,
    start_on_free_ports,
)

DATABASE = "ferretdb"


@dataclass
class FerretDB:
    """Stores its documents in ``postgres_dsn()``'s database as JSONB tables."""

    root: Path
    # Called at start: the PostgreSQL primary's port is only final once it has started.
    postgres_dsn: Callable[[], str]
    port: int = field(default_factory=free_port)
    debug_port: int = field(default_factory=free_port)
    process: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"mongodb://{LOOPBACK}:{self.port}/"

    def start(self) -> None:
        binary = FERRETDB.path("ferretdb")
        if not binary.exists():
            raise StartupError(f"FerretDB is not built ({binary}); run `make setup`")
        self.root.mkdir(parents=True, exist_ok=True)
        self.process = start_on_free_ports(lambda: self._server(binary), self._repick_ports)

    def _repick_ports(self) -> None:
        self.port, self.debug_port = free_port(), free_port()

    def _server(self, binary: Path) -> ServerProcess:
        argv = [str(binary), "--handler=postgresql", f"--postgresql-url={self.postgres_dsn()}"]
        argv += [f"--listen-addr={LOOPBACK}:{self.port}", f"--state-dir={self.root}"]
        argv += [f"--debug-addr={LOOPBACK}:{self.debug_port}", "--telemetry=disable"]
        argv += ["--log-format=json", "--log-level=info"]
        return ServerProcess("ferretdb", argv, self.port, self.root)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
