"""Adopting a new Tier0Region (``reconcile`` step 2, ``adopt``) against real PostgreSQL run by
its instance managers, with the Lease and status on the real API server.

The resource is adopted only when exactly one region accepts writes and every other answers as
a replica. The refusals run first, while no Lease and no status exist; each repairs what it
broke (region2 streams from region1 again), and the last test adopts. These tests break
replication on purpose, so they have this module's own stores (``stores`` is module-scoped).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes import client
from operator_stores import GROUP, NAME, PLURAL, VERSION, LocalStores, RecordingRouter

from controlplane.kube import Namespace
from tier0_operator.engine import pg
from tier0_operator.engine.agent import AgentError, HttpNodeAgent
from tier0_operator.engine.lease import KubePrimaryLease
from tier0_operator.engine.runner import EngineContext
from tier0_operator.engine.synchronous import SYNCHRONOUS_NAMES
from tier0_operator.kube import KubeApi, ObjectRef
from tier0_operator.leases import Leases, LeaseState, primary_lease_name
from tier0_operator.model import Tier0RegionSpec
from tier0_operator.reconcile import RegionMemory, reconcile
from tier0_operator.status import StatusWriter
from tier0_operator.waiting import MoreThanOneWritable

pytestmark = pytest.mark.operator

# Bound on a region reaching its role (a rewind or a restart takes a few seconds).
ROLE_SECONDS = 60.0


def resource(ns: Namespace) -> dict[str, Any]:
    found: dict[str, Any] = client.CustomObjectsApi(ns.api).get_namespaced_custom_object(
        GROUP, VERSION, ns.name, PLURAL, NAME
    )
    return found


@pytest.fixture(autouse=True)
def streaming(stores: LocalStores) -> None:
    """Every test starts with region1 primary and region2 streaming from it."""
    stores.nodes["region1"].wait_role("primary", ROLE_SECONDS)
    stores.nodes["region2"].wait_role("replica", ROLE_SECONDS)


@pytest.fixture
def leases(module_namespace: Namespace) -> Leases:
    return Leases(module_namespace.api, module_namespace.name)


@pytest.fixture
def ctx(stores: LocalStores, leases: Leases) -> EngineContext:
    spec = Tier0RegionSpec.parse(stores.spec())
    urls = {r.name: r.postgres.agent_url("local") for r in spec.regions}
    agent = HttpNodeAgent(urls, stores.secrets.token)
    lease = KubePrimaryLease(leases, primary_lease_name(NAME))
    return EngineContext("local", spec, stores.credentials, agent, RecordingRouter(), lease)


@pytest.fixture
def ref(module_namespace: Namespace) -> ObjectRef:
    return ObjectRef(module_namespace.name, NAME, resource(module_namespace)["metadata"]["uid"])


@pytest.fixture
def memory(ctx: EngineContext, module_namespace: Namespace, ref: ObjectRef) -> RegionMemory:
    """As the handlers build it: a StatusWriter seeded from the object's status."""
    status = resource(module_namespace).get("status") or {}
    writer = StatusWriter(KubeApi(module_namespace.api), ref, status)
    assert isinstance(ctx.lease, KubePrimaryLease)
    return RegionMemory(writer, ctx.lease)


async def reconcile_once(
    ctx: EngineContext, ref: ObjectRef, memory: RegionMemory, ns: Namespace
) -> None:
    """One pass of the reconcile timer on a resource with no activeRegion yet (so: adopt)."""
    generation = int(resource(ns)["metadata"]["generation"])
    await reconcile(ctx, memory.writer.api, ref, memory, generation)


async def primary_lease(leases: Leases) -> LeaseState | None:
    return await leases.read(primary_lease_name(NAME))


def assert_not_adopted(ns: Namespace, memory: RegionMemory) -> None:
    assert "activeRegion" not in (resource(ns).get("status") or {})
    assert "activeRegion" not in memory.writer.current


async def rejoin_region1(ctx: EngineContext, stores: LocalStores) -> None:
    """region2, promoted by hand, streams from region1 again (pg_rewind, else a clone)."""
    await ctx.agent.stop("region2")
    source = ctx.source_server("region1")
    try:
        await ctx.agent.rewind("region2", source)
    except AgentError:
        await ctx.agent.clone("region2", source)
    # WAL past the point pg_rewind copied: an idle region1 writes none, and region2 opens for
    # queries only once it has replayed that far.
    async with pg.superuser(ctx.region("region1").postgres, "local", ctx.credentials) as conn:
        await conn.execute("CHECKPOINT")
    await ctx.agent.follow("region2", source, slot="region2")
    await ctx.agent.start("region2")
    await asyncio.to_thread(stores.nodes["region2"].wait_role, "replica", ROLE_SECONDS)


async def test_adopt_refuses_two_writable_regions(
    ctx: EngineContext,
    ref: ObjectRef,
    memory: RegionMemory,
    stores: LocalStores,
    leases: Leases,
    module_namespace: Namespace,
) -> None:
    """Both regions accept writes (region2 promoted by hand): neither is picked, the error
    names both, no Lease is created and no activeRegion written, until one is a replica."""
    assert stores.nodes["region2"].psql("SELECT pg_promote()") == "t"  # waits for the promotion
    assert stores.writable("region1")
    assert stores.writable("region2")
    try:
        with pytest.raises(MoreThanOneWritable, match=r"\['region1', 'region2'\]"):
            await reconcile_once(ctx, ref, memory, module_namespace)
        assert await primary_lease(leases) is None
        assert_not_adopted(module_namespace, memory)
    finally:
        await rejoin_region1(ctx, stores)
    assert not stores.writable("region2")


async def test_adopt_waits_for_a_region_that_does_not_answer(
    ctx: EngineContext,
    ref: ObjectRef,
    memory: RegionMemory,
    stores: LocalStores,
    leases: Leases,
    module_namespace: Namespace,
) -> None:
    """region1 writable, region2 stopped (fenced by its instance manager): region2 could be a
    primary nobody can see, so nothing is adopted until it answers as a replica."""
    state = await ctx.agent.stop("region2")
    assert (state["role"], state["fenced"]) == ("stopped", True)
    try:
        with pytest.raises(MoreThanOneWritable, match=r"\['region2'\] do not answer as replicas"):
            await reconcile_once(ctx, ref, memory, module_namespace)
        assert await primary_lease(leases) is None
        assert_not_adopted(module_namespace, memory)
    finally:
        await ctx.agent.start("region2")
        await asyncio.to_thread(stores.nodes["region2"].wait_role, "replica", ROLE_SECONDS)


async def test_adopt_records_the_one_writable_region(
    ctx: EngineContext,
    ref: ObjectRef,
    memory: RegionMemory,
    stores: LocalStores,
    leases: Leases,
    module_namespace: Namespace,
) -> None:
    """region1 writable, region2 streaming from it: region1 gets the primary Lease, status
    says activeRegion=region1 (Ready, epoch 0), and commits wait for region2 (the spec's
    synchronous default)."""
    assert_not_adopted(module_namespace, memory)  # the refusals above left nothing behind
    await reconcile_once(ctx, ref, memory, module_namespace)
    lease = await primary_lease(leases)
    assert lease is not None
    assert lease.holder == "region1"
    found = resource(module_namespace)
    status = found["status"]
    assert (status["activeRegion"], status["phase"], status["epoch"]) == ("region1", "Ready", 0)
    assert status["observedGeneration"] == found["metadata"]["generation"]
    assert stores.nodes["region1"].psql("SHOW synchronous_standby_names") == SYNCHRONOUS_NAMES
    assert not stores.writable("region2")
