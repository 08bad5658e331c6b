"""The spec model and the retry policy on their own (no stores, no API server)."""

from __future__ import annotations

import pytest

from tier0_operator.model import Endpoint, Tier0RegionSpec
from tier0_operator.waiting import MAX_RETRY_DELAY, backoff_delay

pytestmark = pytest.mark.operator


def test_service_endpoint_resolves_to_cluster_dns() -> None:
    endpoint = Endpoint.parse({"service": "tier0-postgres-region1"}, 5432)
    assert endpoint.address("tier0") == "tier0-postgres-region1.tier0.svc"
    assert endpoint.port == 5432


def test_host_endpoint_is_dialled_as_given() -> None:
    endpoint = Endpoint.parse({"host": "10.0.0.9", "port": 6380}, 6379)
    assert endpoint.address("tier0") == "10.0.0.9"
    assert endpoint.port == 6380


def test_retry_delay_doubles_per_failure_up_to_the_cap() -> None:
    delays = [backoff_delay(2.0, retry) for retry in range(8)]
    assert delays[:4] == [2.0, 4.0, 8.0, 16.0]
    assert delays[-1] == MAX_RETRY_DELAY
    assert backoff_delay(0.5, 10_000) == MAX_RETRY_DELAY


def test_clients_write_through_the_rw_service_when_the_regions_are_services() -> None:
    spec = {
        "activeRegion": "region1",
        "regions": [
            {"name": name, "postgres": {"service": f"tier0-postgres-{name}"}}
            for name in ("region1", "region2")
        ],
    }
    in_cluster = Tier0RegionSpec.parse(spec)
    assert in_cluster.read_write_path("tier0") == (["tier0-postgres-rw.tier0.svc"], [5432])
    spec["regions"] = [
        {"name": "region1", "postgres": {"host": "10.0.0.9", "port": 6432}},
        {"name": "region2", "postgres": {"host": "10.0.0.10", "port": 6433}},
    ]
    by_host = Tier0RegionSpec.parse(spec)  # no pods behind -rw: a multi-host read-write DSN
    assert by_host.read_write_path("tier0") == (["10.0.0.9", "10.0.0.10"], [6432, 6433])
