"""One supervised server process: started on a loopback port, stopped by its own PID."""

from __future__ import annotations

import logging
import os
import pwd
import secrets
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import port_for
from mirakuru import TCPExecutor
from mirakuru.exceptions import AlreadyRunning, ProcessExitedWithError, TimeoutExpired

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


class StartupError(RuntimeError):
    """A server did not become ready; the message carries the tail of its log."""


def free_port() -> int:
    """A currently unused TCP port on loopback."""
    return int(port_for.select_random())


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
    _executor: TCPExecutor | None = field(default=None, init=False, repr=False)
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
        """Start the process and wait until its port accepts connections."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", buffering=1)
        self._executor = TCPExecutor(
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
            raise StartupError(
                f"{self.name} did not start ({exc.__class__.__name__}); log {self.log_path}:\n"
                f"{log_tail(self.log_path)}"
            ) from exc
        log.info("started %s pid=%s port=%s", self.name, self.pid, self.port)
        return self

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
