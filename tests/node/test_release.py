"""The chart installed on the node, end to end inside the cluster, through a port-forward.

One release for the module (``tier0`` in namespace ``tier0``, as `make up` installs it); data
flows from the simulators running as pods through the brokers and consumers into PostgreSQL,
and the tests read it back through the API exactly as a user would.
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.kube import Kube, port_forward, wait_for
from tier0.cluster import deploy
from tier0.cluster.node import Cluster

pytestmark = pytest.mark.node

CHART = Path(__file__).resolve().parents[2] / "charts" / "tier0"


@pytest.fixture(scope="module")
def release(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Kube:
    """`helm upgrade --install` as `make up` does it: every pod Ready, every Job complete."""
    deploy.install(cluster, CHART)
    return Kube(cluster, deploy.NAMESPACE, tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def api(release: Kube) -> Iterator[str]:
    """The API Service port-forwarded to a free loopback port."""
    with port_forward(release, "service/tier0-api", 8000) as url:
        yield url


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _secret(release: Kube, key: str) -> str:
    data = release.get("secret", "tier0-credentials")["data"]
    return base64.b64decode(data[key]).decode()


def test_every_pod_is_ready_or_completed(release: Kube) -> None:
    pods = json.loads(release.run("get", "pods", "-o", "json").stdout)["items"]
    assert len(pods) >= 15
    for item in pods:
        name, status = item["metadata"]["name"], item["status"]
        if status["phase"] == "Succeeded":
            continue
        ready = {c["type"]: c["status"] for c in status.get("conditions", [])}.get("Ready")
        assert ready == "True", f"{name} is not Ready: {status.get('containerStatuses')}"


def test_the_operator_reports_the_region_ready_with_replication(release: Kube) -> None:
    def ready() -> dict[str, Any] | None:
        status: dict[str, Any] = release.get("tier0region", "tier0").get("status", {})
        conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
        good = status.get("phase") == "Ready" and conditions.get("Replicating") == "True"
        return status if good else None

    status = wait_for("the Tier0Region Ready and Replicating", ready, timeout=120)
    assert status["activeRegion"] == "region1"
    assert isinstance(status["replicationLagBytes"], int)
    endpoints = release.get("endpoints", "tier0-postgres-rw")
    (subset,) = endpoints["subsets"]
    primary_ip = release.get("pod", "tier0-postgres-region1-0")["status"]["podIP"]
    assert [a["ip"] for a in subset["addresses"]] == [primary_ip]


def test_device_telemetry_from_the_simulator_pod_reaches_the_api(api: str) -> None:
    def with_readings() -> list[dict[str, Any]] | None:
        page = _get(f"{api}/api/devices?limit=50")
        items = [d for d in page["items"] if d.get("latest")]
        return items or None

    devices = wait_for("devices with telemetry in /api/devices", with_readings, timeout=180)
    assert devices


def test_user_events_from_the_simulator_pod_reach_the_api(api: str) -> None:
    counts = wait_for(
        "sessions in /api/users",
        lambda: (
            (_get(f"{api}/api/users")["counts"] or None)
            if _get(f"{api}/api/users")["counts"]["total"] > 0
            else None
        ),
        timeout=180,
    )
    assert counts["total"] > 0


def test_a_query_is_answered_with_citations(api: str) -> None:
    request = urllib.request.Request(
        f"{api}/api/query",
        data=json.dumps({"question": "How do I fail over the PostgreSQL primary?"}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    documents = [c for c in answer["citations"] if c.get("document") and c.get("page")]
    assert documents, answer


def test_helm_test_passes(release: Kube, cluster: Cluster) -> None:
    helm = deploy.install_args(cluster, CHART)[0]
    proc = subprocess.run(
        [helm, "test", deploy.RELEASE, f"--namespace={deploy.NAMESPACE}", "--timeout=5m"],
        capture_output=True, text=True, env=deploy.helm_env(cluster), timeout=400,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_helm_upgrade_with_a_changed_value_keeps_data_and_secrets(
    release: Kube, cluster: Cluster
) -> None:
    key_before = _secret(release, "api-key")
    rows_before = _telemetry_rows(release)
    args = [*deploy.install_args(cluster, CHART), "--set", "deviceSimulator.replicaCount=2"]
    proc = subprocess.run(args, capture_output=True, text=True, env=deploy.helm_env(cluster))
    assert proc.returncode == 0, proc.stderr
    assert _secret(release, "api-key") == key_before
    assert _telemetry_rows(release) >= rows_before
    simulator = release.get("deployment", "tier0-device-simulator")
    assert simulator["status"].get("readyReplicas") == 2


def _telemetry_rows(release: Kube) -> int:
    sql = "SELECT count(*) FROM device_telemetry"
    psql = "/usr/lib/postgresql/15/bin/psql"
    out = release.exec(
        "tier0-postgres-region1-0", psql, "-h", "/tmp", "-U", "postgres", "-d", "tier0", "-tAc", sql
    ).stdout
    return int(out.strip())


def _switch_to(release: Kube, region: str) -> dict[str, Any]:
    """Patch spec.activeRegion as a user does; wait until the operator reports it done."""
    release.run(
        "patch", "tier0region", "tier0", "--type=merge",
        "-p", json.dumps({"spec": {"activeRegion": region}}),
    )  # fmt: skip

    def done() -> dict[str, Any] | None:
        status: dict[str, Any] = release.get("tier0region", "tier0").get("status", {})
        finished = status.get("activeRegion") == region and status.get("phase") == "Ready"
        return status if finished else None

    return wait_for(f"the switchover to {region}", done, timeout=180)


def _rw_addresses(release: Kube) -> list[str]:
    (subset,) = release.get("endpoints", "tier0-postgres-rw")["subsets"]
    return [address["ip"] for address in subset["addresses"]]


def _in_recovery(release: Kube, pod: str) -> bool:
    psql = "/usr/lib/postgresql/15/bin/psql"
    out = release.exec(
        pod, psql, "-h", "/tmp", "-U", "postgres", "-tAc", "SELECT pg_is_in_recovery()"
    ).stdout
    return out.strip() == "t"


def _write_through_rw(release: Kube, pod: str, marker: str) -> None:
    """A new client connection through the -rw Service (as the app user) commits a row."""
    sql = (
        "CREATE TABLE IF NOT EXISTS switchover_probe (marker text PRIMARY KEY); "
        f"INSERT INTO switchover_probe VALUES ('{marker}')"
    )
    release.exec(
        pod, "sh", "-c",
        'PGPASSWORD="$TIER0_PG_APP_PASSWORD" /usr/lib/postgresql/15/bin/psql '
        f'-h tier0-postgres-rw -U tier0 -d tier0 -v ON_ERROR_STOP=1 -c "{sql}"',
    )  # fmt: skip


def test_kubectl_patch_switches_the_primary_and_the_rw_service(release: Kube) -> None:
    run = uuid.uuid4().hex[:8]
    _write_through_rw(release, "tier0-postgres-region2-0", f"before-{run}")
    status = _switch_to(release, "region2")
    last = status["lastFailover"]
    assert (last["from"], last["to"], last["reason"]) == ("region1", "region2", "planned")
    assert set(last["steps"]) >= {"fence", "catchUp", "promote", "routing", "validate"}
    new_primary = release.get("pod", "tier0-postgres-region2-0")
    assert new_primary["metadata"]["labels"]["tier0.io/role"] == "primary"
    assert _rw_addresses(release) == [new_primary["status"]["podIP"]]
    assert not _in_recovery(release, "tier0-postgres-region2-0")
    # The old primary rejoins as a replica of the new one.
    wait_for(
        "region1 to rejoin as a replica",
        lambda: _in_recovery(release, "tier0-postgres-region1-0"),
        timeout=120,
    )
    # A client reaches the new primary through -rw, and the row written before is there.
    _write_through_rw(release, "tier0-postgres-region1-0", f"after-{run}")
    psql = "/usr/lib/postgresql/15/bin/psql"
    query = (
        "SELECT string_agg(marker, ',' ORDER BY marker) FROM switchover_probe "
        f"WHERE marker LIKE '%-{run}'"
    )
    rows = release.exec(
        "tier0-postgres-region2-0",
        psql,
        "-h",
        "/tmp",
        "-U",
        "postgres",
        "-d",
        "tier0",
        "-tAc",
        query,
    ).stdout.strip()
    assert rows == f"after-{run},before-{run}"
    _switch_to(release, "region1")
    primary_ip = release.get("pod", "tier0-postgres-region1-0")["status"]["podIP"]
    assert _rw_addresses(release) == [primary_ip]
