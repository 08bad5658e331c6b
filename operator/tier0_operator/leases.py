"""Leases (coordination.k8s.io/v1): who may be the PostgreSQL primary, who leads the operators.

The primary Lease ``<resource>-primary`` names the region allowed to run the primary. Its
instance manager renews it; one that cannot renew in time stops PostgreSQL itself. The operator
creates it, moves it to the target of a failover after fencing, and before promoting a replica
while the old primary cannot be reached it waits until it has seen the Lease unrenewed for a
whole ``leaseDurationSeconds`` on its own clock (no clock comparisons between hosts).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

# The holder stops PostgreSQL when its last successful renewal started this share of the
# duration ago; the rest is the margin for the stop itself, before anyone may assume it.
SELF_FENCE_SHARE = 0.75
# Renewals per duration: a few missed ones (an API server hiccup) do not fence a healthy primary.
RENEWALS_PER_DURATION = 4


def primary_lease_name(resource: str) -> str:
    return f"{resource}-primary"


def _now() -> datetime:
    return datetime.now(UTC)


class Renewal(StrEnum):
    RENEWED = "renewed"
    ABSENT = "absent"  # no Lease yet (before the operator adopts the resource)
    LOST = "lost"  # another holder: this one must not be primary


@dataclass(frozen=True)
class LeaseState:
    holder: str | None
    version: str  # resourceVersion: changes with every renewal
    duration: float
    lease: Any = field(default=None, compare=False, repr=False)  # the object as read


class Leases:
    """Async wrappers (threads) over one namespace's Leases. ``request_timeout`` bounds each
    API request (seconds): a caller that must not hang when the API server is unreachable (an
    instance manager deciding whether it may stay primary) sets it."""

    def __init__(
        self, api: client.ApiClient, namespace: str, request_timeout: float | None = None
    ) -> None:
        self.api = client.CoordinationV1Api(api)
        self.namespace = namespace
        self.options: dict[str, Any] = (
            {} if request_timeout is None else {"_request_timeout": request_timeout}
        )

    async def read(self, name: str) -> LeaseState | None:
        lease = await self._read(name)
        if lease is None:
            return None
        return LeaseState(
            lease.spec.holder_identity,
            str(lease.metadata.resource_version),
            float(lease.spec.lease_duration_seconds or 0),
            lease,
        )

    async def _read(self, name: str) -> Any:
        try:
            return await asyncio.to_thread(
                self.api.read_namespaced_lease, name, self.namespace, **self.options
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    async def renew(self, name: str, holder: str) -> Renewal:
        """Renew ``name`` for ``holder`` if it holds it (a conflict counts as not renewed)."""
        lease = await self._read(name)
        if lease is None:
            return Renewal.ABSENT
        if lease.spec.holder_identity != holder:
            return Renewal.LOST
        lease.spec.renew_time = _now()
        await asyncio.to_thread(
            self.api.replace_namespaced_lease, name, self.namespace, lease, **self.options
        )
        return Renewal.RENEWED

    async def acquire(
        self,
        name: str,
        holder: str,
        duration: float,
        *,
        take_over: str | None = None,
        seen: LeaseState | None = None,
    ) -> bool:
        """Make ``holder`` hold ``name``: create it, keep it, take it when unheld, or take it
        from another holder only while its resourceVersion is still ``take_over`` (the version
        the caller judged expired). False when someone else holds it or won a race. ``seen``:
        the Lease as the caller just read it (no second read)."""
        lease = seen.lease if seen is not None else None
        if lease is None:
            lease = await self._read(name)
        now = _now()
        seconds = max(1, round(duration))
        if lease is None:
            spec = {"holderIdentity": holder, "leaseDurationSeconds": seconds,
                    "acquireTime": now, "renewTime": now}  # fmt: skip
            body = {"metadata": {"name": name}, "spec": spec}
            return await self._write(self.api.create_namespaced_lease, self.namespace, body)
        current = lease.spec.holder_identity
        if current not in (None, "", holder) and lease.metadata.resource_version != take_over:
            return False
        if current != holder:
            lease.spec.lease_transitions = (lease.spec.lease_transitions or 0) + 1
            lease.spec.acquire_time = now
        lease.spec.holder_identity = holder
        lease.spec.renew_time = now
        lease.spec.lease_duration_seconds = seconds
        return await self._write(self.api.replace_namespaced_lease, name, self.namespace, lease)

    async def _write(self, fn: Any, *args: Any) -> bool:
        try:
            await asyncio.to_thread(fn, *args, **self.options)
        except ApiException as exc:
            if exc.status == 409:  # resourceVersion conflict or created meanwhile: lost a race
                return False
            raise
        return True


class ExpiryWatch:
    """Tells when a Lease has gone unrenewed for its whole duration, by this process's clock."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.since = time.monotonic()

    def see(self, state: LeaseState | None) -> None:
        version = state.version if state else None
        if version != self.version:
            self.version, self.since = version, time.monotonic()

    def expired(self, state: LeaseState | None) -> bool:
        """Unheld, or the same version seen for longer than its duration."""
        self.see(state)
        if state is None or not state.holder:
            return True
        return time.monotonic() - self.since > state.duration
