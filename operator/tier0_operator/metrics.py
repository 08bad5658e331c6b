"""Prometheus metrics of the operator (served by ``tier0 operator --metrics-port``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FAILOVERS = Counter("tier0_failovers_total", "Completed switchovers and failovers", ["reason"])
FAILOVER_SECONDS = Histogram(
    "tier0_failover_duration_seconds",
    "Start of a switchover/failover to a validated write on the new primary",
    ["reason"],
    buckets=(0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60),
)
REPLICATION_LAG = Gauge(
    "tier0_replication_lag_bytes", "Primary LSN minus the slowest replica's replay LSN", ["name"]
)
PROBE_FAILURES = Counter(
    "tier0_primary_probe_failures_total", "Failed probes of the primary", ["name"]
)
