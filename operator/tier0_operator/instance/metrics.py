"""Prometheus metrics of the instance manager, served on its HTTP port at ``GET /metrics``
(no token, as ``/healthz``): what it runs, how its fences and rejoins went, its Lease."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

import tier0.common.metrics  # noqa: F401  (registers tier0_uptime_seconds)

if TYPE_CHECKING:
    from tier0_operator.instance.manager import InstanceManager

RUNNING = Gauge("tier0_instance_postgres_running", "1 while this pod's PostgreSQL runs")
STANDBY = Gauge("tier0_instance_standby", "1 while its data directory is set up as a standby")
FENCED = Gauge("tier0_instance_fenced", "1 while the operator's fence keeps it stopped")
SHUTDOWN_SECONDS = Histogram(
    "tier0_instance_fence_shutdown_seconds",
    "Fast shutdowns asked for by the operator's fence: signal to postmaster exit",
    buckets=(0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5),
)
SELF_FENCES = Counter(
    "tier0_instance_self_fences_total", "Stops because it could not confirm it may be primary"
)
LEASE_RENEWALS = Counter(
    "tier0_instance_lease_renewals_total",
    "Renewals of the primary Lease (renewed, absent, lost: held by another region; failed)",
    ["result"],
)
REJOINS = Counter(
    "tier0_instance_rejoins_total",
    "A standby made to follow again, by pg_rewind or clone",
    ["method"],
)


def watch(manager: InstanceManager) -> None:
    """The gauges read ``manager`` at every scrape."""
    RUNNING.set_function(lambda: float(manager.pg.running()))
    STANDBY.set_function(lambda: float(manager.pg.standby()))
    FENCED.set_function(lambda: float(manager.state.fenced))
