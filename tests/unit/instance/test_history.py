"""Whether a data directory can follow a primary: pg_control against the primary's history."""

from __future__ import annotations

import pytest

from tier0_operator.instance.history import (
    LocalWal,
    PrimaryHistory,
    WalPoint,
    divergence,
    divergence_in_log,
    parse_history,
)

SYSTEM = 7714139715508793325
FORK = 0x302E338  # where timeline 1 ended and the primary's timeline 2 began
ON_2 = PrimaryHistory(SYSTEM, 2, {1: FORK})


def primary_shut_down(timeline: int, checkpoint: int) -> LocalWal:
    """A cleanly stopped primary: its shutdown checkpoint is its last record."""
    return LocalWal(SYSTEM, WalPoint(timeline, checkpoint), None)


def standby_shut_down(replayed: int, checkpoint: int = 0x2000060) -> LocalWal:
    return LocalWal(SYSTEM, WalPoint(1, checkpoint), WalPoint(1, replayed))


CASES = [
    # (id, local, primary, diverged)
    ("handed-over-before-the-fork", primary_shut_down(1, FORK - 0x68), ON_2, False),
    ("wrote-past-the-fork", primary_shut_down(1, 0x30734B8), ON_2, True),
    ("checkpoint-record-at-the-fork", primary_shut_down(1, FORK), ON_2, True),
    ("standby-replayed-up-to-the-fork", standby_shut_down(FORK), ON_2, False),
    ("standby-replayed-past-the-fork", standby_shut_down(FORK + 1), ON_2, True),
    ("standby-restartpoint-past-the-fork", standby_shut_down(FORK + 8, FORK + 8), ON_2, True),
    ("on-the-primary's-timeline", primary_shut_down(2, 0x9000000), ON_2, False),
    ("fresh-clone", LocalWal(SYSTEM, WalPoint(2, 0x4000060), WalPoint(2, 0x4000100)), ON_2, False),
    ("newer-timeline-than-the-primary", primary_shut_down(3, 0x100), ON_2, True),
    ("timeline-off-the-primary's-branch", primary_shut_down(2, 0x100),
     PrimaryHistory(SYSTEM, 4, {1: FORK, 3: 0x5000000}), True),
    ("two-forks-back", standby_shut_down(0x2500000),
     PrimaryHistory(SYSTEM, 3, {1: FORK, 2: 0x5000000}), False),
    ("another-database", LocalWal(SYSTEM + 1, WalPoint(2, 0x100), None), ON_2, True),
    ("primary-in-recovery", primary_shut_down(1, 0x30734B8), PrimaryHistory(SYSTEM, None, {}),
     False),
]  # fmt: skip


@pytest.mark.parametrize(("local", "primary", "diverged"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_divergence(local: LocalWal, primary: PrimaryHistory, diverged: bool) -> None:
    assert (divergence(local, primary) is not None) is diverged


def test_the_reason_names_the_fork_and_the_local_wal() -> None:
    reason = divergence(primary_shut_down(1, 0x30734B8), ON_2)
    assert reason == (
        "the primary's history forked off timeline 1 at 0/302E338, "
        "but this data directory has WAL at 0/30734B8"
    )


def test_parse_history_reads_every_fork() -> None:
    text = "1\t0/302E338\tno recovery target specified\n\n2\t0/5045470\tno recovery target\n"
    assert parse_history(text) == {1: FORK, 2: 0x5045470}


# Lines PostgreSQL 15 logs when a standby cannot follow (log_line_prefix as the manager sets it).
REFUSED = [
    "LOG:  new timeline 4 forked off current database system timeline 3 before current "
    "recovery point 0/5045470",
    "FATAL:  could not start WAL streaming: ERROR:  requested starting point 0/4000000 on "
    "timeline 1 is not in this server's history",
    "FATAL:  requested timeline 2 does not contain minimum recovery point 0/3073480 on timeline 1",
    "FATAL:  requested timeline 2 is not a child of this server's history",
    "FATAL:  database system identifier differs between the primary and standby",
]


@pytest.mark.parametrize("line", REFUSED)
def test_divergence_in_log_finds_the_line(line: str) -> None:
    prefix = "2026-12-01 01:26:00.751 UTC [14157] @ "
    text = f"{prefix}LOG:  started streaming WAL\n{prefix}{line}\n{prefix}LOG:  waiting\n"
    assert divergence_in_log(text) == f"{prefix}{line}"


def test_divergence_in_log_ignores_ordinary_lines() -> None:
    text = (
        "LOG:  started streaming WAL from primary at 0/5000000 on timeline 4\n"
        "FATAL:  could not connect to the primary server: connection refused\n"
        "LOG:  waiting for WAL to become available at 0/5002000\n"
    )
    assert divergence_in_log(text) is None
