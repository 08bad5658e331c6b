"""A cluster component that outlives the command that started it, tracked by a PID file.

``tier0 cluster up`` returns while the node keeps running, so these processes cannot belong to
the starting Python process (mirakuru stops its children when the interpreter exits). Each one
runs in a session of its own, writes to its own log, and is stopped by the PID in its file;
the start time recorded beside the PID tells a reused PID from ours.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tier0.stack.base import StartupError, log_tail

log = logging.getLogger(__name__)

STOP_TIMEOUT = 30.0

# Children started by this process (tests start the node in-process), kept so that they are
# reaped by ``stop`` rather than reported as leaked by ``Popen.__del__``.
_children: dict[int, subprocess.Popen[bytes]] = {}


def _start_ticks(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks), or None if there is no such PID."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces; it is the only field in parentheses.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19]


@dataclass
class Daemon:
    """One long-running component: ``argv`` logged to ``log_path``, PID kept in ``pid_file``."""

    name: str
    argv: Sequence[str]
    log_path: Path
    pid_file: Path
    env: dict[str, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM
    # Signal the whole process group (a shell loop and its child), not just the leader.
    group: bool = False

    def pid(self) -> int | None:
        """The PID of this component if it is running (and is still the process we started)."""
        try:
            pid_text, ticks = self.pid_file.read_text().split()
        except (FileNotFoundError, ValueError):
            return None
        pid = int(pid_text)
        return pid if _start_ticks(pid) == ticks else None

    def running(self) -> bool:
        pid = self.pid()
        return pid is not None and _alive(pid)

    def start(self) -> int:
        """Start the process detached; returns its PID. Refuses to start a second copy."""
        if self.running():
            raise StartupError(f"{self.name} is already running (pid {self.pid()})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            proc = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        _children[proc.pid] = proc
        ticks = _start_ticks(proc.pid)
        self.pid_file.write_text(f"{proc.pid} {ticks}\n")
        log.info("started %s pid=%s", self.name, proc.pid)
        return proc.pid

    def wait_ready(self, check: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Poll ``check`` until it is true; fail with the log's tail if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise StartupError(
                    f"{self.name} exited before {what}; log {self.log_path}:\n"
                    f"{log_tail(self.log_path)}"
                )
            if check():
                return
            time.sleep(0.2)
        raise StartupError(
            f"{self.name} not ready after {timeout:.0f} s ({what}); log {self.log_path}:\n"
            f"{log_tail(self.log_path)}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Send ``stop_signal``, wait for the exit, then SIGKILL; forget the PID file."""
        pid = self.pid()
        if pid is not None:
            _signal_and_wait(pid, self.stop_signal, timeout, group=self.group)
            if self.running():
                log.warning("%s did not stop in %.0f s; killing it", self.name, timeout)
                _signal_and_wait(pid, signal.SIGKILL, 10.0, group=self.group)
        self.pid_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and has not exited (a zombie awaiting its parent has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _signal_and_wait(pid: int, sig: int, timeout: float, *, group: bool = False) -> None:
    try:
        # start_new_session made the daemon its group's leader: its PID is the group's ID.
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return
    child = _children.get(pid)
    if child is not None:
        try:
            child.wait(timeout)
            del _children[pid]
        except subprocess.TimeoutExpired:
            pass
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
