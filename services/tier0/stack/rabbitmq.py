"""A private RabbitMQ node: own node name, ports, Erlang port mapper and data directory."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from tier0.stack.base import (
    LOOPBACK,
    ServerProcess,
    StartupError,
    free_port,
    generate_password,
    start_on_free_ports,
)

AMQP_USER = "tier0"


def server_script() -> str:
    """The real server script (Debian's /usr/sbin wrapper insists on a `rabbitmq` account)."""
    versioned = sorted(glob.glob("/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server"))
    for candidate in ["/usr/lib/rabbitmq/bin/rabbitmq-server", *versioned]:
        if os.access(candidate, os.X_OK):
            return candidate
    raise StartupError("rabbitmq-server is not installed; run `make setup`")


@dataclass
class RabbitMQ:
    """The node's variables go to the server process only, never to the calling shell."""

    root: Path
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    epmd_port: int = field(default_factory=free_port)
    password: str = field(default_factory=generate_password)
    process: ServerProcess | None = None

    @property
    def nodename(self) -> str:
        return f"tier0-{self.port}@localhost"

    @property
    def url(self) -> str:
        return f"amqp://{AMQP_USER}:{self.password}@{LOOPBACK}:{self.port}/"

    def environment(self) -> dict[str, str]:
        return {
            "HOME": str(self.root),  # the Erlang cookie is created here
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.root / "rabbitmq.pid"),
        }

    def start(self, timeout: float = 120.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "enabled_plugins").write_text("[].\n")
        self.process = start_on_free_ports(lambda: self._server(timeout), self._repick_ports)

    def _repick_ports(self) -> None:
        # Any of the three may be the taken one; the node name follows the AMQP port.
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()

    def _server(self, timeout: float) -> ServerProcess:
        """The node on the current ports: its config file and environment written anew."""
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = {LOOPBACK}:{self.port}\n"
            f"default_user = {AMQP_USER}\n"
            f"default_pass = {self.password}\n"
            "default_user_tags.administrator = true\n"
            "default_permissions.configure = .*\n"
            "default_permissions.read = .*\n"
            "default_permissions.write = .*\n"
            "log.console = true\n"
            "log.console.level = info\n"
            "log.file = false\n"
            "disk_free_limit.absolute = 50MB\n"
        )
        argv = [server_script()]
        return ServerProcess(
            "rabbitmq", argv, self.port, self.root, env=self.environment(), timeout=timeout
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def restart(self) -> None:
        if self.process is None:
            raise RuntimeError("rabbitmq was never started")
        self.process.stop()
        self.process.start()
