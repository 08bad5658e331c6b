"""``decide_start`` on its own: how a stopped PostgreSQL may start, for every kind of input."""

from __future__ import annotations

import pytest

from tier0_operator.instance.decision import (
    ControlData,
    LeaseView,
    RegionView,
    Start,
    decide_start,
)

pytestmark = pytest.mark.operator

EMPTY = ControlData(initialized=False, standby=False)
PRIMARY_DATA = ControlData(initialized=True, standby=False)
STANDBY_DATA = ControlData(initialized=True, standby=True)
NEW = RegionView(spec_active="region1", status_active=None, moving_from=None)
ON_1 = RegionView(spec_active="region1", status_active="region1", moving_from=None)
ON_2 = RegionView(spec_active="region2", status_active="region2", moving_from=None)
FENCING_1 = RegionView(spec_active="region2", status_active="region1", moving_from="region1")
MINE = LeaseView("region1")
THEIRS = LeaseView("region2")
NO_LEASE = LeaseView(None)

CASES = [
    # (id, me, region, control, lease, expected start, expected source)
    ("new-active-initdb", "region1", NEW, EMPTY, NO_LEASE, Start.INIT_PRIMARY, "region1"),
    ("new-other-clones", "region2", NEW, EMPTY, NO_LEASE, Start.CLONE, "region1"),
    ("new-active-restarts", "region1", NEW, PRIMARY_DATA, NO_LEASE, Start.PRIMARY, "region1"),
    ("new-other-standby", "region2", NEW, STANDBY_DATA, NO_LEASE, Start.STANDBY, "region1"),
    ("unreadable-primary-waits", "region1", None, PRIMARY_DATA, MINE, Start.WAIT, None),
    ("unreadable-empty-waits", "region1", None, EMPTY, None, Start.WAIT, None),
    ("unreadable-standby-starts", "region2", None, STANDBY_DATA, None, Start.STANDBY, None),
    ("active-holder-primary", "region1", ON_1, PRIMARY_DATA, MINE, Start.PRIMARY, "region1"),
    ("active-unheld-primary", "region1", ON_1, PRIMARY_DATA, NO_LEASE, Start.PRIMARY, "region1"),
    ("active-lease-elsewhere", "region1", ON_1, PRIMARY_DATA, THEIRS, Start.WAIT, "region1"),
    ("active-lease-unreadable", "region1", ON_1, PRIMARY_DATA, None, Start.WAIT, "region1"),
    ("active-being-fenced", "region1", FENCING_1, PRIMARY_DATA, MINE, Start.WAIT, "region1"),
    ("active-standby-awaits-promote", "region2", ON_2, STANDBY_DATA, THEIRS, Start.STANDBY, None),
    ("former-primary-rewinds", "region1", ON_2, PRIMARY_DATA, THEIRS, Start.REWIND, "region2"),
    ("replica-follows-active", "region1", ON_2, STANDBY_DATA, THEIRS, Start.STANDBY, "region2"),
    ("replica-lost-data-clones", "region1", ON_2, EMPTY, THEIRS, Start.CLONE, "region2"),
    ("active-lost-data-waits", "region1", ON_1, EMPTY, MINE, Start.WAIT, "region1"),
]


@pytest.mark.parametrize(
    ("me", "region", "control", "lease", "start", "source"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_start_decision(
    me: str,
    region: RegionView | None,
    control: ControlData,
    lease: LeaseView | None,
    start: Start,
    source: str | None,
) -> None:
    decision = decide_start(me, region, control, lease)
    assert (decision.start, decision.active) == (start, source), decision.reason


def test_no_input_without_a_readable_resource_starts_a_primary() -> None:
    """Whatever the data directory and Lease say, an unreadable Tier0Region never yields one."""
    for control in (EMPTY, PRIMARY_DATA, STANDBY_DATA):
        for lease in (MINE, THEIRS, NO_LEASE, None):
            decision = decide_start("region1", None, control, lease)
            assert decision.start not in (Start.PRIMARY, Start.INIT_PRIMARY)


def test_region_view_reads_a_plan_past_precheck_as_fencing() -> None:
    resource = {
        "spec": {"activeRegion": "region2"},
        "status": {"activeRegion": "region1", "failover": {"from": "region1", "step": "fence"}},
    }
    assert RegionView.from_resource(resource) == FENCING_1
    resource["status"]["failover"]["step"] = "precheck"
    assert RegionView.from_resource(resource).moving_from is None
