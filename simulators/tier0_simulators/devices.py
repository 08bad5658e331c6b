"""The device simulator loop: every cycle, a random sample of the fleet publishes one reading.

Readings go out in chunks that share one timestamp (milliseconds, strictly increasing from one
chunk to the next), so no device ever publishes two readings with the same timestamp: every
published message is a distinct ``(device_id, timestamp_utc)`` row downstream, which is what
lets tests and benchmarks account for every message exactly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from tier0_simulators.fleet import Fleet
from tier0_simulators.publisher import WindowedPublisher

CHUNK = 250


@dataclass(frozen=True)
class SimulationConfig:
    devices_per_cycle: int = 1000
    interval_seconds: float = 5.0
    cycles: int = 0  # 0: until stopped
    duration_seconds: float = 0.0  # 0: no time limit


@dataclass
class SimulationProgress:
    cycles: int = 0
    published: int = 0
    acked: int = 0
    started: float = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


ProgressCallback = Callable[[SimulationProgress], None]


class TimestampClock:
    """ISO-8601 UTC timestamps with milliseconds, strictly increasing between calls."""

    def __init__(self) -> None:
        self._last_ms = 0

    def next(self) -> str:
        self._last_ms = max(time.time_ns() // 1_000_000, self._last_ms + 1)
        moment = datetime.fromtimestamp(self._last_ms / 1000, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_simulation(
    fleet: Fleet,
    publisher: WindowedPublisher,
    config: SimulationConfig,
    *,
    stop: threading.Event | None = None,
    on_progress: ProgressCallback | None = None,
) -> SimulationProgress:
    """Publish cycles until ``config`` says stop (or ``stop`` is set); returns the totals."""
    stop = stop or threading.Event()
    progress = SimulationProgress(started=time.monotonic())
    clock = TimestampClock()
    per_cycle = min(config.devices_per_cycle, fleet.size)
    while not _finished(config, progress, stop):
        cycle_start = time.monotonic()
        devices = fleet.rng.choice(fleet.size, per_cycle, replace=False)
        _publish_cycle(fleet, publisher, devices, clock, lambda: _finished(config, progress, stop))
        progress.cycles += 1
        progress.published = publisher.published
        progress.acked = publisher.acked
        if on_progress is not None:
            on_progress(progress)
        remaining = config.interval_seconds - (time.monotonic() - cycle_start)
        if remaining > 0 and not _finished(config, progress, stop):
            stop.wait(remaining)
    return progress


def _publish_cycle(
    fleet: Fleet,
    publisher: WindowedPublisher,
    devices: np.ndarray,
    clock: TimestampClock,
    finished: Callable[[], bool],
) -> None:
    for start in range(0, len(devices), CHUNK):
        if finished():
            return
        for topic, payload in fleet.readings(devices[start : start + CHUNK], clock.next()):
            publisher.publish(topic, payload)


def _finished(
    config: SimulationConfig, progress: SimulationProgress, stop: threading.Event
) -> bool:
    if stop.is_set():
        return True
    if config.cycles and progress.cycles >= config.cycles:
        return True
    return bool(config.duration_seconds and progress.elapsed >= config.duration_seconds)
