"""``/api/failover`` against the real kube-apiserver: the Tier0Region (CRD from crds/) read and
patched with the API's own ServiceAccount, which holds only the Role the chart gives it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from controlplane.kube import Namespace
from controlplane.tier0region import (
    api_service_account_kubeconfig,
    create_region,
    install_crd,
    read_region,
    record_event,
    sample_status,
    set_status,
)
from tier0.api import cluster_gauges
from tier0.api.regions import RegionClient
from tier0.stack.controlplane import ControlPlane
from tier0.stack.harness import Harness

from .conftest import API_KEY, Database, serve, settings_for

pytestmark = [pytest.mark.component, pytest.mark.controlplane]

OPERATE_KEY = "operate-test-key-" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def crd(control_plane: ControlPlane) -> None:
    install_crd(control_plane)


@pytest.fixture
async def api(
    stack: Harness, database: Database, namespace: Namespace, crd: None, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The API acting as its ServiceAccount on the Tier0Region in a fresh namespace."""
    kubeconfig = api_service_account_kubeconfig(namespace, tmp_path / "api.kubeconfig")
    settings = settings_for(stack, database).model_copy(
        update={
            "kubeconfig": str(kubeconfig),
            "region_namespace": namespace.name,
            "operate_api_key": SecretStr(OPERATE_KEY),
        }
    )
    async with serve(settings) as served:
        yield served


async def test_get_reports_the_status_the_operator_wrote(
    api: httpx.AsyncClient, namespace: Namespace
) -> None:
    region = create_region(namespace, status=sample_status(active="region1", epoch=2))
    record_event(namespace, region, "SwitchoverDone", "region2 -> region1, epoch 2")

    response = await api.get("/api/failover")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "tier0"
    assert body["namespace"] == namespace.name
    assert body["regions"] == ["region1", "region2"]
    assert (body["desired_region"], body["active_region"]) == ("region1", "region1")
    assert (body["phase"], body["epoch"], body["replication_lag_bytes"]) == ("Ready", 2, 128)
    assert [c["type"] for c in body["conditions"]] == ["Ready", "Replicating"]
    assert body["failover"] is None
    last = body["last_failover"]
    assert (last["from_region"], last["to_region"], last["total_seconds"]) == (
        "region2",
        "region1",
        1.42,
    )
    assert last["steps"]["promote"] == 0.61
    events = (await api.get("/api/failover/events")).json()
    assert [(e["reason"], e["source"]) for e in events] == [("SwitchoverDone", "tier0-operator")]


async def test_post_with_the_operate_key_patches_the_spec(
    api: httpx.AsyncClient, namespace: Namespace
) -> None:
    create_region(namespace, status=sample_status(active="region1", epoch=2))

    response = await api.post(
        "/api/failover", json={"region": "region2"}, headers={"X-API-Key": OPERATE_KEY}
    )

    assert response.status_code == 202, response.text
    assert response.json() == {"from_region": "region1", "to_region": "region2", "epoch": 3}
    assert response.headers["location"] == "/api/failover"
    assert read_region(namespace)["spec"]["activeRegion"] == "region2"
    # Until the operator acts, GET shows the request and the unchanged status side by side.
    body = (await api.get("/api/failover")).json()
    assert (body["desired_region"], body["active_region"]) == ("region2", "region1")


@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({}, 401, "X-API-Key header required"),
        ({"X-API-Key": API_KEY}, 403, "lacks the operate scope"),
        ({"X-API-Key": "not-a-key-" + uuid.uuid4().hex}, 403, "invalid API key"),
    ],
)
async def test_post_without_the_operate_scope_is_refused(
    api: httpx.AsyncClient,
    namespace: Namespace,
    headers: dict[str, str],
    status: int,
    detail: str,
) -> None:
    create_region(namespace, status=sample_status())

    response = await api.post("/api/failover", json={"region": "region2"}, headers=headers)

    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert read_region(namespace)["spec"]["activeRegion"] == "region1"


@pytest.mark.parametrize(
    ("target", "in_progress", "status", "detail"),
    [
        ("region9", False, 422, "'region9' is not a region of tier0 (region1, region2)"),
        ("region1", False, 409, "region1 is already the active region"),
        ("region2", True, 409, "is in progress, at step promote"),
    ],
)
async def test_post_refuses_a_target_that_makes_no_sense(
    api: httpx.AsyncClient,
    namespace: Namespace,
    target: str,
    in_progress: bool,
    status: int,
    detail: str,
) -> None:
    create_region(namespace, status=sample_status())
    if in_progress:
        run = {"epoch": 3, "from": "region1", "to": "region2", "reason": "primary-lost",
               "startedAt": "2026-01-01T00:00:00Z", "step": "promote"}  # fmt: skip
        set_status(namespace, {"phase": "FailingOver", "failover": run})

    response = await api.post(
        "/api/failover", json={"region": target}, headers={"X-API-Key": OPERATE_KEY}
    )

    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert read_region(namespace)["spec"]["activeRegion"] == "region1"


async def test_a_missing_region_is_404_and_no_credentials_503(
    api: httpx.AsyncClient, stack: Harness, database: Database, tmp_path: Path
) -> None:
    missing = await api.get("/api/failover")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"

    nowhere = settings_for(stack, database).model_copy(
        update={"kubeconfig": str(tmp_path / "absent.kubeconfig")}
    )
    async with serve(nowhere) as without:
        response = await without.get("/api/failover")
    assert response.status_code == 503
    assert "no in-cluster credentials" in response.json()["detail"]


async def test_region_and_sentinel_gauges(
    stack: Harness, database: Database, namespace: Namespace, crd: None
) -> None:
    running = {"epoch": 3, "from": "region1", "to": "region2", "reason": "planned",
               "startedAt": "2026-01-01T00:00:00Z", "step": "catchUp"}  # fmt: skip
    create_region(namespace, status={**sample_status(epoch=2), "failover": running})
    settings = settings_for(stack, database).model_copy(
        update={"kubeconfig": str(namespace.kubeconfig), "region_namespace": namespace.name}
    )
    regions = RegionClient.from_settings(settings)
    assert regions is not None
    try:
        await cluster_gauges.refresh_region(regions)
    finally:
        await regions.close()
    await cluster_gauges.refresh_sentinels(settings)

    sample = REGISTRY.get_sample_value
    assert sample("tier0_region_epoch") == 2
    assert sample("tier0_region_failover_in_progress") == 1
    assert sample("tier0_region_failover_started_timestamp_seconds") == 1767225600
    assert sample("tier0_region_active", {"region": "region1"}) == 1
    sentinels = [f"{host}:{port}" for host, port in settings.sentinel_addresses]
    assert [sample("tier0_sentinel_up", {"sentinel": s}) for s in sentinels] == [1, 1, 1]
    # Every Sentinel names the same master: one address among the samples.
    masters = {
        s.labels["address"]
        for metric in REGISTRY.collect()
        if metric.name == "tier0_sentinel_master"
        for s in metric.samples
    }
    assert len(masters) == 1
