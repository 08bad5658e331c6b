"""Write load through the ``-rw`` Service and a watch on every PostgreSQL pod, for failovers of
the chart's release on the node (tests/node/test_failover.py, benchmarks/failover_k8s).

The node is this host: kube-proxy's rules DNAT our own connections to a Service address, so the
Writer commits through ``tier0-postgres-rw`` exactly as an app pod does. A second task keeps a
superuser connection to every PostgreSQL pod and asks each, ten times a second, whether it
accepts writes; every answer is kept, so a test can show that no two pods ever did at once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg

from tier0.cluster.health import wait_until as wait_until  # the failover tests poll with it
from tier0.common.postgres import TRANSIENT_ERRORS
from tier0.stack.writer import Writer

T = TypeVar("T")
POLL_SECONDS = 0.1
# Seconds a pod's answer may take before it counts as "not accepting writes" for that round.
ANSWER_TIMEOUT = 1.0
FORGET_SECONDS = 10.0
READ_BACK_SECONDS = 60.0
WRITABLE = (
    "SELECT NOT pg_is_in_recovery() AND current_setting('default_transaction_read_only') = 'off'"
)


Kubectl = Callable[..., str]
"""kubectl in the release's namespace: arguments in, standard output back (raises on failure)."""


def credential(kubectl: Kubectl, key: str) -> str:
    """One key of the release's generated Secret."""
    data = json.loads(kubectl("get", "secret", "tier0-credentials", "-o", "json"))["data"]
    return base64.b64decode(data[key]).decode()


@dataclass
class Round:
    """One poll of every PostgreSQL pod: when it started, and which pods accepted writes."""

    at: float
    writable: frozenset[str]


@dataclass
class Watch:
    rounds: list[Round] = field(default_factory=list)

    def overlaps(self) -> list[Round]:
        """Rounds in which more than one pod accepted writes (there must be none)."""
        return [r for r in self.rounds if len(r.writable) > 1]

    def writable_since(self, since: float) -> set[str]:
        return {pod for r in self.rounds if r.at >= since for pod in r.writable}


class Load:
    """``with Load(kubectl) as load:`` commits through -rw and watches every PostgreSQL pod
    from a thread of its own (its own event loop) until the block ends."""

    def __init__(self, kubectl: Kubectl) -> None:
        self.kubectl = kubectl
        self.table = f"load_{uuid.uuid4().hex[:8]}"
        password = credential(kubectl, "app-password")
        service = json.loads(kubectl("get", "service", "tier0-postgres-rw", "-o", "json"))
        self.rw_dsn = f"postgresql://tier0:{password}@{service['spec']['clusterIP']}:5432/tier0"
        self.superuser = credential(kubectl, "superuser-password")
        self.watch = Watch()
        self.writer = Writer(self.rw_dsn, table=self.table)
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="failover-load", daemon=True)
        self._error: BaseException | None = None
        self._lost: int | None = None

    def __enter__(self) -> Load:
        self._thread.start()
        self._started.wait(60)
        if self._error is not None:
            raise self._error
        self.call(self.writer.wait_acked(10))
        return self

    def __exit__(self, *_: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        if self._error is not None:
            raise self._error

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        """Run ``work`` on the load's event loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    # -- results ------------------------------------------------------------------------

    def acked(self) -> int:
        return len(self.writer.acked)

    def outage_after(self, since: float) -> float:
        """Longest time without a commit from ``since`` (time.monotonic()) on."""
        return self.writer.longest_gap_after(since)

    def lost(self) -> int:
        """Acknowledged commits missing when read back through -rw (the current primary) once
        the writer had stopped; known after the ``with`` block."""
        if self._lost is None:
            raise RuntimeError("the load is still running")
        return self._lost

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the test by __enter__/__exit__
            self._error = exc
            self._started.set()
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with self.writer:
            watcher = asyncio.create_task(self._watch(self._stop))
            self._started.set()
            await self._stop.wait()
            await watcher
        self._lost = await self._read_back()

    async def _read_back(self) -> int:
        """``Writer.lost`` through -rw, retried while the primary is briefly unreachable."""
        deadline = time.monotonic() + READ_BACK_SECONDS
        while True:
            try:
                return await self.writer.lost(self.rw_dsn)
            except TRANSIENT_ERRORS:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def _watch(self, stop: asyncio.Event) -> None:
        # Keyed "pod@ip": a force-deleted pod leaves the API before its container has stopped,
        # and its replacement gets another address, so an address stays watched until it has
        # been gone from the API and unanswering for FORGET_SECONDS.
        targets: dict[str, float] = {}  # key -> last time listed or answering
        connections: dict[str, asyncpg.Connection] = {}
        refreshed = 0.0
        try:
            while not stop.is_set():
                started = time.monotonic()
                if started - refreshed > 1.0:
                    for key in await asyncio.to_thread(self._pod_addresses):
                        targets[key] = started
                    refreshed = started
                keys = list(targets)
                answers = await asyncio.gather(*(self._ask(key, connections) for key in keys))
                for key, answer in zip(keys, answers, strict=True):
                    if answer is not None:
                        targets[key] = started
                    elif started - targets[key] > FORGET_SECONDS:
                        del targets[key]
                writable = frozenset(
                    key.split("@")[0] for key, yes in zip(keys, answers, strict=True) if yes
                )
                self.watch.rounds.append(Round(started, writable))
                await asyncio.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - started)))
        finally:
            for conn in connections.values():
                conn.terminate()

    async def _ask(self, key: str, connections: dict[str, asyncpg.Connection]) -> bool | None:
        """Whether the server at ``key`` accepts writes now; None when it does not answer."""
        conn = connections.get(key)
        try:
            if conn is None or conn.is_closed():
                conn = await asyncpg.connect(
                    host=key.split("@")[1], port=5432, user="postgres",
                    password=self.superuser, database="postgres", timeout=ANSWER_TIMEOUT,
                )  # fmt: skip
                connections[key] = conn
            return bool(await conn.fetchval(WRITABLE, timeout=ANSWER_TIMEOUT))
        except (TimeoutError, asyncpg.PostgresError, *TRANSIENT_ERRORS):
            dropped = connections.pop(key, None)
            if dropped is not None:
                dropped.terminate()
            return None

    def _pod_addresses(self) -> list[str]:
        listed = self.kubectl(
            "get", "pods", "-l", "app.kubernetes.io/component=postgres", "-o", "json"
        )
        pods = json.loads(listed)["items"]
        return [
            f"{p['metadata']['name']}@{p['status']['podIP']}"
            for p in pods
            if p["status"].get("podIP")
        ]


# -- the release's Tier0Region and PostgreSQL pods -------------------------------------------

REGIONS = ("region1", "region2")
FAILBACK = "tier0.io/failback"
PSQL = "/usr/lib/postgresql/15/bin/psql"


def postgres_pod(region: str) -> str:
    return f"tier0-postgres-{region}-0"


def other_region(region: str) -> str:
    return REGIONS[1] if region == REGIONS[0] else REGIONS[0]


def _pods_ready(kubectl: Kubectl) -> bool:
    listed = kubectl("get", "pods", "-l", "app.kubernetes.io/component=postgres", "-o", "json")
    pods = json.loads(listed)["items"]
    return len(pods) == len(REGIONS) and all(
        not p["metadata"].get("deletionTimestamp")
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p["status"].get("conditions", [])
        )
        for p in pods
    )


def psql(kubectl: Kubectl, region: str, query: str, *, database: str = "postgres") -> str:
    """One query as the superuser over the local socket of ``region``'s PostgreSQL pod;
    unaligned, tuples only."""
    argv = (PSQL, "-h", "/tmp", "-U", "postgres", "-d", database, "-tAc", query)
    return kubectl("exec", postgres_pod(region), "--", *argv).strip()


def in_recovery(kubectl: Kubectl, region: str) -> bool:
    """``region``'s PostgreSQL says it is a replica (its own view, not the status's)."""
    return psql(kubectl, region, "SELECT pg_is_in_recovery()") == "t"


def pod_ip(kubectl: Kubectl, pod: str) -> str:
    return kubectl("get", "pod", pod, "-o", "jsonpath={.status.podIP}").strip()


def region_status(kubectl: Kubectl, *, spec: bool = False) -> dict[str, Any]:
    """The Tier0Region's status (or its spec)."""
    found = json.loads(kubectl("get", "tier0region", "tier0", "-o", "json"))
    part: dict[str, Any] = found.get("spec" if spec else "status") or {}
    return part


def patch_active(kubectl: Kubectl, region: str) -> None:
    """What a user does to switch over: patch spec.activeRegion; annotated tier0.io/failback
    when it names the region an automatic failover left (the operator ignores that otherwise)."""
    body: dict[str, Any] = {"spec": {"activeRegion": region}}
    if region_status(kubectl).get("failedOverFrom") == region:
        body["metadata"] = {"annotations": {FAILBACK: "true"}}
    patch = json.dumps(body)
    kubectl("patch", "tier0region", "tier0", "--type=merge", "-p", patch)


def settled(kubectl: Kubectl, region: str | None) -> str | None:
    """The active region once it is ``region`` (any, when None), the phase is Ready and the
    other region replicates from it (no plan running, the old primary has rejoined)."""
    status = region_status(kubectl)
    conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
    active = status.get("activeRegion")
    done = (
        active is not None
        and region in (None, active)
        and status.get("phase") == "Ready"
        and not status.get("failover")
        and conditions.get("Replicating") == "True"
    )
    return str(active) if done else None


def wait_settled(kubectl: Kubectl, region: str | None, timeout: float = 180) -> str:
    return wait_until(f"{region or 'a region'} settled", lambda: settled(kubectl, region), timeout)


@dataclass
class Outcome:
    """What one scenario did: the primary before and after, the client's outage (s), the time
    from writes resuming to the old primary following again (s), and the load's record."""

    old: str
    active: str
    outage: float
    rejoin: float
    load: Load
    lost: int
    overlaps: list[Round]


def run_scenario(
    kubectl: Kubectl, act: Callable[[str, str], None], *, moves: bool = True, timeout: float = 180
) -> Outcome:
    """``act(old, new)`` under load. ``moves``: the primary must end in the other region (a
    killed postmaster may instead be restarted in place by its instance manager). Waits for
    writes to resume and the region to settle, then reads every acknowledged commit back."""
    old = wait_settled(kubectl, None, timeout)
    new = other_region(old)
    with Load(kubectl) as load:
        trigger = time.monotonic()
        act(old, new)
        if moves:
            wait_until(
                f"{new} primary", lambda: region_status(kubectl).get("activeRegion") == new, timeout
            )
        load.call(load.writer.wait_acked(20))  # writing again, through -rw
        resumed = time.monotonic()

        def steady() -> str | None:
            # The status, every PostgreSQL pod Ready (none terminating) and the watch agree.
            active = settled(kubectl, new if moves else None)
            rounds = load.watch.rounds
            if active is None or not _pods_ready(kubectl) or not rounds:
                return None
            return active if rounds[-1].writable == {postgres_pod(active)} else None

        active = wait_until("the region steady", steady, timeout)
        rejoin = time.monotonic() - resumed
        outage = load.outage_after(trigger)
    return Outcome(old, active, outage, rejoin, load, load.lost(), load.watch.overlaps())
