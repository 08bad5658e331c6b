"""The release as the node tests drive it: its Tier0Region, read and moved with kubectl as
docs/deploy.md shows an operator doing it, its operate key, and the question of its helm test."""

from __future__ import annotations

import base64
import json
from typing import Any

import yaml

from node.kube import CHART, Kube, wait_for
from tier0.cluster import deploy

__all__ = [
    "PRIMARY",
    "REGION",
    "helm_test_question",
    "operate_key",
    "region_status",
    "settled_on",
    "switch_region",
]

REGION = "tier0"  # the release's Tier0Region
PRIMARY = "region1"  # where every node test expects the primary when it starts
SWITCHOVER_TIMEOUT = 300.0


def region_status(release: Kube) -> dict[str, Any]:
    status: dict[str, Any] = release.get("tier0region", REGION).get("status", {})
    return status


def settled_on(release: Kube, region: str) -> bool:
    """``region`` is the active region, the resource is Ready (no switchover under way) and the
    other region streams from it (a switchover's precheck waits for that)."""
    status = region_status(release)
    replicating = any(
        c["type"] == "Replicating" and c["status"] == "True" for c in status.get("conditions", [])
    )
    return status.get("activeRegion") == region and status.get("phase") == "Ready" and replicating


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


def operate_key(release: Kube) -> str:
    """The generated key of the operate scope (POST /api/failover, the dashboard's switch)."""
    secret = release.get("secret", f"{deploy.RELEASE}-credentials")
    return base64.b64decode(secret["data"]["operate-api-key"]).decode()


def helm_test_question() -> str:
    """The question the chart's helm test asks (values.yaml ``tests.question``)."""
    question: str = yaml.safe_load((CHART / "values.yaml").read_text())["tests"]["question"]
    return question
