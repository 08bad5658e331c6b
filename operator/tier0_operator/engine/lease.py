"""The primary Lease as the failover engine uses it: watch it, and hand it to the target.

Fencing is what makes promotion safe; the Lease is how fencing holds when the old primary
cannot be asked. Its instance manager stops PostgreSQL when it cannot renew the Lease for 3/4 of
its duration, so once this process has seen the Lease unrenewed for the whole duration, the old
primary is down (or was never up), and handing the Lease to the target in the same breath (only
if still at the version judged expired) keeps it from coming back as a primary.
"""

from __future__ import annotations

from typing import Protocol

from tier0_operator.leases import ExpiryWatch, Leases, LeaseState


class PrimaryLease(Protocol):
    async def observe(self) -> None:
        """Look at the Lease now (called on every probe, so expiry is judged early)."""

    async def current(self) -> LeaseState | None:
        """The Lease as it is now (None: there is none)."""

    async def hand_over(
        self, region: str, duration: float, *, fenced: bool, seen: LeaseState | None = None
    ) -> bool:
        """``region`` holds the Lease. ``fenced``: the old holder is known to be stopped; else
        only once the Lease has gone unrenewed for its duration. False: not yet. ``seen``: the
        Lease as read a moment ago (read again only if it was renewed since)."""


class KubePrimaryLease:
    def __init__(self, leases: Leases, name: str) -> None:
        self.leases, self.name = leases, name
        self.watch = ExpiryWatch()

    async def observe(self) -> None:
        self.watch.see(await self.leases.read(self.name))

    async def current(self) -> LeaseState | None:
        return await self.leases.read(self.name)

    async def hand_over(
        self, region: str, duration: float, *, fenced: bool, seen: LeaseState | None = None
    ) -> bool:
        state = seen if seen is not None else await self.leases.read(self.name)
        if state is not None and state.holder == region:
            return True
        if not fenced and not self.watch.expired(state):
            return False
        version = state.version if state else None
        if await self.leases.acquire(self.name, region, duration, take_over=version, seen=state):
            return True
        # Renewed by the old holder between that read and this write: judge it as it is now.
        return seen is not None and await self.hand_over(region, duration, fenced=fenced)
