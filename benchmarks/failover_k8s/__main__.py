"""Failover on the node: the chart's PostgreSQL pods, each scenario under write load through the
``-rw`` Service, every acknowledged commit read back, every PostgreSQL pod polled throughout.

    .venv/bin/python -m benchmarks.failover_k8s [--rounds N]   (or make bench BENCH=failover-k8s)

Run as root from the repository root; it starts the node and installs the chart if needed, and
leaves both running with region1 primary. Scenarios: planned switchover (``kubectl patch``),
``kill -9`` of the primary's postmaster, force deletion of the primary pod, the operator pod
killed mid-switchover. The floor, in the same run and with the same commit settings
(synchronous replication, as the release runs): the operator scaled to zero, then by hand the
acts a switchover cannot skip, overlapped where the operator overlaps them — fence the primary
through its instance manager while its role label comes off, wait for the replica to replay the
shutdown checkpoint, hand over the primary Lease, ``pg_promote`` the replica (synchronous
commit off until the old primary follows, as the operator does) while its role label, which -rw
selects on, is set.

Outage: from the trigger to the first commit after it (a run that never commits again has an
infinite outage). Goals (issue 12): planned < 0.5 s and <= 2x floor; unplanned <=
``unhealthyAfterSeconds`` + 1 s; rejoin <= 60 s; 0 acknowledged writes lost; never two pods
accepting writes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from kubernetes import client
from kubernetes import config as kube_config
from rich.console import Console
from rich.table import Table

from tier0.cluster import deploy
from tier0.cluster.failover_load import (
    REGIONS,
    Kubectl,
    Load,
    credential,
    other_region,
    patch_active,
    pod_ip,
    postgres_pod,
    region_status,
    run_scenario,
    wait_settled,
    wait_until,
)
from tier0.cluster.node import Cluster
from tier0_operator.engine import pg
from tier0_operator.engine.agent import AgentError, HttpNodeAgent, SourceServer
from tier0_operator.engine.lease import KubePrimaryLease
from tier0_operator.kube import ROLE_LABEL
from tier0_operator.leases import Leases, primary_lease_name

console = Console(highlight=False, width=150)
CHART = Path(__file__).resolve().parents[2] / "charts" / "tier0"
PLANNED_GOAL_SECONDS = 0.5
REJOIN_GOAL_SECONDS = 60.0


@dataclass
class Result:
    scenario: str
    goal: str  # "planned", "unplanned" or "" (reported only)
    outage: float
    acked: int
    lost: int
    overlaps: int
    rejoin: float  # from writes resuming to the old primary following again
    rto: float | None  # the operator's lastFailover.totalSeconds, when it failed over


def _measure(
    kubectl: Kubectl, name: str, goal: str, act: Callable[[str, str], None], *, moves: bool
) -> Result:
    outcome = run_scenario(kubectl, act, moves=moves, timeout=300)
    last = region_status(kubectl).get("lastFailover") or {}
    rto = last.get("totalSeconds") if outcome.active != outcome.old else None
    return Result(name, goal, outcome.outage, outcome.load.acked(), outcome.lost,
                  len(outcome.overlaps), outcome.rejoin, rto)  # fmt: skip


def planned(kubectl: Kubectl) -> Callable[[str, str], None]:
    return lambda _old, new: patch_active(kubectl, new)


def kill_postmaster(kubectl: Kubectl) -> Callable[[str, str], None]:
    def act(old: str, _new: str) -> None:
        script = 'kill -9 "$(head -1 "$PGDATA/postmaster.pid")"'
        kubectl("exec", postgres_pod(old), "--", "sh", "-c", script)

    return act


def force_delete(kubectl: Kubectl) -> Callable[[str, str], None]:
    def act(old: str, _new: str) -> None:
        kubectl("delete", "pod", postgres_pod(old), "--force", "--grace-period=0")

    return act


def operator_killed(kubectl: Kubectl) -> Callable[[str, str], None]:
    def act(_old: str, new: str) -> None:
        pods = json.loads(
            kubectl("get", "pods", "-l", "app.kubernetes.io/component=operator", "-o", "json")
        )["items"]
        patch_active(kubectl, new)
        wait_until(
            "the switchover past its fence step",
            lambda: "fence" in ((region_status(kubectl).get("failover") or {}).get("steps") or {}),
            timeout=60,
        )
        names = [p["metadata"]["name"] for p in pods]
        kubectl("delete", "pod", *names, "--force", "--grace-period=0")

    return act


class HandSwitch:
    """A switchover with no operator (scaled to zero): the floor's acts, and the rejoin after."""

    def __init__(self, cluster: Cluster, kubectl: Kubectl) -> None:
        self.kubectl = kubectl
        self.token = credential(kubectl, "instance-token")
        self.superuser = credential(kubectl, "superuser-password")
        self.ips = {r: pod_ip(kubectl, postgres_pod(r)) for r in REGIONS}
        self.agent = HttpNodeAgent({r: f"http://{ip}:8008" for r, ip in self.ips.items()},
                                   self.token)  # fmt: skip
        api = kube_config.new_client_from_config(config_file=str(cluster.kubeconfig))  # type: ignore[no-untyped-call]
        self.leases = Leases(api, deploy.NAMESPACE)
        self.core = client.CoreV1Api(api)
        spec = region_status(kubectl, spec=True)
        self.lease_seconds = float(spec["failover"]["unhealthyAfterSeconds"])

    async def _connect(self, region: str) -> asyncpg.Connection:
        return await asyncpg.connect(host=self.ips[region], user="postgres",
                                     password=self.superuser, database="postgres")  # fmt: skip

    async def switch(self, old: str, new: str) -> None:
        """In the operator's order: synchronous commit off on ``new`` (a standby ignores it);
        fence ``old`` (fast shutdown) while its role label comes off and the Lease is read; wait
        for ``new`` to replay the shutdown checkpoint (nothing acknowledged left behind); hand
        over the Lease; promote ``new``, its label sent while it promotes."""
        conn = await self._connect(new)
        await pg.set_synchronous(conn, "")
        lease = primary_lease_name("tier0")
        fenced, seen, _ = await asyncio.gather(
            self.agent.stop(old), self.leases.read(lease), self._label(old, "replica")
        )
        checkpoint = pg.parse_lsn(str(fenced["checkpointLsn"]))
        while True:
            standby, replayed = await pg.replay_state(conn)
            if not standby or replayed > checkpoint:
                break
            await asyncio.sleep(0.005)
        if not await KubePrimaryLease(self.leases, lease).hand_over(
            new, self.lease_seconds, fenced=True, seen=seen
        ):
            raise RuntimeError(f"the primary Lease could not be handed to {new}")
        await pg.request_promotion(conn)
        await asyncio.gather(pg.wait_promoted(conn), self._label(new, "primary"))
        await conn.close()

    async def _label(self, region: str, role: str) -> None:
        body = {"metadata": {"labels": {ROLE_LABEL: role}}}
        await asyncio.to_thread(
            self.core.patch_namespaced_pod, postgres_pod(region), deploy.NAMESPACE, body
        )

    async def rejoin(self, old: str, new: str) -> None:
        """``old`` follows ``new``: a slot, pg_rewind (else a clone), follow, start."""
        conn = await self._connect(new)
        await pg.ensure_slot(conn, old)
        await conn.execute("CHECKPOINT")
        source = SourceServer(self.ips[new], 5432)
        try:
            await self.agent.rewind(old, source)
        except AgentError:
            await self.agent.clone(old, source)
        await self.agent.follow(old, source, slot=old)
        await self.agent.start(old)
        while old not in await pg.streaming_standbys(conn):
            await asyncio.sleep(0.2)
        await conn.close()


def measure_floor(cluster: Cluster, kubectl: Kubectl) -> Result:
    """The hand-made switchover there and back under load, the operator scaled to zero; the
    region ends as it began, so the operator finds its status true when it comes back."""
    old = wait_settled(kubectl, None)
    new = other_region(old)
    kubectl("scale", "deployment", "tier0-operator", "--replicas=0")
    kubectl("wait", "--for=delete", "pod", "-l", "app.kubernetes.io/component=operator",
            "--timeout=120s")  # fmt: skip
    hand = HandSwitch(cluster, kubectl)
    samples = []
    try:
        for source, target in ((old, new), (new, old)):
            with Load(kubectl) as load:
                trigger = time.monotonic()
                asyncio.run(hand.switch(source, target))
                load.call(load.writer.wait_acked(20))
                samples.append((load.outage_after(trigger), load))
            asyncio.run(hand.rejoin(source, target))
    finally:
        kubectl("scale", "deployment", "tier0-operator", "--replicas=1")
    wait_settled(kubectl, old, timeout=300)
    outage, load = min(samples, key=lambda sample: sample[0])
    lost = sum(sample.lost() for _, sample in samples)
    overlaps = sum(len(sample.watch.overlaps()) for _, sample in samples)
    return Result("floor: fence, catch-up, Lease, pg_promote, labels", "", outage, load.acked(),
                  lost, overlaps, math.nan, None)  # fmt: skip


def _goal(r: Result, floor: Result, unhealthy_after: float) -> tuple[str, bool]:
    """The scenario's goal as text, and whether it was met (outage and rejoin)."""
    if r.goal == "planned":
        text = f"< {PLANNED_GOAL_SECONDS} s and <= 2x floor"
        met = r.outage < PLANNED_GOAL_SECONDS and r.outage <= 2 * floor.outage
    elif r.goal == "unplanned":
        text = f"<= {unhealthy_after + 1:g} s"
        met = r.outage <= unhealthy_after + 1
    else:
        return "-", True
    return text, met and r.rejoin <= REJOIN_GOAL_SECONDS


def report(results: list[Result], floor: Result, unhealthy_after: float) -> bool:
    """Print the table; False if any write was lost or two pods accepted writes at once."""
    table = Table(title="Failover on the node (chart release, write load through -rw)")
    for column in ("scenario", "outage s", "x floor", "goal", "rejoin s", "RTO s", "acked",
                   "lost", "2 writable"):  # fmt: skip
        table.add_column(column, justify="left" if column == "scenario" else "right")
    correct = True
    for r in [*results, floor]:
        text, met = _goal(r, floor, unhealthy_after)
        mark = "" if text == "-" else (" [green]met[/green]" if met else " [red]missed[/red]")
        correct = correct and r.lost == 0 and r.overlaps == 0
        table.add_row(
            r.scenario, f"{r.outage:.3f}", f"{r.outage / floor.outage:.1f}", text + mark,
            "-" if math.isnan(r.rejoin) else f"{r.rejoin:.1f}",
            "-" if r.rto is None else f"{r.rto:.2f}", str(r.acked), str(r.lost), str(r.overlaps),
        )  # fmt: skip
    console.print(table)
    return correct


def _progress(step: str, seconds: float) -> None:
    console.print(f"[green]ok[/green] {step} ({seconds:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.failover_k8s")
    parser.add_argument("--rounds", type=int, default=1, help="repetitions of each scenario")
    args = parser.parse_args()
    cluster = Cluster(
        progress=lambda step, s: console.print(f"[green]ok[/green] {step} ({s:.1f}s)")
    )
    with console.status("[bold]node up and chart installed[/bold] ..."):
        cluster.up()
        deploy.install(cluster, CHART)
    kubectl: Kubectl = functools.partial(cluster.kubectl, "-n", deploy.NAMESPACE)
    unhealthy_after = float(region_status(kubectl, spec=True)["failover"]["unhealthyAfterSeconds"])
    scenarios = [
        ("planned switchover (kubectl patch)", "planned", planned(kubectl), True),
        ("kill -9 of the primary's postmaster", "unplanned", kill_postmaster(kubectl), False),
        ("force delete of the primary pod", "unplanned", force_delete(kubectl), False),
        ("operator killed mid-switchover", "", operator_killed(kubectl), True),
    ]
    results = []
    for _ in range(args.rounds):
        for name, goal, act, moves in scenarios:
            with console.status(f"[bold]{name}[/bold] ..."):
                results.append(_measure(kubectl, name, goal, act, moves=moves))
            console.print(f"{name}: outage {results[-1].outage:.3f} s")
    with console.status("[bold]floor[/bold] ..."):
        floor = measure_floor(cluster, kubectl)
    if wait_settled(kubectl, None) != "region1":
        patch_active(kubectl, "region1")
        wait_settled(kubectl, "region1", timeout=300)
    if not report(results, floor, unhealthy_after):
        console.print("[red]acknowledged writes lost or two writable primaries[/red]")
        sys.exit(1)


if __name__ == "__main__":
    main()
