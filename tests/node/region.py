"""The release's Tier0Region as the node tests read and move it: with kubectl, as docs/deploy.md
shows an operator doing it."""

from __future__ import annotations

import json
from typing import Any

from node.kube import Kube, wait_for

__all__ = ["PRIMARY", "REGION", "region_status", "settled_on", "switch_region"]

REGION = "tier0"  # the release's Tier0Region
PRIMARY = "region1"  # where every node test expects the primary when it starts
SWITCHOVER_TIMEOUT = 300.0


def region_status(release: Kube) -> dict[str, Any]:
    status: dict[str, Any] = release.get("tier0region", REGION).get("status", {})
    return status


def settled_on(release: Kube, region: str) -> bool:
    """``region`` is the active region and the resource is Ready (no switchover under way)."""
    status = region_status(release)
    return status.get("activeRegion") == region and status.get("phase") == "Ready"


def switch_region(release: Kube, region: str) -> None:
    """``kubectl patch`` spec.activeRegion to ``region`` (if it is not already active) and wait
    for the operator to report it active and Ready."""
    if settled_on(release, region):
        return
    patch = json.dumps({"spec": {"activeRegion": region}})
    release.run("patch", "tier0region", REGION, "--type=merge", "-p", patch)
    wait_for(
        f"{region} active and Ready",
        lambda: settled_on(release, region),
        timeout=SWITCHOVER_TIMEOUT,
    )
