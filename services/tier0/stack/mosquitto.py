"""Mosquitto MQTT broker with persistence and password authentication."""

from __future__ import annotations

import getpass
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tier0.stack.base import (
    LOOPBACK,
    ServerProcess,
    StartupError,
    find_binary,
    free_port,
    generate_password,
    start_on_free_ports,
)

MQTT_USER = "tier0"


@dataclass
class Mosquitto:
    """One broker; QoS 1 messages for offline persistent sessions survive a restart."""

    root: Path
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=generate_password)
    process: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{MQTT_USER}:{self.password}@{LOOPBACK}:{self.port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        passwords = self.root / "passwords"
        proc = subprocess.run(
            [find_binary("mosquitto_passwd"), "-b", "-c", str(passwords), MQTT_USER, self.password],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise StartupError(f"mosquitto_passwd failed: {proc.stderr.strip()}")
        self.process = start_on_free_ports(lambda: self._server(passwords), self._repick_port)

    def _repick_port(self) -> None:
        self.port = free_port()

    def _server(self, passwords: Path) -> ServerProcess:
        """The broker on ``self.port``, its configuration (which holds the port) written anew."""
        config = self.root / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} {LOOPBACK}\n"
            # Without this, mosquitto started as root drops to a `mosquitto` account that
            # cannot write our temporary directory.
            f"user {getpass.getuser()}\n"
            "allow_anonymous false\n"
            f"password_file {passwords}\n"
            "persistence true\n"
            f"persistence_location {self.root}/\n"
            "autosave_interval 1\n"
            # Offline persistent sessions queue QoS 1 messages; the default cap (1000)
            # would drop them under load.
            "max_queued_messages 1000000\n"
            "max_inflight_messages 0\n"
            "log_dest stdout\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
        )
        argv = [find_binary("mosquitto", "/usr/sbin/mosquitto"), "-c", str(config)]
        return ServerProcess("mosquitto", argv, self.port, self.root)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def restart(self) -> None:
        """Stop gracefully (persisting sessions) and start again on the same port."""
        if self.process is None:
            raise RuntimeError("mosquitto was never started")
        self.process.stop()
        self.process.start()
