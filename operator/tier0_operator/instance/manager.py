"""The instance manager's state machine: operations the operator asks for over HTTP, and what
it does on its own (bring PostgreSQL up as ``decide_start`` says, renew the primary Lease, stop
PostgreSQL when it can no longer confirm it may be primary, rewind or clone a standby that
cannot follow its primary).

One lock serialises everything that touches the data directory, so an operation and the
manager's own bring-up never interleave. ``fenced`` (set by ``fence``, cleared by ``start``)
keeps the manager from bringing PostgreSQL back on its own.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tier0_operator.engine.pg import ensure_slot
from tier0_operator.instance import metrics
from tier0_operator.instance.config import InstanceConfig
from tier0_operator.instance.decision import (
    ControlData,
    Decision,
    LeaseView,
    RegionView,
    Start,
    decide_start,
)
from tier0_operator.instance.history import divergence_in_log
from tier0_operator.instance.postgres import CommandFailed, Following, Postgres, Source
from tier0_operator.instance.rejoin import Rejoiner
from tier0_operator.leases import (
    RENEWALS_PER_DURATION,
    SELF_FENCE_SHARE,
    Leases,
    Renewal,
    primary_lease_name,
)
from tier0_operator.model import GROUP, PLURAL, VERSION, Tier0RegionSpec

log = structlog.get_logger(__name__)

BRING_UP_RETRY_SECONDS = 1.0
# Until the operator has created the Lease its duration is unknown: renew/fence on this basis.
DEFAULT_LEASE_SECONDS = 3.0
KUBE_ERRORS = (ApiException, OSError, TimeoutError, urllib3.exceptions.HTTPError)
# Bounds on the API server's answers. A manager cut off from it must not hold its lock (and so
# the operator's /fence) while a request hangs: each request gives up after this many seconds,
# and the whole decision to start after API_DECISION_SECONDS.
API_REQUEST_SECONDS = 2.0
API_DECISION_SECONDS = 5.0


class Refused(RuntimeError):
    """The operation is not allowed in the current state (HTTP 409)."""


@dataclass
class InstanceState:
    fenced: bool = False  # told to stay down
    last_decision: str = ""
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    last_renewed: float | None = None  # monotonic start of the last successful renewal
    self_fenced: str = ""  # why it last stopped itself
    errors: list[str] = field(default_factory=list)


class InstanceManager:
    def __init__(self, config: InstanceConfig, api: client.ApiClient) -> None:
        self.config = config
        self.pg = Postgres(config)
        self.rejoiner = Rejoiner(self.pg)
        self.rewound_before_start = False  # the running server was rewound just before
        self.lock = asyncio.Lock()
        self.state = InstanceState()
        self.custom = client.CustomObjectsApi(api)
        self.leases = Leases(api, config.namespace, request_timeout=API_REQUEST_SECONDS)
        self.lease_name = primary_lease_name(config.resource)
        self.spec: Tier0RegionSpec | None = None  # the last one read: where the regions are

    # ---- what the HTTP API serves; each returns the state it left behind -------------------

    async def status(self) -> dict[str, Any]:
        recovery = await self.pg.in_recovery()
        control = None
        if not self.pg.running():
            try:
                control = await self.pg.control()
            except CommandFailed:
                control = None  # a damaged data directory: rewind fails, clone replaces it
        role = "stopped" if recovery is None else ("replica" if recovery else "primary")
        body: dict[str, Any] = {
            "region": self.config.region,
            "role": role,
            "running": self.pg.running(),
            "fenced": self.state.fenced,
            "initialized": self.pg.initialized(),
            "standby": self.pg.standby(),
            "decision": self.state.last_decision,
            "selfFenced": self.state.self_fenced,
            **self.rejoiner.status(),
        }
        if control is not None:
            body |= {"clusterState": control.state, "timeline": control.timeline,
                     "checkpointLsn": control.checkpoint_lsn}  # fmt: skip
        return body

    async def fence(self) -> dict[str, Any]:
        """Stop PostgreSQL (fast: every WAL record reaches the standbys) and stay down."""
        async with self.lock:
            self.state.fenced = True
            started = time.monotonic()
            was_running = self.pg.running()
            await self.pg.stop("fast")
        stopped = time.monotonic()
        if was_running:
            metrics.SHUTDOWN_SECONDS.observe(stopped - started)
        status = await self.status()
        log.info("fenced", region=self.config.region, stop_seconds=round(stopped - started, 3),
                 status_seconds=round(time.monotonic() - stopped, 3))  # fmt: skip
        return status

    async def rewind(self, source: Source) -> dict[str, Any]:
        async with self.lock:
            self._require_stopped("rewind")
            await self.pg.rewind(source)
        return await self.status()

    async def clone(self, source: Source) -> dict[str, Any]:
        async with self.lock:
            self._require_stopped("clone")
            await self._ensure_slot(source)
            await self.pg.clone(source)
        return await self.status()

    async def follow(self, source: Source, slot: str) -> dict[str, Any]:
        async with self.lock:
            self._require_stopped("follow")
            self.pg.follow(source, slot)
        return await self.status()

    async def start(self) -> dict[str, Any]:
        """Start PostgreSQL; a primary only if the Tier0Region and the Lease allow it."""
        async with self.lock:
            if not self.pg.running() and self.pg.standby():
                await self._start_following()
            elif not self.pg.running():
                decision = await self._decide()
                if decision.start is not Start.PRIMARY:
                    raise Refused(f"may not start as primary: {decision.reason}")
                await self.pg.start()
            self.state.fenced = False
        return await self.status()

    def _require_stopped(self, what: str) -> None:
        if self.pg.running():
            raise Refused(f"{what} needs PostgreSQL stopped: fence first")
        if self.pg.volume_fd is None:
            raise Refused(f"{what} waits until the previous server on this volume has exited")

    # ---- on its own -------------------------------------------------------------------------

    async def run(self) -> None:
        """Bring PostgreSQL up whenever it is down and not fenced; keep the Lease."""
        lease = asyncio.create_task(self._keep_lease())
        try:
            await self.pg.hold_volume()  # nothing touches the data directory before
            while True:
                if not self.pg.running() and not self.state.fenced:
                    await self._bring_up()
                elif self.pg.running():
                    await self._watch_following()
                await asyncio.sleep(BRING_UP_RETRY_SECONDS if not self.pg.running() else 0.2)
        finally:
            lease.cancel()
            await self.pg.stop("fast")

    async def _bring_up(self) -> None:
        async with self.lock:
            if self.pg.running() or self.state.fenced:
                return
            try:
                await self._bring_up_locked()
            except (CommandFailed, *KUBE_ERRORS, asyncpg.PostgresError) as exc:
                log.warning("bring-up failed; retrying", error=str(exc)[-500:])

    async def _bring_up_locked(self) -> None:
        decision = await self._decide()
        if decision.reason != self.state.last_decision:
            log.info("start decision", start=decision.start.value, reason=decision.reason)
        self.state.last_decision = decision.reason
        if decision.start is Start.WAIT:
            return
        source = self._source(decision.active) if decision.active else None
        if decision.start is Start.INIT_PRIMARY:
            await self._acquire_for_start()
            await self.pg.init_primary()
        elif decision.start is Start.PRIMARY:
            await self._acquire_for_start()
            await self.pg.start()
        elif decision.start is Start.CLONE and source is not None:
            await self._ensure_slot(source)
            await self.pg.clone(source)
            self.pg.follow(source, self.config.region)
            await self.pg.start()
        else:
            await self._start_standby(decision, source)

    async def _start_standby(self, decision: Decision, source: Source | None) -> None:
        if source is None:  # the Tier0Region unreadable, or this region's standby not promoted
            await self._start_following()
        elif decision.start is Start.REWIND:
            # A former primary: its WAL may reach past the point where the active region's
            # timeline began. pg_rewind finds out (and leaves it alone when it does not).
            following = Following(source, self.config.region)
            method = await self.rejoiner.rejoin(following, f"a former primary: {decision.reason}")
            await self._start_following(rejoined_by=method)
        else:
            await self._ensure_slot(source)
            self.pg.follow(source, self.config.region)
            await self._start_following()

    async def _start_following(self, rejoined_by: str = "") -> None:
        """Start the stopped standby. One whose history cannot continue on its primary's
        rejoins first: PostgreSQL would retry (or fail to start) forever."""
        following = self.pg.following()
        if following is not None and not rejoined_by:
            reason = await self.rejoiner.divergence(following.source)
            if reason is not None:
                rejoined_by = await self.rejoiner.rejoin(following, reason)
        self.rewound_before_start = rejoined_by == "rewind"
        try:
            await self.pg.start()
        except CommandFailed:
            logged = divergence_in_log(self.pg.new_log())
            if following is None or logged is None:
                raise
            await self._rejoin_logged(following, logged)

    async def _rejoin_logged(self, following: Following, line: str) -> None:
        """The stopped server said it cannot follow: rejoin (by a clone if it had just been
        rewound, which did not help) and start it."""
        clone = self.rewound_before_start
        method = await self.rejoiner.rejoin(following, f"server log: {line}", clone=clone)
        self.rewound_before_start = method == "rewind"
        await self.pg.start()

    async def _watch_following(self) -> None:
        """A running standby whose server log says it cannot follow its primary (its WAL
        receiver refused, a newer timeline forked before its position) stops and rejoins."""
        if self.lock.locked():
            return  # an operation is under way; it reads the log of a start itself
        async with self.lock:
            following = self.pg.following() if self.pg.running() else None
            logged = divergence_in_log(self.pg.new_log()) if following else None
            if following is None or logged is None:
                return
            await self.pg.stop("fast")
            try:
                await self._rejoin_logged(following, logged)
            except (CommandFailed, OSError) as exc:  # stopped, not fenced: bring-up retries
                log.warning("rejoin failed; retrying", error=str(exc)[-500:])

    async def _decide(self) -> Decision:
        async with asyncio.timeout(API_DECISION_SECONDS):
            return await self._decide_now()

    async def _decide_now(self) -> Decision:
        region, spec = await self._read_region()
        lease = None
        try:
            found = await self.leases.read(self.lease_name)
            lease = LeaseView(found.holder if found else None)
            if found is not None:
                self.state.lease_seconds = found.duration
        except KUBE_ERRORS:
            pass
        control = ControlData(self.pg.initialized(), self.pg.standby())
        self.spec = spec or self.spec
        return decide_start(self.config.region, region, control, lease)

    async def _read_region(self) -> tuple[RegionView | None, Tier0RegionSpec | None]:
        try:
            resource = await asyncio.to_thread(
                self.custom.get_namespaced_custom_object,
                GROUP, VERSION, self.config.namespace, PLURAL, self.config.resource,
                _request_timeout=API_REQUEST_SECONDS,
            )  # fmt: skip
        except KUBE_ERRORS as exc:
            log.info("Tier0Region unreadable", error=str(exc)[:200])
            return None, None
        assert isinstance(resource, dict)
        return RegionView.from_resource(resource), Tier0RegionSpec.parse(resource["spec"])

    def _source(self, region: str) -> Source | None:
        if self.spec is None:
            return None
        endpoint = self.spec.region(region).postgres
        return Source(endpoint.address(self.config.namespace), endpoint.port)

    async def _ensure_slot(self, source: Source) -> None:
        """The slot named after this region on ``source`` keeps the WAL this node will need."""
        conn = await self.pg.connect_source(source)
        try:
            await ensure_slot(conn, self.config.region)
        finally:
            await conn.close()

    # ---- the primary Lease ------------------------------------------------------------------

    async def _acquire_for_start(self) -> None:
        """Renew the Lease before a primary starts: a moved or unreadable Lease stops it here."""
        started = time.monotonic()
        async with asyncio.timeout(API_DECISION_SECONDS):
            result = await self.leases.renew(self.lease_name, self.config.region)
        if result is Renewal.LOST:
            raise CommandFailed("the primary Lease moved to another region")
        self.state.last_renewed = started

    async def _keep_lease(self) -> None:
        """While running as primary: renew; stop PostgreSQL when renewal fails for too long."""
        while True:
            await asyncio.sleep(self.state.lease_seconds / RENEWALS_PER_DURATION)
            if await self.pg.in_recovery() is not False:
                self.state.last_renewed = None
                continue
            started = time.monotonic()
            try:
                # A cut-off API server must not hold this loop past the self-fence deadline.
                async with asyncio.timeout(self.state.lease_seconds / RENEWALS_PER_DURATION):
                    result = await self.leases.renew(self.lease_name, self.config.region)
            except KUBE_ERRORS as exc:
                result = None
                log.warning("cannot renew the primary Lease", error=str(exc)[:200])
            metrics.LEASE_RENEWALS.labels("failed" if result is None else result.value).inc()
            if result is Renewal.LOST:
                await self._self_fence("the primary Lease is held by another region")
                continue
            if result is not None:
                self.state.last_renewed = started
            elif self.state.last_renewed is None:
                self.state.last_renewed = started  # just promoted: count from now
            limit = self.state.lease_seconds * SELF_FENCE_SHARE
            if time.monotonic() - self.state.last_renewed > limit:
                await self._self_fence(f"primary Lease not renewed for {limit:g} s")

    async def _self_fence(self, why: str) -> None:
        """Stop at once (no checkpoint): the operator may promote another region soon."""
        log.warning("stopping PostgreSQL: cannot confirm it may be primary", reason=why)
        self.state.self_fenced = why
        self.state.last_renewed = None
        metrics.SELF_FENCES.inc()
        await self.pg.stop("immediate")
