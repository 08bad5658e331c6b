"""One supervised server process: started on a loopback port, stopped by its own PID."""

from __future__ import annotations

import logging
import os
import pwd
import random
import secrets
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mirakuru import TCPExecutor
from mirakuru.exceptions import AlreadyRunning, ProcessExitedWithError, TimeoutExpired

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


# Ports are picked from here: above the ports other software registers and listens on by
# default, and below Kubernetes' NodePort range (30000-32767), which kube-proxy may claim on
# this host. The kernel's ephemeral range is taken out at run time (see ``port_candidates``).
PORT_RANGE = range(20000, 30000)
# Defaults inside PORT_RANGE that a developer's machine may well be serving already (MongoDB,
# its web status, CockroachDB, RabbitMQ's distribution port, Minecraft).
HOT_PORTS = frozenset({25565, 25672, 26257, 27017, 27018, 27019, 28017})
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# A start that meets a taken port re-picks and tries again this many times in all.
PORT_ATTEMPTS = 5
# What servers print when their bind() fails (PostgreSQL, Redis, Go, Python, Erlang's atom).
PORT_TAKEN_MESSAGES = ("address already in use", "eaddrinuse", "dist_port_already_used")

_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


class StartupError(RuntimeError):
    """A server did not become ready; the message carries the tail of its log."""


class PortTaken(StartupError):
    """The server's port was taken by another process; a fresh port would do."""


def ephemeral_range(path: Path = EPHEMERAL_RANGE_FILE) -> range:
    """The kernel's source-port range for outgoing connections, as configured now."""
    low, high = path.read_text().split()[:2]
    return range(int(low), int(high) + 1)


def port_candidates(ephemeral: range | None = None) -> list[int]:
    """PORT_RANGE without the ephemeral range and HOT_PORTS.

    A listening port inside the ephemeral range can be taken at any moment by some client's
    source port, and a connect() to it from loopback can even reach itself (a TCP
    self-connect), so a free port would look taken.
    """
    ephemeral = ephemeral_range() if ephemeral is None else ephemeral
    ports = [p for p in PORT_RANGE if p not in ephemeral and p not in HOT_PORTS]
    if not ports:
        raise StartupError(
            f"no port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1} lies outside the kernel's "
            f"ephemeral range {ephemeral.start}-{ephemeral.stop - 1} "
            f"({EPHEMERAL_RANGE_FILE}); narrow that range"
        )
    return ports


def _bindable(port: int) -> bool:
    # Without SO_REUSEADDR, so a port with connections in TIME_WAIT counts as taken too.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """An unused loopback port outside the ephemeral range, never handed out twice by this
    process (stores start in parallel threads, and a picked port stays free until its server
    binds it)."""
    with _handed_out_lock:
        choices = [p for p in port_candidates() if p not in _handed_out]
        for port in random.sample(choices, min(len(choices), 100)):
            if _bindable(port):
                _handed_out.add(port)
                return port
    raise StartupError("no free loopback port found (100 tried)")


def start_on_free_ports(
    build: Callable[[], ServerProcess],
    repick: Callable[[], None],
    *,
    attempts: int = PORT_ATTEMPTS,
) -> ServerProcess:
    """Start ``build()``'s server; when one of its ports turns out taken, ``repick()`` the
    ports and build again (so argv, config files and environment carry the new ones).

    Another process can take a port between ``free_port()`` and the server's bind; only a
    first start may move, a restart must keep the port its clients know.
    """
    for attempt in range(1, attempts + 1):
        try:
            return build().start()
        except PortTaken as exc:
            if attempt == attempts:
                raise
            log.warning(
                "%s; retrying on fresh ports (attempt %d)", str(exc).splitlines()[0], attempt
            )
            repick()
    raise AssertionError("unreachable")


def generate_password() -> str:
    """A random password for a local store (URL-safe, so it can sit inside DSNs)."""
    return secrets.token_urlsafe(18)


def log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, or a note that it is missing."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no log at {path})"


def find_binary(name: str, *candidates: str) -> str:
    """Absolute path of ``name`` on PATH or at one of ``candidates``; raises if absent."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise StartupError(f"`{name}` is not installed; run `make setup` (or `tier0 setup`)")


@dataclass(frozen=True)
class RunAs:
    """An unprivileged account for servers that refuse to run as root (PostgreSQL)."""

    user: str

    @property
    def needed(self) -> bool:
        return os.geteuid() == 0

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """``argv`` prefixed with setpriv, which execs in place so the PID stays the server's."""
        if not self.needed:
            return list(argv)
        return ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--init-groups", *argv]

    def own(self, path: Path) -> None:
        """Give ``path`` (recursively) to the account when running as root."""
        if not self.needed:
            return
        entry = pwd.getpwnam(self.user)
        for item in [path, *path.rglob("*")]:
            os.chown(item, entry.pw_uid, entry.pw_gid)


class _ListeningExecutor(TCPExecutor):
    """Also gives up when the server exits with status 0 before it listens: mirakuru only
    notices a non-zero exit, and RabbitMQ's start script exits 0 whatever happened to the node,
    which would turn a failed start into a wait for the whole timeout."""

    def check_subprocess(self) -> bool:
        if self.process is not None and self.process.poll() == 0:
            raise ProcessExitedWithError(self, 0)
        return bool(super().check_subprocess())


@dataclass
class ServerProcess:
    """A server started in ``workdir`` that is ready once it accepts TCP on ``port``."""

    name: str
    argv: list[str]
    port: int
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM
    timeout: float = 90.0
    _executor: _ListeningExecutor | None = field(default=None, init=False, repr=False)
    _log: IO[Any] | None = field(default=None, init=False, repr=False)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        if self._executor is None or self._executor.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return int(self._executor.process.pid)

    def running(self) -> bool:
        return self._executor is not None and bool(self._executor.running())

    def start(self) -> ServerProcess:
        """Start the process and wait until its port accepts connections.

        Raises PortTaken when something else holds the port, StartupError on any other failure.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", buffering=1)
        log_start = self._log.tell()
        self._executor = _ListeningExecutor(
            self.argv,
            host=LOOPBACK,
            port=self.port,
            cwd=str(self.workdir),
            envvars=self.env,
            timeout=self.timeout,
            stop_signal=self.stop_signal,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._executor.start()
        except (ProcessExitedWithError, TimeoutExpired, AlreadyRunning) as exc:
            self.kill()
            error = PortTaken if self._port_taken(exc, log_start) else StartupError
            raise error(
                f"{self.name} did not start on port {self.port} ({exc.__class__.__name__}); "
                f"log {self.log_path}:\n{log_tail(self.log_path)}"
            ) from exc
        log.info("started %s pid=%s port=%s", self.name, self.pid, self.port)
        return self

    def _port_taken(self, exc: Exception, log_start: int) -> bool:
        """Something answered on the port before we started, or this start's log says bind()
        failed."""
        if isinstance(exc, AlreadyRunning):
            return True
        with self.log_path.open(errors="replace") as logged:
            logged.seek(log_start)
            text = logged.read().lower()
        return any(message in text for message in PORT_TAKEN_MESSAGES)

    def stop(self) -> None:
        """Stop gracefully with ``stop_signal`` (the process group), SIGKILL after the timeout."""
        if self._executor is not None:
            try:
                self._executor.stop()
            except (ProcessExitedWithError, TimeoutExpired) as exc:
                log.warning("%s stopped uncleanly: %s", self.name, exc)
                self._executor.kill()
        self._close_log()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the process group at once (crash simulation and cleanup)."""
        if self._executor is not None:
            self._executor.kill(sig=sig)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
