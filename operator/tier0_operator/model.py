"""The Tier0Region spec as typed values, one class per CRD object (crds/tier0region.yaml)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GROUP = "tier0.io"
VERSION = "v1alpha1"
PLURAL = "tier0regions"
KIND = "Tier0Region"
FORCE_ANNOTATION = "tier0.io/force-failover"
FAILBACK_ANNOTATION = "tier0.io/failback"
# Region names become replication slot names (lowercase letters, digits, underscore) and parts
# of Service names (DNS labels): only lowercase letters and digits satisfy both.
REGION_NAME = re.compile(r"[a-z0-9]{1,40}")
RW_SERVICE_PORT = 5432  # the -rw Service the operator keeps


@dataclass(frozen=True)
class Endpoint:
    """A server addressed by a Service name (in-cluster) or a host (external or local mode)."""

    port: int
    service: str | None = None
    host: str | None = None
    agent_port: int = 8008  # the instance manager's HTTP API (PostgreSQL endpoints only)

    def address(self, namespace: str) -> str:
        """The host name to dial: the Service's cluster DNS name, or the host as given."""
        if self.host is not None:
            return self.host
        return f"{self.service}.{namespace}.svc"

    @classmethod
    def parse(cls, raw: Mapping[str, Any], default_port: int) -> Endpoint:
        return cls(
            int(raw.get("port", default_port)),
            raw.get("service"),
            raw.get("host"),
            int(raw.get("agentPort", 8008)),
        )

    def agent_url(self, namespace: str) -> str:
        return f"http://{self.address(namespace)}:{self.agent_port}"


@dataclass(frozen=True)
class Region:
    name: str
    postgres: Endpoint
    redis: Endpoint


@dataclass(frozen=True)
class SentinelSpec:
    service: str
    hosts: tuple[str, ...]
    port: int
    master_name: str

    def addresses(self, namespace: str) -> list[tuple[str, int]]:
        """(host, port) of every Sentinel: the listed hosts, else the Service."""
        if self.hosts:
            return [(h.rpartition(":")[0], int(h.rpartition(":")[2])) for h in self.hosts]
        return [(f"{self.service}.{namespace}.svc", self.port)]


@dataclass(frozen=True)
class FailoverPolicy:
    automatic: bool
    unhealthy_after_seconds: int
    probe_timeout_seconds: int
    catch_up_timeout_seconds: int
    max_lag_bytes: int
    synchronous: bool
    switchover_timeout_seconds: int = 120

    @property
    def lease_seconds(self) -> int:
        """The primary Lease's duration: an unreachable primary has fenced itself by the time
        the operator decides to fail over (detection and Lease expiry overlap)."""
        return self.unhealthy_after_seconds


@dataclass(frozen=True)
class Tier0RegionSpec:
    """Mirror of ``spec`` (the API server has applied the CRD defaults already)."""

    active_region: str
    credentials_secret: str
    regions: tuple[Region, ...]
    sentinel: SentinelSpec
    rw_service: str
    failover: FailoverPolicy

    def region(self, name: str) -> Region:
        return next(r for r in self.regions if r.name == name)

    def read_write_path(self, namespace: str) -> tuple[list[str], list[int]]:
        """Where clients write: the -rw Service when every region's PostgreSQL is a Service
        (in a cluster, where -rw selects the primary's pod); else, with servers given by host
        (no pods behind -rw), every region's address, for a multi-host read-write DSN."""
        if all(r.postgres.host is None for r in self.regions):
            rw = Endpoint(RW_SERVICE_PORT, service=self.rw_service)
            return [rw.address(namespace)], [rw.port]
        return [r.postgres.address(namespace) for r in self.regions], [
            r.postgres.port for r in self.regions
        ]

    def others(self, name: str) -> list[Region]:
        return [r for r in self.regions if r.name != name]

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> Tier0RegionSpec:
        for raw in spec["regions"]:
            if not REGION_NAME.fullmatch(raw["name"]):
                raise ValueError(f"region name {raw['name']!r} must match {REGION_NAME.pattern}")
        regions = tuple(
            Region(
                r["name"],
                Endpoint.parse(r.get("postgres", {}), 5432),
                Endpoint.parse(r.get("redis", {}), 6379),
            )
            for r in spec["regions"]
        )
        sentinel = spec.get("sentinel", {})
        policy = spec.get("failover", {})
        return cls(
            active_region=spec["activeRegion"],
            credentials_secret=spec.get("credentialsSecret", "tier0-credentials"),
            regions=regions,
            sentinel=SentinelSpec(
                sentinel.get("service", "tier0-sentinel"),
                tuple(sentinel.get("hosts", ())),
                int(sentinel.get("port", 26379)),
                sentinel.get("masterName", "tier0"),
            ),
            rw_service=spec.get("routing", {}).get("postgresRwService", "tier0-postgres-rw"),
            failover=FailoverPolicy(
                automatic=bool(policy.get("automatic", True)),
                unhealthy_after_seconds=int(policy.get("unhealthyAfterSeconds", 3)),
                probe_timeout_seconds=int(policy.get("probeTimeoutSeconds", 1)),
                catch_up_timeout_seconds=int(policy.get("catchUpTimeoutSeconds", 30)),
                max_lag_bytes=int(policy.get("maxLagBytes", 1048576)),
                synchronous=bool(policy.get("synchronous", True)),
                switchover_timeout_seconds=int(policy.get("switchoverTimeoutSeconds", 120)),
            ),
        )


@dataclass(frozen=True)
class Credentials:
    """From the Secret named by ``spec.credentialsSecret``."""

    superuser: str
    superuser_password: str
    replication_user: str
    replication_password: str
    redis_password: str | None
    instance_token: str
