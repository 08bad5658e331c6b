"""Named setup steps that report progress and fail with a message naming the step."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.console import Console

console = Console(stderr=True, highlight=False)


class SetupError(RuntimeError):
    """A setup step failed; the message names the step and the reason."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"setup step '{step}' failed: {reason}")
        self.step = step
        self.reason = reason


@dataclass
class StepReport:
    """Timings of the steps run so far, printed at the end of ``tier0 setup``."""

    timings: list[tuple[str, float, str]] = field(default_factory=list)

    def run(self, step: str, action: Callable[[], str]) -> None:
        """Run ``action`` under a spinner; it returns a short outcome ("cached", "built", ...)."""
        started = time.monotonic()
        with console.status(f"[bold]{step}[/bold] ..."):
            outcome = action()
        elapsed = time.monotonic() - started
        self.timings.append((step, elapsed, outcome))
        console.print(f"[green]ok[/green] {step}: {outcome} ({elapsed:.1f} s)")


def run_command(step: str, argv: Sequence[str], **kwargs: object) -> str:
    """Run a command for ``step``; on failure raise ``SetupError`` with the tail of its output."""
    proc = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise SetupError(step, f"`{' '.join(argv)}` exited {proc.returncode}:\n{tail}")
    return str(proc.stdout)
