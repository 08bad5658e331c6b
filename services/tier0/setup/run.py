"""``tier0 setup``: every install step in order, each reported with its timing."""

from __future__ import annotations

import functools
import time

from tier0.setup import apt, gotools
from tier0.setup.steps import StepReport, console


def run_setup(
    *, with_apt: bool = True, tools: tuple[gotools.GoTool, ...] = gotools.ALL_TOOLS
) -> None:
    """Install Debian packages, then build the pinned Go tools; raises ``SetupError``."""
    started = time.monotonic()
    report = StepReport()
    if with_apt:
        report.run(apt.STEP, apt.ensure_packages)
    for tool in tools:
        report.run(f"build {tool.name} {tool.version}", functools.partial(gotools.build, tool))
    console.print(f"setup complete in {time.monotonic() - started:.1f} s")
