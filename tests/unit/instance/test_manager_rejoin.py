"""When the instance manager rejoins a standby, with PostgreSQL and the rejoin faked: a history
found diverged before the start, a server that says so as it starts or while it runs, and a
rewind that did not help (a clone then)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client

from tier0_operator.instance.manager import InstanceManager
from tier0_operator.instance.postgres import CommandFailed, Following, Source

FOLLOWING = Following(Source("10.0.0.2", 5432), "region1")
FORKED = "LOG:  new timeline 2 forked off current database system timeline 1 before current"


class FakePostgres:
    """Starts fail while ``start_failures`` lasts, each leaving ``start_log`` in the log."""

    def __init__(self, start_failures: int = 0, start_log: str = "") -> None:
        self.start_failures = start_failures
        self.start_log = start_log
        self.log = ""
        self.up = False
        self.starts = 0

    def following(self) -> Following | None:
        return FOLLOWING

    def running(self) -> bool:
        return self.up

    async def start(self) -> None:
        self.starts += 1
        if self.start_failures:
            self.start_failures -= 1
            self.log += self.start_log
            raise CommandFailed("postgres exited at start")
        self.up = True

    async def stop(self, mode: str = "fast") -> None:
        self.up = False

    def new_log(self) -> str:
        text, self.log = self.log, ""
        return text


class FakeRejoiner:
    def __init__(self, diverged: str | None = None) -> None:
        self.diverged = diverged
        self.calls: list[tuple[str, bool]] = []

    async def divergence(self, source: Source) -> str | None:
        return self.diverged

    async def rejoin(self, following: Following, reason: str, *, clone: bool = False) -> str:
        self.calls.append((reason, clone))
        return "clone" if clone else "rewind"


def manager(postgres: FakePostgres, rejoiner: FakeRejoiner) -> InstanceManager:
    config: Any = SimpleNamespace(datadir=Path("/nonexistent"), namespace="ns", resource="tier0")
    made = InstanceManager(config, client.ApiClient())
    made.pg = postgres  # type: ignore[assignment]
    made.rejoiner = rejoiner  # type: ignore[assignment]
    return made


async def test_a_history_found_diverged_is_rewound_before_the_start() -> None:
    postgres, rejoiner = FakePostgres(), FakeRejoiner(diverged="forked at 0/302E338")
    await manager(postgres, rejoiner)._start_following()
    assert rejoiner.calls == [("forked at 0/302E338", False)]
    assert (postgres.up, postgres.starts) == (True, 1)


async def test_a_standby_that_can_follow_just_starts() -> None:
    postgres, rejoiner = FakePostgres(), FakeRejoiner()
    await manager(postgres, rejoiner)._start_following()
    assert rejoiner.calls == []
    assert postgres.up


async def test_a_start_refused_for_the_history_rejoins_and_starts_again() -> None:
    fatal = "FATAL:  requested timeline 2 is not a child of this server's history\n"
    postgres, rejoiner = FakePostgres(start_failures=1, start_log=fatal), FakeRejoiner()
    await manager(postgres, rejoiner)._start_following()
    assert rejoiner.calls == [(f"server log: {fatal.strip()}", False)]
    assert (postgres.up, postgres.starts) == (True, 2)


async def test_a_start_refused_right_after_a_rewind_clones() -> None:
    fatal = "FATAL:  requested timeline 2 does not contain minimum recovery point 0/3073480\n"
    postgres = FakePostgres(start_failures=1, start_log=fatal)
    rejoiner = FakeRejoiner(diverged="forked at 0/302E338")
    await manager(postgres, rejoiner)._start_following()
    assert [clone for _, clone in rejoiner.calls] == [False, True]
    assert postgres.up


async def test_a_start_failing_for_another_reason_is_not_a_rejoin() -> None:
    postgres = FakePostgres(start_failures=1, start_log="FATAL:  could not open pg_control\n")
    rejoiner = FakeRejoiner()
    with pytest.raises(CommandFailed):
        await manager(postgres, rejoiner)._start_following()
    assert rejoiner.calls == []


async def test_a_running_standby_refused_by_its_primary_stops_and_rejoins() -> None:
    postgres, rejoiner = FakePostgres(), FakeRejoiner()
    managed = manager(postgres, rejoiner)
    await managed._start_following()
    await managed._watch_following()
    assert rejoiner.calls == []
    postgres.log = f"{FORKED}\n"
    await managed._watch_following()
    assert rejoiner.calls == [(f"server log: {FORKED}", False)]
    assert (postgres.up, postgres.starts) == (True, 2)
    postgres.log = f"{FORKED}\n"  # the rewind did not help: a clone this time
    await managed._watch_following()
    assert rejoiner.calls[-1] == (f"server log: {FORKED}", True)
