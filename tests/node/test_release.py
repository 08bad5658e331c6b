"""The chart installed on the node, end to end inside the cluster, through a port-forward.

One release for the session (``tier0`` in namespace ``tier0``, as `make up` installs it); data
flows from the simulators running as pods through the brokers and consumers into PostgreSQL,
and the tests read it back through the API exactly as a user would.
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import time
import urllib.request
import uuid
from typing import Any

import pytest

from node.kube import CHART, Kube, wait_for
from tier0.cluster import deploy
from tier0.cluster.node import Cluster
from tier0_simulators.devices import CHUNK

# The first test also waits for the install (an image rebuild after a code change included).
pytestmark = [pytest.mark.node, pytest.mark.timeout(1200)]


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
    # A value that adds no producer: the switchover test accounts for every simulator message.
    args = [*deploy.install_args(cluster, CHART), "--set", "api.replicaCount=2"]
    proc = subprocess.run(args, capture_output=True, text=True, env=deploy.helm_env(cluster))
    assert proc.returncode == 0, proc.stderr
    assert _secret(release, "api-key") == key_before
    assert _telemetry_rows(release) >= rows_before
    api = release.get("deployment", "tier0-api")
    assert api["status"].get("readyReplicas") == 2


PSQL = "/usr/lib/postgresql/15/bin/psql"


def _sql(release: Kube, pod: str, query: str, database: str = "tier0") -> str:
    """One query as the superuser over the pod's local socket; unaligned, tuples only."""
    argv = (PSQL, "-h", "/tmp", "-U", "postgres", "-d", database, "-tAc", query)
    return release.exec(pod, *argv).stdout.strip()


def _primary_pod(release: Kube) -> str:
    region = release.get("tier0region", "tier0")["status"]["activeRegion"]
    return f"tier0-postgres-{region}-0"


def _telemetry_rows(release: Kube) -> int:
    return int(_sql(release, _primary_pod(release), "SELECT count(*) FROM device_telemetry"))


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
    return _sql(release, pod, "SELECT pg_is_in_recovery()", database="postgres") == "t"


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


def _telemetry_cycles(release: Kube, pod: str, start: float, end: float) -> list[list[int]]:
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
    lines = _sql(release, pod, query).splitlines()
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
    pod = _primary_pod(release)

    def whole() -> list[list[int]] | None:
        cycles = _telemetry_cycles(release, pod, start, end + interval)
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
        cycles = _telemetry_cycles(release, pod, start, end + interval)
        found = f"cycles [chunks, min, max, rows], expected {expected}: {cycles}"
        raise AssertionError(found) from None


def _sessions_keep_changing_after(release: Kube, moment: float) -> bool:
    query = f"SELECT count(*) FROM user_sessions WHERE updated_at > to_timestamp({moment})"
    return int(_sql(release, _primary_pod(release), query)) > 0


def _dead_letters(release: Kube) -> int:
    return int(_sql(release, _primary_pod(release), "SELECT count(*) FROM dead_letters"))


def test_kubectl_patch_switches_the_primary_and_the_rw_service(release: Kube) -> None:
    run = uuid.uuid4().hex[:8]
    _write_through_rw(release, "tier0-postgres-region2-0", f"before-{run}")
    letters_before = _dead_letters(release)
    patched = time.time()
    status = _switch_to(release, "region2")
    switched = time.time()
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
    query = (
        "SELECT string_agg(marker, ',' ORDER BY marker) FROM switchover_probe "
        f"WHERE marker LIKE '%-{run}'"
    )
    assert _sql(release, "tier0-postgres-region2-0", query) == f"after-{run},before-{run}"
    # The consumers kept writing through -rw: every device reading from 15 s before the patch
    # to 15 s after the switchover is stored, sessions are still updated, nothing refused.
    _assert_no_reading_lost(release, patched - 15, switched + 15)
    wait_for(
        "user sessions updated after the switchover",
        lambda: _sessions_keep_changing_after(release, switched),
        timeout=60,
    )
    assert _dead_letters(release) == letters_before
    _switch_to(release, "region1")
    primary_ip = release.get("pod", "tier0-postgres-region1-0")["status"]["podIP"]
    assert _rw_addresses(release) == [primary_ip]
