""" "May I run as primary?": one pure function of (Tier0Region status, control data, lease).

Called by the instance manager whenever PostgreSQL is not running and nobody told it to stay
down: at pod start, after a crash of the postmaster, after it fenced itself. Safe by default:
without a readable Tier0Region, or with a switchover/failover moving the primary away from this
region, it never starts a primary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Start(StrEnum):
    """What the instance manager does with a stopped PostgreSQL."""

    PRIMARY = "primary"  # start the data directory as it is, writable
    INIT_PRIMARY = "init-primary"  # empty data directory: initdb, roles, databases
    CLONE = "clone"  # empty data directory: pg_basebackup from the active region
    STANDBY = "standby"  # a standby: (re)point it at the active region and start it
    REWIND = "rewind"  # a former primary: pg_rewind (else clone) onto the active region, standby
    WAIT = "wait"  # not now: ask again later


@dataclass(frozen=True)
class RegionView:
    """What the Tier0Region says about who should be primary."""

    spec_active: str
    status_active: str | None  # None: the operator has not adopted the resource yet
    moving_from: str | None  # source of a switchover/failover past its precheck (fencing)

    @classmethod
    def from_resource(cls, resource: Mapping[str, Any]) -> RegionView:
        status = resource.get("status") or {}
        plan = status.get("failover") or {}
        fencing = plan and plan.get("step") not in (None, "precheck")
        return cls(
            spec_active=str(resource["spec"]["activeRegion"]),
            status_active=status.get("activeRegion"),
            moving_from=plan.get("from") if fencing else None,
        )


@dataclass(frozen=True)
class ControlData:
    """The local data directory."""

    initialized: bool  # PG_VERSION exists
    standby: bool  # standby.signal exists: it starts in recovery


@dataclass(frozen=True)
class LeaseView:
    """The primary Lease (coordination.k8s.io): which region may hold the primary."""

    holder: str | None


@dataclass(frozen=True)
class Decision:
    start: Start
    active: str | None  # the region to clone from / follow (None when unknown)
    reason: str


def decide_start(
    me: str, region: RegionView | None, control: ControlData, lease: LeaseView | None
) -> Decision:
    """How region ``me``'s stopped PostgreSQL may start; ``region``/``lease`` None: unreadable."""
    if region is None:
        if control.initialized and control.standby:
            return Decision(Start.STANDBY, None, "Tier0Region unreadable: a standby is safe")
        return Decision(Start.WAIT, None, "Tier0Region unreadable: never start a primary blind")
    if region.status_active is None:
        return _bootstrap(me, region.spec_active, control)
    active = region.status_active
    if not control.initialized:
        if active == me:
            # The resource has history: an empty primary would be a new, empty database.
            return Decision(Start.WAIT, active, "data directory empty on the active region")
        return Decision(Start.CLONE, active, f"empty: clone from {active}")
    if active != me:
        how = Start.STANDBY if control.standby else Start.REWIND
        return Decision(how, active, f"{active} is active")
    return _active_here(me, region, control, lease)


def _bootstrap(me: str, spec_active: str, control: ControlData) -> Decision:
    """No status yet: spec.activeRegion initialises the database, the others clone from it."""
    if spec_active == me:
        if not control.initialized:
            return Decision(Start.INIT_PRIMARY, me, "new resource, this region is active")
        if control.standby:
            return Decision(Start.STANDBY, None, "new resource, data directory is a standby")
        return Decision(Start.PRIMARY, me, "new resource, this region is active")
    if not control.initialized:
        return Decision(Start.CLONE, spec_active, f"new resource: clone from {spec_active}")
    how = Start.STANDBY if control.standby else Start.REWIND
    return Decision(how, spec_active, f"new resource, {spec_active} is active")


def _active_here(
    me: str, region: RegionView, control: ControlData, lease: LeaseView | None
) -> Decision:
    """status.activeRegion names this region: primary unless fenced or the lease is elsewhere."""
    if control.standby:
        # Promotion is the operator's step (pg_promote); a standby starts as one.
        return Decision(Start.STANDBY, None, "active, but a standby until promoted")
    if region.moving_from == me:
        return Decision(Start.WAIT, me, "a switchover/failover away from this region is fencing")
    if lease is None:
        return Decision(Start.WAIT, me, "primary lease unreadable")
    if lease.holder not in (None, me):
        return Decision(Start.WAIT, me, f"primary lease held by {lease.holder}")
    return Decision(Start.PRIMARY, me, "active region and lease holder")
