"""The release as the node tests drive it: its Tier0Region, read and moved with kubectl as
docs/deploy.md shows an operator doing it (``tier0.cluster.failover_load`` reads and patches
it), its operate key, and the question of its helm test."""

from __future__ import annotations

import yaml

from node.kube import CHART, Kube
from tier0.cluster.failover_load import credential, patch_active, settled, wait_settled

__all__ = ["PRIMARY", "helm_test_question", "operate_key", "switch_region"]

PRIMARY = "region1"  # where every node test expects the primary when it starts
SWITCHOVER_TIMEOUT = 300.0


def switch_region(release: Kube, region: str, *, timeout: float = SWITCHOVER_TIMEOUT) -> None:
    """Switch over to ``region`` as a user does (``patch_active``) unless it is settled there
    already, and wait until it is: active, Ready, the other region streaming from it."""
    if settled(release.output, region):
        return
    patch_active(release.output, region)
    wait_settled(release.output, region, timeout)


def operate_key(release: Kube) -> str:
    """The generated key of the operate scope (POST /api/failover, the dashboard's switch)."""
    return credential(release.output, "operate-api-key")


def helm_test_question() -> str:
    """The question the chart's helm test asks (values.yaml ``tests.question``)."""
    question: str = yaml.safe_load((CHART / "values.yaml").read_text())["tests"]["question"]
    return question
