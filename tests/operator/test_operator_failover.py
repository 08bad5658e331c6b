"""`tier0 operator` on the real control plane, moving real PostgreSQL/Redis: the tests form one
scenario in file order (Ready → synchronous replication follows the spec → switchover → failback
→ operator killed mid-switchover → kill -9 of the primary → a lagging target is refused until
forced), each starting from the state the previous one left."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from operator_env import OperatorEnv, until
from operator_stores import LocalStores

from controlplane.kube import Namespace
from tier0.stack.base import free_port
from tier0.stack.writer import Writer

pytestmark = [pytest.mark.operator, pytest.mark.controlplane]

CHAIN = {"precheck", "fence", "catchUp", "promote", "routing", "sentinel", "validate", "rejoin"}
SYNCHRONOUS_NAMES = "ANY 1 (*)"
FORCE = "tier0.io/force-failover"
FAILBACK = "tier0.io/failback"
# Acknowledged commits a Writer must have made before a failover and after it.
WRITES = 20


@pytest.fixture(scope="module")
def env(
    crd_installed: None, module_namespace: Namespace, stores: LocalStores
) -> Iterator[OperatorEnv]:
    made = OperatorEnv(module_namespace, stores)
    made.start_operator()
    yield made
    made.kill_operator(signal.SIGTERM)


def other(region: str) -> str:
    return "region2" if region == "region1" else "region1"


def assert_primary(env: OperatorEnv, region: str) -> None:
    """PostgreSQL, labels, -rw Service, Redis and replication all agree on ``region``."""
    stores = env.stores
    assert stores.writable(region)
    assert not stores.writable(other(region))
    streaming = stores.nodes[region].psql("SELECT application_name FROM pg_stat_replication")
    assert streaming == other(region)
    assert env.role_of("pod", f"postgres-{region}-0") == "primary"
    assert env.role_of("pod", f"postgres-{other(region)}-0") == "replica"
    assert env.role_of("service", f"tier0-postgres-{region}") == "primary"
    rw = env.core.read_namespaced_service("tier0-postgres-rw", env.ns.name)
    assert rw.spec.selector["tier0.io/role"] == "primary"
    assert rw.metadata.annotations["tier0.io/primary-region"] == region
    selected = env.core.list_namespaced_pod(
        env.ns.name, label_selector="tier0.io/role=primary,app.kubernetes.io/component=postgres"
    )
    assert [p.metadata.name for p in selected.items] == [f"postgres-{region}-0"]
    ports = {"region1": stores.redis.master_port, "region2": stores.redis.replica_port}
    for port in stores.redis.sentinel_ports:
        with redis.Redis("127.0.0.1", port) as sentinel:
            reported = sentinel.sentinel_get_master_addr_by_name("tier0")
        assert int(reported[1]) == ports[region]


def assert_no_acked_write_lost(env: OperatorEnv, writer: Writer, region: str) -> None:
    ids = env.stores.nodes[region].psql("SELECT id FROM acked", "tier0").split()
    lost = {i for i, _ in writer.acked} - {int(x) for x in ids}
    assert not lost, f"{len(lost)} acknowledged writes lost"


def test_resource_becomes_ready(env: OperatorEnv) -> None:
    status = env.wait_ready("region1")
    assert status["observedGeneration"] == env.resource()["metadata"]["generation"]
    assert status["replicationLagBytes"] >= 0
    row = env.ns.run("kubectl", "get", "t0r", "tier0", "--no-headers").stdout.split()
    assert row[1:3] == ["region1", "Ready"]


def standby_names(env: OperatorEnv, region: str) -> str:
    return env.stores.nodes[region].psql("SHOW synchronous_standby_names")


def wait_standby_names(env: OperatorEnv, region: str, wanted: str) -> None:
    until(f"synchronous_standby_names = {wanted!r}", lambda: standby_names(env, region) == wanted)


def test_synchronous_replication_follows_the_spec(env: OperatorEnv) -> None:
    # Set when the resource was adopted (its replica streams), before Ready.
    assert standby_names(env, "region1") == SYNCHRONOUS_NAMES
    env.patch_spec({"failover": {"synchronous": False}})
    wait_standby_names(env, "region1", "")
    env.patch_spec({"failover": {"synchronous": True}})
    wait_standby_names(env, "region1", SYNCHRONOUS_NAMES)


def step_events(env: OperatorEnv, epoch: int) -> set[str]:
    """Steps with a StepCompleted Event for ``epoch`` (message: '<step> completed in ...')."""
    marker = f"epoch {epoch})"
    return {e.message.split()[0] for e in env.events("StepCompleted") if marker in e.message}


async def switch_over(env: OperatorEnv, to: str) -> tuple[dict[str, object], Writer]:
    async with Writer(env.stores.multihost_dsn()) as writer:
        await writer.wait_acked(WRITES)  # writing before the switchover
        await asyncio.to_thread(env.patch_active, to)
        status = await asyncio.to_thread(env.wait_ready, to, 40)
        await writer.wait_acked(WRITES)  # and again, on the new primary
    return status, writer


async def test_switchover_by_kubectl_patch(env: OperatorEnv) -> None:
    started = time.monotonic()
    status, writer = await switch_over(env, "region2")
    last = status["lastFailover"]
    assert isinstance(last, dict)
    assert (last["from"], last["to"], last["reason"]) == ("region1", "region2", "planned")
    assert set(last["steps"]) == CHAIN
    assert 0 < last["totalSeconds"] < 10
    assert_primary(env, "region2")
    assert_no_acked_write_lost(env, writer, "region2")
    gap = writer.longest_gap_after(started)
    print(f"switchover: RTO {last['totalSeconds']} s, client write gap {gap:.3f} s")
    events = env.core.list_namespaced_event(env.ns.name).items
    assert any(e.reason == "FailoverInProgress" for e in events)
    assert step_events(env, epoch=1) == CHAIN


async def test_failback(env: OperatorEnv) -> None:
    status, writer = await switch_over(env, "region1")
    assert status["epoch"] == 2
    assert_primary(env, "region1")
    assert_no_acked_write_lost(env, writer, "region1")


def test_standby_operator_takes_over_mid_switchover(env: OperatorEnv) -> None:
    """Two operator processes: only the Lease holder drives the plan; kill -9 it in the middle
    of a switchover and the other one finishes it."""
    standby_port = free_port()
    standby = env.spawn_operator(metrics_port=standby_port)
    standby_log = env.ns.workdir / f"operator-{env.runs}.log"
    env.patch_active("region2")
    killed_at = env.wait_status(
        "a switchover past fencing",
        lambda s: (s.get("failover") or {}).get("step") not in (None, "precheck", "fence"),
        timeout=20,
    )["failover"]["step"]
    assert "failover step" not in standby_log.read_text(), "the standby replica drove the plan"
    env.kill_operator(signal.SIGKILL)
    assert env.status()["failover"], "progress must survive the operator"
    env.operator, env.metrics_port = standby, standby_port
    status = env.wait_ready("region2", timeout=40)
    print(f"leader killed before step {killed_at}; the standby operator finished the switchover")
    assert "failover step" in standby_log.read_text()
    assert status["epoch"] == 3
    assert_primary(env, "region2")


async def test_kill_9_of_the_primary_fails_over(env: OperatorEnv) -> None:
    """The primary's pod vanishes (manager and PostgreSQL killed -9): the replica is promoted
    once the primary's Lease has expired; the restarted pod rejoins as a replica on its own."""
    primary = env.status()["activeRegion"]
    budget = env.resource()["spec"]["failover"]["unhealthyAfterSeconds"] + 1
    async with Writer(env.stores.multihost_dsn()) as writer:
        await writer.wait_acked(WRITES)
        killed = time.monotonic()
        env.stores.crash(primary)
        await asyncio.to_thread(
            env.wait_status, "the failover validated",
            lambda s: (s.get("lastFailover") or {}).get("reason") == "primary-lost", 30,
        )  # fmt: skip
        await writer.wait_acked(WRITES)
        outage = writer.longest_gap_after(killed)
        # The kubelet restarts the pod: its manager rewinds it and follows the new primary.
        env.stores.nodes[primary].start()
        status = await asyncio.to_thread(env.wait_ready, other(primary), 60)
    assert any(t > killed + outage for _, t in writer.acked), "no write after the failover"
    print(f"kill -9 of the pod: longest write outage {outage:.2f} s (goal {budget} s)")
    # DESIGN.md's goal is unhealthyAfterSeconds + 1 s; measured ~5 s here (detection ~2.5 s,
    # Lease expiry, Sentinel ~1.2 s before validate). Not met yet: bounded as before.
    assert outage < 8
    assert status["lastFailover"]["reason"] == "primary-lost"
    assert env.resource()["spec"]["activeRegion"] == other(primary)
    assert_primary(env, other(primary))
    assert_no_acked_write_lost(env, writer, other(primary))
    assert_failover_metrics(env)


def assert_failover_metrics(env: OperatorEnv) -> None:
    """The operator's /metrics saw the probe failures, the failover and its duration."""
    lag = 'tier0_replication_lag_bytes{name="tier0"}'
    # The lag gauge is set by the next observation (every 2 s) after the new primary is Ready.
    until("the lag gauge", lambda: lag in env.metrics())
    samples = env.metrics()
    assert samples['tier0_failovers_total{reason="primary-lost"}'] >= 1
    assert samples['tier0_failover_duration_seconds_count{reason="primary-lost"}'] >= 1
    assert samples['tier0_primary_probe_failures_total{name="tier0"}'] > 0


def test_lagging_target_is_refused_until_forced(env: OperatorEnv) -> None:
    """A failing step (precheck: replay lag > maxLagBytes) leaves Ready=False/StepFailed and a
    Warning Event and retries with backoff; the force annotation lets the switchover proceed."""
    source = env.status()["activeRegion"]
    target = other(source)
    env.stores.nodes[target].psql("SELECT pg_wal_replay_pause()")
    env.stores.nodes[source].psql(
        "CREATE TABLE IF NOT EXISTS lagging AS SELECT generate_series(1, 10000) AS n", "tier0"
    )
    env.patch_spec({"activeRegion": target, "failover": {"maxLagBytes": 1}})
    # The previous test's automatic failover left ``target``: naming it again looks like a
    # re-applied manifest and is ignored until the failback annotation confirms it.
    until("the re-applied region ignored", lambda: env.events("ActiveRegionNotReverted"))
    assert not env.status().get("failover"), "a re-applied manifest must not switch back"
    env.annotate(FAILBACK, "true")
    refused = env.wait_status("the switchover refused", lambda s: _step_failed(s) != "")
    assert "bytes behind" in _step_failed(refused)
    warnings = until("a Warning Event", lambda: env.events("CandidateTooFarBehind"))
    assert {e.type for e in warnings} == {"Warning"}
    assert refused["failover"]["step"] == "precheck", "nothing was fenced"
    assert env.stores.writable(source)
    env.annotate(FORCE, "true")
    env.wait_status("the forced switchover past precheck", _past_fence, timeout=30)
    env.stores.nodes[target].psql("SELECT pg_wal_replay_resume()")
    status = env.wait_ready(target, timeout=40)
    annotations = env.resource()["metadata"].get("annotations") or {}
    assert FORCE not in annotations, "the force annotation applies to one failover only"
    env.patch_spec({"failover": {"maxLagBytes": 1048576}})
    assert status["lastFailover"]["reason"] == "planned"
    assert_primary(env, target)


def _step_failed(status: dict[str, Any]) -> str:
    """The Ready condition's message when its reason is StepFailed, else ''."""
    for condition in status.get("conditions") or []:
        if condition["type"] == "Ready" and condition["reason"] == "StepFailed":
            return str(condition["message"])
    return ""


def _past_fence(status: dict[str, Any]) -> bool:
    step = (status.get("failover") or {}).get("step")
    return step not in (None, "precheck", "fence")
