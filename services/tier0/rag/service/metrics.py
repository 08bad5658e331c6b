"""Prometheus metrics of the query service, in a registry of its own (one per app)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram


def _registry() -> CollectorRegistry:
    return CollectorRegistry()


@dataclass
class ServiceMetrics:
    """Queries by source and outcome, cache hits and misses, answer latency."""

    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        self.queries = Counter(
            "tier0_rag_queries_total",
            "Questions answered, by source consulted.",
            ["source"],
            registry=self.registry,
        )
        self.cache = Counter(
            "tier0_rag_cache_total",
            "Answer cache lookups, by result (hit or miss).",
            ["result"],
            registry=self.registry,
        )
        # Both results exported from the start, so a hit ratio reads 0 before the first hit.
        for result in ("hit", "miss"):
            self.cache.labels(result)
        self.rejected = Counter(
            "tier0_rag_rejected_total",
            "Requests refused with a 4xx problem, by status.",
            ["status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tier0_rag_answer_seconds",
            "Time to answer a question that missed the cache.",
            registry=self.registry,
        )
