"""The instance manager clears a postmaster.pid left by a server that died with its container."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tier0_operator.instance.postgres import Postgres


def _server(datadir: Path) -> Any:
    return Postgres(SimpleNamespace(datadir=datadir))  # type: ignore[arg-type]


def _lock(datadir: Path, pid: int) -> Path:
    lock = datadir / "postmaster.pid"
    lock.write_text(f"{pid}\n{datadir}\n1700000000\n5432\n")
    return lock


def test_a_lock_naming_a_live_process_that_is_not_postgres_is_removed(tmp_path: Path) -> None:
    # In a new container the old PID is often one of the manager's own threads.
    lock = _lock(tmp_path, os.getpid())
    _server(tmp_path)._remove_stale_lock()
    assert not lock.exists()


def test_a_lock_naming_a_process_that_is_gone_is_removed(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    lock = _lock(tmp_path, gone.pid)
    _server(tmp_path)._remove_stale_lock()
    assert not lock.exists()


def test_a_lock_of_a_running_postgres_is_kept(tmp_path: Path) -> None:
    # A process named "postgres" (sleep run under that name): the server still runs, and must
    # not get a twin on the same data directory.
    program = tmp_path / "bin" / "postgres"
    program.parent.mkdir()
    program.symlink_to(shutil.which("sleep") or "/bin/sleep")
    datadir = tmp_path / "data"
    datadir.mkdir()
    postgres = subprocess.Popen([str(program), "30"])
    try:
        comm = Path(f"/proc/{postgres.pid}/comm")
        deadline = time.monotonic() + 10
        while comm.read_text().strip() != "postgres" and time.monotonic() < deadline:
            time.sleep(0.01)
        lock = _lock(datadir, postgres.pid)
        _server(datadir)._remove_stale_lock()
        assert lock.exists()
    finally:
        postgres.kill()
        postgres.wait()


def test_an_unreadable_lock_is_left_to_postgres(tmp_path: Path) -> None:
    lock = tmp_path / "postmaster.pid"
    lock.write_text("not a pid\n")
    _server(tmp_path)._remove_stale_lock()
    assert lock.exists()


def _with_state(tmp_path: Path) -> Any:
    state = SimpleNamespace(datadir=tmp_path / "data", state_dir=tmp_path / "tier0-instance")
    return Postgres(state)  # type: ignore[arg-type]


async def test_a_second_manager_waits_until_no_process_holds_the_volume(tmp_path: Path) -> None:
    """As after a forced pod delete: the old manager is gone but its server still runs (it
    inherited the volume lock); the new manager touches nothing until that server exits."""
    old = _with_state(tmp_path)
    await old.hold_volume()
    server = await asyncio.create_subprocess_exec("sleep", "60", pass_fds=(old.volume_fd,))
    os.close(old.volume_fd)  # the old manager's own hold ends with it
    new = _with_state(tmp_path)
    waiting = asyncio.create_task(new.hold_volume())
    await asyncio.sleep(0.5)
    assert not waiting.done(), "took the volume while the old server still ran"
    server.kill()
    await server.wait()
    await asyncio.wait_for(waiting, 5)
    assert new.volume_fd is not None
