"""A standby whose history diverged from its primary's, on real PostgreSQL run by the instance
managers (no operator): the manager rewinds it (else clones it) and it streams, instead of
restarting PostgreSQL forever.

Each test makes the divergence for real: the replica is promoted while the old primary stays
writable (no Lease, nothing fences it), rows are written on both, and the old primary is then
made a standby of the new one. Each starts and ends with one primary and one streaming standby.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client
from operator_env import until
from operator_stores import GROUP, NAME, PLURAL, VERSION, LocalStores

from controlplane.kube import Namespace
from tier0.stack.postgres import wait_replayed
from tier0_operator.engine.agent import HttpNodeAgent, SourceServer
from tier0_operator.instance.local import LocalInstance
from tier0_operator.model import Tier0RegionSpec

pytestmark = pytest.mark.operator

# Rows only the old primary wrote after the fork: they must be gone once it follows.
DIVERGED_ROWS = 2000


@pytest.fixture(scope="module")
def agent(stores: LocalStores) -> HttpNodeAgent:
    spec = Tier0RegionSpec.parse(stores.spec())
    urls = {r.name: r.postgres.agent_url("local") for r in spec.regions}
    return HttpNodeAgent(urls, stores.secrets.token)


@pytest.fixture
def roles(stores: LocalStores) -> tuple[str, str]:
    """(primary, streaming replica): the old primary and the new one of the test."""
    old = next(r for r in stores.nodes if stores.writable(r))
    new = next(r for r in stores.nodes if r != old)
    stores.nodes[new].wait_role("replica")
    return old, new


def streaming_standbys(node: LocalInstance) -> str:
    return node.psql("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")


def source(stores: LocalStores, region: str) -> SourceServer:
    return SourceServer("127.0.0.1", stores.nodes[region].port)


def set_active(ns: Namespace, region: str) -> None:
    """spec.activeRegion (no operator runs here, so no status: the managers read the spec)."""
    client.CustomObjectsApi(ns.api).patch_namespaced_custom_object(
        GROUP, VERSION, ns.name, PLURAL, NAME, {"spec": {"activeRegion": region}}
    )


async def diverge(stores: LocalStores, old: str, new: str) -> str:
    """Promote ``new`` while ``old`` stays writable, then write on both sides; the name of
    ``old``'s WAL segment holding the LSN where ``new``'s timeline forked off."""
    primary, replica = stores.nodes[old], stores.nodes[new]
    table = "sides (side text, token uuid DEFAULT gen_random_uuid())"
    primary.psql(f"CREATE TABLE IF NOT EXISTS {table}", "tier0")
    primary.psql("INSERT INTO sides (side) VALUES ('common')", "tier0")
    await wait_replayed(stores.dsn(old), stores.dsn(new))
    replica.psql("SELECT pg_promote(wait => true)")
    timeline = int(replica.psql("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"), 16)
    history = replica.psql(f"SELECT pg_read_file('pg_wal/{timeline:08X}.history')")
    fork = history.splitlines()[-1].split()[1]
    insert = f"INSERT INTO sides (side) SELECT 'diverged' FROM generate_series(1, {DIVERGED_ROWS})"
    primary.psql(insert, "tier0")
    replica.psql("INSERT INTO sides (side) VALUES ('new primary')", "tier0")
    # The slot the old primary will stream through (the operator's rejoin makes it too).
    replica.psql(f"SELECT pg_create_physical_replication_slot('{old}')")
    return primary.psql(f"SELECT pg_walfile_name('{fork}')")


def sides(node: LocalInstance) -> list[str]:
    return node.psql("SELECT DISTINCT side FROM sides ORDER BY side", "tier0").splitlines()


async def assert_follows(stores: LocalStores, old: str, new: str) -> None:
    """``old`` streams from ``new``: a row written on ``new`` now shows up on ``old``, which
    holds ``new``'s rows and none of its own diverged ones. (A diverged standby's WAL receiver
    can show ``streaming`` for an instant, and its replay LSN can be past the new primary's:
    only a row proves it follows.)"""
    primary, standby = stores.nodes[new], stores.nodes[old]
    token = primary.psql("INSERT INTO sides VALUES ('new primary') RETURNING token", "tier0")
    query = f"SELECT side FROM sides WHERE token = '{token}'"
    until(f"{old} replays row {token}", lambda: standby.answers(query, "tier0"), timeout=60)
    assert sides(standby) == ["common", "new primary"]
    until(f"{old} streams from {new}", lambda: streaming_standbys(primary) == old)


async def test_a_diverged_former_primary_told_to_follow_is_rewound(
    stores: LocalStores, agent: HttpNodeAgent, module_namespace: Namespace, roles: tuple[str, str]
) -> None:
    """Fence, follow, start (no rewind asked for): the manager sees before starting that the
    data directory holds WAL past the fork, rewinds it and starts a standby that streams."""
    old, new = roles
    await diverge(stores, old, new)
    set_active(module_namespace, new)
    await agent.stop(old)
    followed = await agent.follow(old, source(stores, new), slot=old)
    started = await agent.start(old)
    await assert_follows(stores, old, new)
    assert started["rejoins"] == followed["rejoins"] + 1
    last = started["lastRejoin"]
    assert (last["method"], last["outcome"]) == ("rewind", "done")
    assert "forked off timeline" in last["reason"]


async def test_a_diverged_standby_whose_rewind_fails_is_cloned(
    stores: LocalStores, agent: HttpNodeAgent, module_namespace: Namespace, roles: tuple[str, str]
) -> None:
    """The manager restarts (as a pod does) on a diverged standby whose WAL from before the
    fork is gone (the segment holding the fork): pg_rewind cannot read back to the last common
    checkpoint, so the manager clones."""
    old, new = roles
    node = stores.nodes[old]
    fork_segment = await diverge(stores, old, new)
    node.psql("SELECT pg_switch_wal()")  # the shutdown checkpoint lands in a later segment
    set_active(module_namespace, new)
    await agent.stop(old)
    await agent.follow(old, source(stores, new), slot=old)
    (node.datadir / "pg_wal" / fork_segment).unlink()
    node.stop()
    node.start()
    await assert_follows(stores, old, new)
    state = await agent.status(old)
    last = state["lastRejoin"]
    assert (state["rejoins"], last["method"], last["outcome"]) == (1, "clone", "done")
    assert "pg_rewind" in last["error"]


async def test_a_running_standby_that_cannot_follow_rejoins(
    stores: LocalStores, agent: HttpNodeAgent, module_namespace: Namespace, roles: tuple[str, str]
) -> None:
    """Started while its primary was down (nothing to compare with, and a standby is safe),
    the diverged standby runs; when the primary is back its WAL receiver is refused, and the
    manager reads that in the server log, rewinds and follows."""
    old, new = roles
    await diverge(stores, old, new)
    set_active(module_namespace, new)
    stores.nodes[new].stop()
    await agent.stop(old)
    await agent.follow(old, source(stores, new), slot=old)
    started = await agent.start(old)
    assert started["role"] == "replica"
    stores.nodes[new].start()
    stores.nodes[new].wait_role("primary")
    await assert_follows(stores, old, new)
    state = await agent.status(old)
    last = state["lastRejoin"]
    assert state["rejoins"] == started["rejoins"] + 1
    assert (last["method"], last["outcome"]) == ("rewind", "done")
    assert "server log" in last["reason"]


async def test_a_crashed_former_primary_is_rewound_not_cloned(
    stores: LocalStores, agent: HttpNodeAgent, module_namespace: Namespace, roles: tuple[str, str]
) -> None:
    """The diverged old primary's pod vanishes (kill -9 of manager and PostgreSQL); restarted,
    its manager rewinds it: pg_rewind's own crash recovery (``postgres --single``) needs
    wal_log_hints in the data directory's configuration, or it refuses and only a clone works."""
    old, new = roles
    await diverge(stores, old, new)
    set_active(module_namespace, new)
    postmaster = stores.nodes[old].postmaster_pid()
    stores.crash(old)
    # The pod is gone once its processes are (here: reaped, no longer zombies).
    until("the killed postmaster reaped", lambda: not Path(f"/proc/{postmaster}").exists())
    stores.nodes[old].start()
    await assert_follows(stores, old, new)
    state = await agent.status(old)
    last = state["lastRejoin"]
    assert (state["rejoins"], last["method"], last["outcome"]) == (1, "rewind", "done")
    assert last["reason"].startswith("a former primary")
