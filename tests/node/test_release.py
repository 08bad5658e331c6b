"""The chart installed on the node, end to end inside the cluster, through a port-forward.

One release for the session (``tier0`` in namespace ``tier0``, as `make up` installs it); data
flows from the simulators running as pods through the brokers and consumers into PostgreSQL,
and the tests read it back through the API exactly as a user would.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
import urllib.request
import uuid
from typing import Any

import pytest

from node.kube import CHART, Kube, wait_for
from node.release import PRIMARY, switch_region
from tier0.cluster import deploy
from tier0.cluster.failover_load import (
    PSQL,
    credential,
    in_recovery,
    pod_ip,
    postgres_pod,
    psql,
    region_status,
    wait_settled,
)
from tier0.cluster.node import Cluster
from tier0_simulators.devices import CHUNK

# The first test also waits for the install (an image rebuild after a code change included).
pytestmark = [pytest.mark.node, pytest.mark.timeout(1200)]


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


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
    assert wait_settled(release.output, None, timeout=120) == PRIMARY
    assert isinstance(region_status(release.output)["replicationLagBytes"], int)
    assert _rw_addresses(release) == [pod_ip(release.output, postgres_pod(PRIMARY))]


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
    key_before = credential(release.output, "api-key")
    rows_before = _telemetry_rows(release)
    # A value that adds no producer: the switchover test accounts for every simulator message.
    args = [*deploy.install_args(cluster, CHART), "--set", "api.replicaCount=2"]
    proc = subprocess.run(args, capture_output=True, text=True, env=deploy.helm_env(cluster))
    assert proc.returncode == 0, proc.stderr
    assert credential(release.output, "api-key") == key_before
    assert _telemetry_rows(release) >= rows_before
    api = release.get("deployment", "tier0-api")
    assert api["status"].get("readyReplicas") == 2


def _sql(release: Kube, region: str, query: str) -> str:
    """One query in the app's database, as the superuser in ``region``'s PostgreSQL pod."""
    return psql(release.output, region, query, database="tier0")


def _primary(release: Kube) -> str:
    return str(region_status(release.output)["activeRegion"])


def _telemetry_rows(release: Kube) -> int:
    return int(_sql(release, _primary(release), "SELECT count(*) FROM device_telemetry"))


def _rw_addresses(release: Kube) -> list[str]:
    (subset,) = release.get("endpoints", "tier0-postgres-rw")["subsets"]
    return [address["ip"] for address in subset["addresses"]]


def _write_through_rw(release: Kube, region: str, marker: str) -> None:
    """A new client connection through the -rw Service (as the app user), from ``region``'s
    PostgreSQL pod, commits a row."""
    sql = (
        "CREATE TABLE IF NOT EXISTS switchover_probe (marker text PRIMARY KEY); "
        f"INSERT INTO switchover_probe VALUES ('{marker}')"
    )
    release.exec(
        postgres_pod(region), "sh", "-c",
        f'PGPASSWORD="$TIER0_PG_APP_PASSWORD" {PSQL} '
        f'-h tier0-postgres-rw -U tier0 -d tier0 -v ON_ERROR_STOP=1 -c "{sql}"',
    )  # fmt: skip


def _telemetry_cycles(release: Kube, region: str, start: float, end: float) -> list[list[int]]:
    """[chunks, smallest chunk, largest chunk, rows, first stamp in ms] per simulator cycle
    stamped in [start, end].

    The simulator stamps each chunk of readings with its own millisecond and starts a cycle
    every few seconds, so a gap of over a second between two stamps separates cycles.
    """
    query = f"""
        WITH chunks AS (
            SELECT timestamp_utc AS t, count(*) AS n FROM device_telemetry
            WHERE timestamp_utc BETWEEN to_timestamp({start}) AND to_timestamp({end})
            GROUP BY 1),
        marked AS (
            SELECT t, n, coalesce((t - lag(t) OVER (ORDER BY t) > interval '1 second')::int, 0)
                AS gap FROM chunks),
        cycles AS (SELECT t, n, sum(gap) OVER (ORDER BY t) AS cycle FROM marked)
        SELECT count(*), min(n), max(n), sum(n), floor(extract(epoch FROM min(t)) * 1000)
        FROM cycles GROUP BY cycle ORDER BY cycle"""
    lines = _sql(release, region, query).splitlines()
    return [[int(float(field)) for field in line.split("|")] for line in lines]


def _simulator_cycle(release: Kube) -> tuple[int, float]:
    """(devices per cycle, seconds between cycles) of the device simulator Deployment."""
    (container,) = release.get("deployment", "tier0-device-simulator")["spec"]["template"]["spec"][
        "containers"
    ]
    args = container["args"]
    per_cycle = int(args[args.index("--devices-per-cycle") + 1])
    return per_cycle, float(args[args.index("--interval") + 1])


def _assert_no_reading_lost(release: Kube, start: float, end: float) -> None:
    """Every simulator cycle stamped in [start, end] reaches PostgreSQL whole: a lost message
    is a short chunk, a lost chunk a short cycle (the window's two edge cycles may be cut)."""
    per_cycle, interval = _simulator_cycle(release)
    expected = [per_cycle // CHUNK, CHUNK, CHUNK, per_cycle]
    primary = _primary(release)

    def whole() -> list[list[int]] | None:
        cycles = _telemetry_cycles(release, primary, start, end + interval)
        inner = cycles[1:-1]
        starts = [c[4] / 1000 for c in cycles]
        # A cycle lost whole leaves a gap of two intervals between cycle starts.
        no_gap = all(b - a < 1.9 * interval for a, b in itertools.pairwise(starts))
        covered = len(starts) >= 2 and starts[0] <= start + interval and starts[-1] >= end
        if covered and no_gap and all(c[:4] == expected for c in inner):
            return inner
        time.sleep(2)  # redelivered messages of a cut connection may still be on their way
        return None

    try:
        wait_for("every telemetry cycle around the switchover", whole, timeout=120)
    except AssertionError:
        cycles = _telemetry_cycles(release, primary, start, end + interval)
        found = f"cycles [chunks, min, max, rows], expected {expected}: {cycles}"
        raise AssertionError(found) from None


def _sessions_keep_changing_after(release: Kube, moment: float) -> bool:
    query = f"SELECT count(*) FROM user_sessions WHERE updated_at > to_timestamp({moment})"
    return int(_sql(release, _primary(release), query)) > 0


def _dead_letters(release: Kube) -> int:
    return int(_sql(release, _primary(release), "SELECT count(*) FROM dead_letters"))


def test_kubectl_patch_switches_the_primary_and_the_rw_service(release: Kube) -> None:
    run = uuid.uuid4().hex[:8]
    _write_through_rw(release, "region2", f"before-{run}")
    letters_before = _dead_letters(release)
    patched = time.time()
    switch_region(release, "region2")
    switched = time.time()
    last = region_status(release.output)["lastFailover"]
    assert (last["from"], last["to"], last["reason"]) == ("region1", "region2", "planned")
    assert set(last["steps"]) >= {"fence", "catchUp", "promote", "routing", "validate"}
    new_primary = release.get("pod", postgres_pod("region2"))
    assert new_primary["metadata"]["labels"]["tier0.io/role"] == "primary"
    assert _rw_addresses(release) == [new_primary["status"]["podIP"]]
    assert not in_recovery(release.output, "region2")
    # The old primary rejoins as a replica of the new one.
    wait_for(
        "region1 to rejoin as a replica",
        lambda: in_recovery(release.output, "region1"),
        timeout=120,
    )
    # A client reaches the new primary through -rw, and the row written before is there.
    _write_through_rw(release, "region1", f"after-{run}")
    query = (
        "SELECT string_agg(marker, ',' ORDER BY marker) FROM switchover_probe "
        f"WHERE marker LIKE '%-{run}'"
    )
    assert _sql(release, "region2", query) == f"after-{run},before-{run}"
    # The consumers kept writing through -rw: every device reading from 15 s before the patch
    # to 15 s after the switchover is stored, sessions are still updated, nothing refused.
    _assert_no_reading_lost(release, patched - 15, switched + 15)
    wait_for(
        "user sessions updated after the switchover",
        lambda: _sessions_keep_changing_after(release, switched),
        timeout=60,
    )
    assert _dead_letters(release) == letters_before
    switch_region(release, PRIMARY)
    assert _rw_addresses(release) == [pod_ip(release.output, postgres_pod(PRIMARY))]
