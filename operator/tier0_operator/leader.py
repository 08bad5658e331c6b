"""Leader election between operator replicas: a Lease ``tier0-operator``; only its holder drives
plans (a rolling update or two replicas never run one plan twice).

The leader renews every duration/4 and stops leading when it has not renewed for 3/4 of the
duration (before anyone else may take over); another replica takes the Lease over once it has
seen it unrenewed for the whole duration by its own clock. Between steps of a plan the engine
asks ``check()``, so a leader that lost the Lease stops at the next step boundary.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

import structlog
import urllib3
from kubernetes.client.exceptions import ApiException

from tier0_operator.leases import (
    RENEWALS_PER_DURATION,
    SELF_FENCE_SHARE,
    ExpiryWatch,
    Leases,
)

log = structlog.get_logger(__name__)

LEADER_LEASE = "tier0-operator"
ERRORS = (ApiException, OSError, TimeoutError, urllib3.exceptions.HTTPError)


class LostLeadership(RuntimeError):
    """This replica no longer holds the operator Lease: stop driving the plan."""


class Leadership:
    def __init__(self, leases: Leases | None, duration: float) -> None:
        """``leases`` None: no election (a single replica by construction, e.g. a test)."""
        self.leases = leases
        self.duration = duration
        self.identity = f"{socket.gethostname()}-{os.getpid()}"
        self.leading = leases is None
        self.renewed_at = 0.0
        self.watch = ExpiryWatch()

    def check(self) -> None:
        if not self.leading:
            raise LostLeadership(f"{self.identity} no longer leads")

    async def run(self) -> None:
        while self.leases is not None:
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.duration / RENEWALS_PER_DURATION):
                    held = await self._hold(self.leases)
            except (*ERRORS, TimeoutError) as exc:
                held = False
                log.warning("operator Lease not renewed", error=str(exc)[:200])
            if held:
                self.renewed_at = started
            elif self.leading and time.monotonic() - self.renewed_at < self._deadline():
                held = True  # a missed renewal: still within the deadline
            if held != self.leading:
                log.warning("leadership changed", leading=held, identity=self.identity)
            self.leading = held
            await asyncio.sleep(self.duration / RENEWALS_PER_DURATION)

    def _deadline(self) -> float:
        return self.duration * SELF_FENCE_SHARE

    async def _hold(self, leases: Leases) -> bool:
        state = await leases.read(LEADER_LEASE)
        if state is not None and state.holder == self.identity:
            return await leases.acquire(LEADER_LEASE, self.identity, self.duration)
        if state is not None and state.holder and not self.watch.expired(state):
            return False
        version = state.version if state else None
        return await leases.acquire(LEADER_LEASE, self.identity, self.duration, take_over=version)
