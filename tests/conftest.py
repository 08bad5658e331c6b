"""Session-wide fixtures: the real data stores, started once and shared by every test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tier0.stack.harness import Harness

STARTUP_KEY = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """All stores as local processes; their logs are kept when any test failed."""
    harness = Harness()
    with harness:
        request.config.stash[STARTUP_KEY] = harness.startup_seconds
        yield harness
        harness.keep = request.session.testsfailed > 0


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the harness start-up time (a budget we watch, not an assertion)."""
    seconds = config.stash.get(STARTUP_KEY, None)
    if seconds is not None:
        terminalreporter.write_line(f"tier0 stack (all data stores) up in {seconds:.1f} s")


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger("tier0").setLevel(logging.INFO)
