"""`tier0 operator` on the real control plane, moving real PostgreSQL/Redis: the tests form one
scenario in file order (Ready → switchover → failback → operator killed mid-switchover →
kill -9 of the primary), each starting from the state the previous one left."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator

import pytest
import redis
from operator_env import OperatorEnv, Writer, create_region_objects
from operator_stores import LocalStores

from controlplane.kube import Namespace

pytestmark = [pytest.mark.operator, pytest.mark.controlplane]

CHAIN = {"precheck", "fence", "catchUp", "promote", "sentinel", "routing", "validate", "rejoin"}


@pytest.fixture(scope="module")
def env(
    crd_installed: None, module_namespace: Namespace, stores: LocalStores
) -> Iterator[OperatorEnv]:
    made = OperatorEnv(module_namespace, stores)
    create_region_objects(made, stores.spec())
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


async def switch_over(env: OperatorEnv, to: str) -> tuple[dict[str, object], Writer]:
    async with Writer(env.stores.cluster.multihost_dsn()) as writer:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(env.patch_active, to)
        status = await asyncio.to_thread(env.wait_ready, to, 40)
        await asyncio.sleep(0.3)
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


async def test_failback(env: OperatorEnv) -> None:
    status, writer = await switch_over(env, "region1")
    assert status["epoch"] == 2
    assert_primary(env, "region1")
    assert_no_acked_write_lost(env, writer, "region1")


def test_operator_killed_mid_switchover_resumes(env: OperatorEnv) -> None:
    env.patch_active("region2")
    # Wait until the chain is past fencing, then kill -9 the operator in the middle of it.
    killed_at = env.wait_status(
        "a switchover past fencing",
        lambda s: (s.get("failover") or {}).get("step") not in (None, "precheck", "fence"),
        timeout=20,
    )["failover"]["step"]
    env.kill_operator(signal.SIGKILL)
    assert env.status()["failover"], "progress must survive the operator"
    env.start_operator()
    status = env.wait_ready("region2", timeout=40)
    print(f"operator killed before step {killed_at}; a new one finished the switchover")
    assert status["epoch"] == 3
    assert_primary(env, "region2")


async def test_kill_9_of_the_primary_fails_over(env: OperatorEnv) -> None:
    primary = env.status()["activeRegion"]
    async with Writer(env.stores.cluster.multihost_dsn()) as writer:
        await asyncio.sleep(0.5)
        killed = time.monotonic()
        env.stores.crash(primary)
        status = await asyncio.to_thread(env.wait_ready, other(primary), 60)
        await asyncio.sleep(0.3)
    outage = writer.longest_gap_after(killed)
    assert any(t > killed + outage for _, t in writer.acked), "no write after the failover"
    print(f"kill -9: longest write outage {outage:.2f} s after the primary died")
    assert outage < 8
    assert status["lastFailover"]["reason"] == "primary-lost"
    assert env.resource()["spec"]["activeRegion"] == other(primary)
    assert_primary(env, other(primary))
