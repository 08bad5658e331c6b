"""Failover of the chart's PostgreSQL pods on the node, each under steady write load.

Every scenario commits through the ``-rw`` Service while it runs, reads every acknowledged
commit back afterwards (none may be lost), and polls every PostgreSQL pod ten times a second
throughout (never two accepting writes). The old primary must rejoin as a replica on its own
within 60 s of writes resuming (CloudNativePG's e2e bound). Outage figures are printed here;
their goals are checked by ``make bench BENCH=failover-k8s``. The module leaves region1 primary.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
from collections.abc import Callable, Iterator

import pytest

from node.kube import Kube
from node.release import PRIMARY, switch_region
from tier0.cluster.failover_load import (
    REGIONS,
    Kubectl,
    Outcome,
    credential,
    in_recovery,
    other_region,
    patch_active,
    pod_ip,
    postgres_pod,
    psql,
    region_status,
    run_scenario,
    wait_settled,
    wait_until,
)
from tier0_operator.engine.agent import HttpNodeAgent

pytestmark = [pytest.mark.node, pytest.mark.timeout(900)]

REJOIN_SECONDS = 60  # CloudNativePG's e2e bound for a former primary to follow again
FINISH_SECONDS = 180  # a plan to complete on a loaded 2-core machine; only a defect reaches it


@pytest.fixture
def kubectl(release: Kube) -> Iterator[Kubectl]:
    """kubectl in the release's namespace; region1 is made primary again after the test."""
    wait_settled(release.output, None, timeout=FINISH_SECONDS)
    yield release.output
    wait_settled(release.output, None, timeout=FINISH_SECONDS)
    left = region_status(release.output).get("failedOverFrom")
    if left:
        # After an automatic failover the operator ignores a plain patch back to the region it
        # left; switching there as meant (annotated) clears that, so later tests patch plainly.
        switch_region(release, left, timeout=FINISH_SECONDS)
    switch_region(release, PRIMARY, timeout=FINISH_SECONDS)


def _under_load(
    kubectl: Kubectl, act: Callable[[str, str], None], *, moves: bool = True
) -> Outcome:
    outcome = run_scenario(kubectl, act, moves=moves, timeout=FINISH_SECONDS)
    load = outcome.load
    assert outcome.lost == 0, f"acknowledged commits lost of {load.acked()}"
    assert not outcome.overlaps, f"two pods accepted writes at once: {outcome.overlaps[:5]}"
    assert postgres_pod(outcome.active) in load.watch.writable_since(0)
    # The watch ran throughout: no pause between two polls longer than a timed-out answer allows.
    times = [r.at for r in load.watch.rounds]
    assert len(times) >= 5, times
    assert max(b - a for a, b in itertools.pairwise(times)) < 3, times
    assert outcome.rejoin <= REJOIN_SECONDS, f"settled {outcome.rejoin:.1f} s after writes resumed"
    print(f"{outcome.old} -> {outcome.active}: outage {outcome.outage:.2f} s, "
          f"settled {outcome.rejoin:.1f} s after writes resumed")  # fmt: skip
    return outcome


def _rejoins(kubectl: Kubectl, old: str, new: str) -> None:
    """The old primary follows the new one (already Replicating per the status; its own view)."""
    wait_until(f"{old} in recovery", lambda: in_recovery(kubectl, old), timeout=REJOIN_SECONDS)
    assert not in_recovery(kubectl, new)


def test_planned_switchover_under_write_load(kubectl: Kubectl) -> None:
    outcome = _under_load(kubectl, lambda _old, new: patch_active(kubectl, new))
    _rejoins(kubectl, outcome.old, outcome.active)
    last = region_status(kubectl)["lastFailover"]
    assert (last["from"], last["to"], last["reason"]) == (outcome.old, outcome.active, "planned")


def test_kill_9_of_the_postmaster_in_the_primary_pod(kubectl: Kubectl) -> None:
    def kill(old: str, _new: str) -> None:
        script = 'kill -9 "$(head -1 "$PGDATA/postmaster.pid")"'
        kubectl("exec", postgres_pod(old), "--", "sh", "-c", script)

    # The manager restarts PostgreSQL in place or the operator fails over: one primary either way.
    outcome = _under_load(kubectl, kill, moves=False)
    if outcome.active != outcome.old:
        _rejoins(kubectl, outcome.old, outcome.active)


def test_force_deleting_the_primary_pod(kubectl: Kubectl) -> None:
    def delete(old: str, _new: str) -> None:
        kubectl("delete", "pod", postgres_pod(old), "--force", "--grace-period=0")

    # The StatefulSet recreates the pod at once; its manager restarts PostgreSQL as primary only
    # while the primary Lease is still its own, otherwise the operator has failed over and the
    # new pod rewinds and follows. Either way: one primary, nothing lost.
    outcome = _under_load(kubectl, delete, moves=False)
    if outcome.active != outcome.old:
        _rejoins(kubectl, outcome.old, outcome.active)
        last = region_status(kubectl)["lastFailover"]
        assert (last["from"], last["to"]) == (outcome.old, outcome.active)
        assert last["reason"] != "planned"


def test_the_operator_killed_mid_switchover(kubectl: Kubectl) -> None:
    def switch_and_kill(_old: str, new: str) -> None:
        listed = kubectl("get", "pods", "-l", "app.kubernetes.io/component=operator", "-o", "json")
        names = [p["metadata"]["name"] for p in json.loads(listed)["items"]]
        patch_active(kubectl, new)
        wait_until(
            "the switchover past its fence step",
            lambda: "fence" in ((region_status(kubectl).get("failover") or {}).get("steps") or {}),
            timeout=60,
        )
        kubectl("delete", "pod", *names, "--force", "--grace-period=0")

    outcome = _under_load(kubectl, switch_and_kill)
    _rejoins(kubectl, outcome.old, outcome.active)


def test_a_primary_cut_off_from_the_api_server_stops_itself(kubectl: Kubectl) -> None:
    """The primary pod's packets to the API server are dropped on the node (the operator still
    reaches both pods). Its instance manager cannot renew the primary Lease and stops PostgreSQL
    before the Lease runs out; the operator then finds the primary lost and fails over. No
    instant has two writable pods, nothing acknowledged is lost, and once the cut is healed the
    old primary follows."""
    api_server = "/api/v1/namespaces/default/endpoints/kubernetes"
    endpoints = json.loads(kubectl("get", "--raw", api_server))
    (subset,) = endpoints["subsets"]
    api_port = str(subset["ports"][0]["port"])
    rules: list[list[str]] = []

    def cut_off(old: str, new: str) -> None:
        rule = ["INPUT", "-s", pod_ip(kubectl, postgres_pod(old)), "-p", "tcp"]
        rule += ["--dport", api_port, "-j", "DROP"]
        subprocess.run(["iptables", "-w", "-I", *rule], check=True)
        rules.append(rule)
        try:
            wait_until(
                f"{new} promoted",
                lambda: region_status(kubectl).get("activeRegion") == new,
                timeout=FINISH_SECONDS,
            )
        finally:
            _heal(rules)

    try:
        outcome = _under_load(kubectl, cut_off)
    finally:
        _heal(rules)
    _rejoins(kubectl, outcome.old, outcome.active)
    last = region_status(kubectl)["lastFailover"]
    assert (last["from"], last["to"]) == (outcome.old, outcome.active)
    assert last["reason"] == "primary-lost"
    log = kubectl("logs", postgres_pod(outcome.old))
    assert "cannot confirm it may be primary" in log, log[-2000:]


def _heal(rules: list[list[str]]) -> None:
    while rules:
        subprocess.run(["iptables", "-w", "-D", *rules.pop()], check=True)


def test_a_switchover_to_a_stopped_target_is_cancelled_by_an_edit_or_times_out(
    kubectl: Kubectl,
) -> None:
    """The replica is stopped through its instance manager (fenced: it stays down), so a
    switchover to it waits at precheck. Editing spec.activeRegion back cancels it; left alone
    it gives up after switchoverTimeoutSeconds and sets the spec back. Either way nothing was
    fenced: the primary never stopped."""
    old = wait_settled(kubectl, None)
    new = other_region(old)
    token = credential(kubectl, "instance-token")
    urls = {r: f"http://{pod_ip(kubectl, postgres_pod(r))}:8008" for r in REGIONS}
    agent = HttpNodeAgent(urls, token)
    timeout = region_status(kubectl, spec=True)["failover"]["switchoverTimeoutSeconds"]
    started = psql(kubectl, old, "SELECT pg_postmaster_start_time()")
    asyncio.run(agent.stop(new))
    try:
        patch_active(kubectl, new)
        _waits_at_precheck(kubectl, new)
        patch_active(kubectl, old)
        _gives_up(kubectl, old, "SwitchoverCancelled")

        _set_switchover_timeout(kubectl, 5)
        patch_active(kubectl, new)
        _waits_at_precheck(kubectl, new)
        _gives_up(kubectl, old, "SwitchoverTimedOut")
        assert region_status(kubectl, spec=True)["activeRegion"] == old
    finally:
        _set_switchover_timeout(kubectl, timeout)
        asyncio.run(agent.start(new))
    assert psql(kubectl, old, "SELECT pg_postmaster_start_time()") == started
    assert not in_recovery(kubectl, old)
    wait_settled(kubectl, old, timeout=FINISH_SECONDS)


def _waits_at_precheck(kubectl: Kubectl, target: str) -> None:
    def waiting() -> bool:
        plan = region_status(kubectl).get("failover") or {}
        return plan.get("to") == target and plan.get("step") == "precheck"

    wait_until(f"a switchover to {target} waiting at precheck", waiting, timeout=60)


def _gives_up(kubectl: Kubectl, active: str, reason: str) -> None:
    """No plan left, FailoverInProgress=False with ``reason`` and ``active`` still primary."""

    def given_up() -> bool:
        status = region_status(kubectl)
        conditions = {c["type"]: c for c in status.get("conditions", [])}
        progress = conditions.get("FailoverInProgress", {})
        return (
            not status.get("failover")
            and (progress.get("status"), progress.get("reason")) == ("False", reason)
            and status.get("activeRegion") == active
        )

    wait_until(f"the switchover given up ({reason})", given_up, timeout=90)


def _set_switchover_timeout(kubectl: Kubectl, seconds: int) -> None:
    body = json.dumps({"spec": {"failover": {"switchoverTimeoutSeconds": seconds}}})
    kubectl("patch", "tier0region", "tier0", "--type=merge", "-p", body)
