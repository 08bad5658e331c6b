"""The failover engine alone (no kopf, no API server) against real PostgreSQL, Redis, Sentinel.

The tests run in file order on one module's stores: fence → catch-up → promote → rejoin moves
the primary to region2 step by step, then the whole chain moves it back under a write load.
"""

from __future__ import annotations

import dataclasses
import socket
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import asyncpg
import pytest
import redis
from operator_stores import LocalStores, RecordingRouter

from controlplane.kube import Namespace
from tier0.stack.postgres import wait_replayed
from tier0.stack.writer import Writer
from tier0_operator.conditions import FailoverReason
from tier0_operator.engine import pg, steps
from tier0_operator.engine.agent import AgentError, HttpNodeAgent
from tier0_operator.engine.chain import run_failover
from tier0_operator.engine.lease import KubePrimaryLease
from tier0_operator.engine.plan import DONE, Plan
from tier0_operator.engine.rejoin import rejoin_old_primary
from tier0_operator.engine.runner import EngineContext
from tier0_operator.leases import Leases, Renewal, primary_lease_name
from tier0_operator.model import Tier0RegionSpec
from tier0_operator.waiting import PrimaryUnfenceable

pytestmark = pytest.mark.operator


@pytest.fixture(scope="module")
def router() -> RecordingRouter:
    return RecordingRouter()


@pytest.fixture
async def ctx(
    stores: LocalStores, router: RecordingRouter, module_namespace: Namespace
) -> AsyncIterator[EngineContext]:
    """The steps run one by one, as run_plan would; its kept connections are closed after."""
    spec = Tier0RegionSpec.parse(stores.spec())
    urls = {r.name: r.postgres.agent_url("local") for r in spec.regions}
    agent = HttpNodeAgent(urls, stores.secrets.token)
    leases = Leases(module_namespace.api, module_namespace.name)
    lease = KubePrimaryLease(leases, primary_lease_name("tier0"))
    context = EngineContext("local", spec, stores.credentials, agent, router, lease)
    yield context
    await context.connections.close()


async def test_a_kept_connection_serves_every_step_until_it_fails(ctx: EngineContext) -> None:
    """The target's connection is dialled once per plan run: the next step finds it open, and
    one that saw an error is replaced."""
    async with ctx.kept("region2") as conn:
        first = await conn.fetchval("SELECT pg_backend_pid()")
    async with ctx.kept("region2") as conn:
        assert await conn.fetchval("SELECT pg_backend_pid()") == first
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with ctx.kept("region2") as conn:
            await conn.fetchval("SELECT 1 / 0")
    async with ctx.kept("region2") as conn:
        assert await conn.fetchval("SELECT pg_backend_pid()") != first


async def test_a_primary_whose_manager_cannot_be_asked_gets_its_clients_back(
    ctx: EngineContext, stores: LocalStores, module_namespace: Namespace
) -> None:
    """The fence takes the role label off while it stops the server. When the manager cannot
    be reached and the Lease is still renewed, nothing was fenced: the label goes back."""
    leases = Leases(module_namespace.api, module_namespace.name)
    duration = float(ctx.spec.failover.lease_seconds)
    assert await leases.acquire(primary_lease_name("tier0"), "region1", duration)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    urls = {r.name: r.postgres.agent_url("local") for r in ctx.spec.regions}
    urls["region1"] = f"http://127.0.0.1:{closed}"
    router = RecordingRouter()
    cut_off = dataclasses.replace(
        ctx, agent=HttpNodeAgent(urls, stores.secrets.token), router=router
    )
    plan = Plan(1, "region1", "region2", FailoverReason.PLANNED)
    with pytest.raises(PrimaryUnfenceable, match="Lease has not expired"):
        await steps.fence(cut_off, plan)
    assert router.demoted == [["region1"]]
    assert router.calls == [("region1", ["region2"])]
    assert stores.writable("region1")


async def test_a_lease_renewed_since_it_was_read_is_still_handed_over(
    ctx: EngineContext, module_namespace: Namespace
) -> None:
    """The fence reads the Lease while the server stops and writes it once it has stopped; a
    renewal in between (the old holder's last) costs one more read, not the hand-over."""
    leases = Leases(module_namespace.api, module_namespace.name)
    name = "handover-test"
    assert await leases.acquire(name, "region1", 10)
    lease = KubePrimaryLease(leases, name)
    seen = await lease.current()
    assert await leases.renew(name, "region1") is Renewal.RENEWED
    assert not await lease.hand_over("region2", 10, fenced=False, seen=seen)  # not expired
    assert await lease.hand_over("region2", 10, fenced=True, seen=seen)
    now = await leases.read(name)
    assert now is not None
    assert now.holder == "region2"


async def test_fence_stops_every_write(
    ctx: EngineContext, stores: LocalStores, router: RecordingRouter
) -> None:
    """After the fence no client writes, not even one that opens BEGIN READ WRITE (which a
    read-only default would let through): PostgreSQL is down and its manager keeps it down."""
    conn = await asyncpg.connect(stores.dsn("region1"))
    await conn.execute("CREATE TABLE IF NOT EXISTS acked (id bigint PRIMARY KEY)")
    await conn.execute("INSERT INTO acked SELECT generate_series(1, 100)")
    assert _readiness(ctx, "region1") == 200
    plan = Plan(1, "region1", "region2", FailoverReason.PLANNED)
    fenced = await steps.fence(ctx, await steps.precheck(ctx, plan))
    assert fenced.final_lsn is not None  # the shutdown checkpoint
    with pytest.raises((asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)):
        await conn.execute("BEGIN READ WRITE; INSERT INTO acked VALUES (101); COMMIT")
    with pytest.raises((asyncpg.PostgresConnectionError, OSError)):
        await asyncpg.connect(stores.dsn("region1"), timeout=2)
    state = await ctx.agent.status("region1")
    assert (state["role"], state["fenced"]) == ("stopped", True)
    assert _readiness(ctx, "region1") == 503  # the pod leaves every Service
    metrics = _metrics(ctx, "region1")
    assert "tier0_instance_fenced 1.0" in metrics
    assert "tier0_instance_postgres_running 0.0" in metrics
    assert "tier0_instance_fence_shutdown_seconds_count 1.0" in metrics
    assert router.demoted == [["region1"]]  # its role label goes with the fence
    # The Lease moved with the fence: a restarted manager would not start a primary.
    found = await ctx.lease.leases.read(primary_lease_name("tier0"))  # type: ignore[attr-defined]
    assert found is not None
    assert found.holder == "region2"
    pytest.fenced_plan = fenced  # type: ignore[attr-defined]  # handed to the next test


def _metrics(ctx: EngineContext, region: str) -> str:
    """The instance manager's Prometheus exposition (no token needed)."""
    url = ctx.region(region).postgres.agent_url("local") + "/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def _readiness(ctx: EngineContext, region: str) -> int:
    """The status code of the instance manager's readiness endpoint (the kubelet's probe)."""
    url = ctx.region(region).postgres.agent_url("local") + "/ready"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_catch_up_then_promote(
    ctx: EngineContext, stores: LocalStores, router: RecordingRouter
) -> None:
    plan: Plan = pytest.fenced_plan  # type: ignore[attr-defined]
    await steps.catch_up(ctx, plan)
    async with pg.superuser(ctx.region("region2").postgres, "local", ctx.credentials) as conn:
        assert await pg.replay_position(conn) >= pg.parse_lsn(plan.final_lsn or "0/0")
    await steps.promote(ctx, plan)
    assert stores.writable("region2")
    assert router.promoted == ["region2"]  # its role label was sent while it promoted
    assert stores.nodes["region2"].psql("SELECT count(*) FROM acked", "tier0") == "100"


async def test_rejoin_streams_from_the_new_primary(ctx: EngineContext, stores: LocalStores) -> None:
    plan: Plan = pytest.fenced_plan  # type: ignore[attr-defined]
    await rejoin_old_primary(ctx, plan)
    stores.nodes["region2"].psql("INSERT INTO acked VALUES (103)", "tier0")
    assert not stores.writable("region1")
    await wait_replayed(stores.dsn("region2"), stores.dsn("region1"))
    assert stores.nodes["region1"].psql("SELECT count(*) FROM acked", "tier0") == "101"
    standbys = stores.nodes["region2"].psql("SELECT application_name FROM pg_stat_replication")
    assert standbys == "region1"


async def test_whole_chain_loses_no_acknowledged_write(
    ctx: EngineContext, stores: LocalStores, router: RecordingRouter
) -> None:
    saved: list[Plan] = []

    async def save(plan: Plan) -> None:
        saved.append(plan)

    plan = Plan(2, "region2", "region1", FailoverReason.PLANNED)
    async with Writer(stores.multihost_dsn()) as writer:
        await writer.wait_acked(20)  # writing before the failover
        done = await run_failover(ctx, plan, save)
        await writer.wait_acked(20)  # and again, on the new primary
    assert done.step == DONE
    assert set(done.steps) == set(plan.chain)
    assert router.calls[-1] == ("region1", ["region2"])
    lost = await writer.lost(stores.dsn("region1"))
    assert lost == 0, "acknowledged writes were lost"
    assert len(writer.acked) > 20
    with redis.Redis("127.0.0.1", stores.redis.sentinel_ports[0]) as sentinel:
        reported = sentinel.sentinel_get_master_addr_by_name("tier0")
    assert int(reported[1]) == stores.redis.master_port


async def test_rejoin_clones_when_pg_rewind_fails(ctx: EngineContext, stores: LocalStores) -> None:
    """A data directory pg_rewind cannot use (here: pg_control gone) is replaced by a fresh
    pg_basebackup, and the node streams again with every row."""
    stores.nodes["region1"].psql("CREATE TABLE rewound AS SELECT 104 AS id", "tier0")
    state = await ctx.agent.stop("region2")
    assert state["role"] == "stopped"
    (stores.nodes["region2"].datadir / "global" / "pg_control").unlink()
    with pytest.raises(AgentError, match="pg_rewind"):
        await ctx.agent.rewind("region2", ctx.source_server("region1"))
    await rejoin_old_primary(ctx, Plan(3, "region2", "region1", FailoverReason.PLANNED))
    await wait_replayed(stores.dsn("region1"), stores.dsn("region2"))
    assert stores.nodes["region2"].psql("SELECT id FROM rewound", "tier0") == "104"
    assert (
        stores.nodes["region1"].psql(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        )
        == "1"
    )
