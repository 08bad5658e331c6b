"""The single-node cluster, started once per session (or reused when already up)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.kube import CHART, Kube, port_forward, wait_for
from tier0.cluster import deploy
from tier0.cluster.node import Cluster

NODE_STARTUP_KEY = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """The node: a running one is reused (its images refreshed; left running); otherwise started
    here, and at the end taken down and checked to leave nothing behind."""
    node = Cluster()
    if node.is_up():
        node.refresh_images()  # the checkout's code, not the one the node started with
        yield node
        return
    node.up()
    request.config.stash[NODE_STARTUP_KEY] = node.timings.get("up", 0.0)
    yield node
    node.down()
    left = node.leftovers()
    assert not left, "`tier0 cluster down` left behind:\n" + "\n".join(left)


@pytest.fixture(scope="session")
def tier0_image(cluster: Cluster) -> str:
    return cluster.image("tier0")


@pytest.fixture
def kube(cluster: Cluster, tmp_path: Path) -> Iterator[Kube]:
    """A fresh namespace for one test, deleted afterwards (without waiting for it)."""
    name = f"node-{uuid.uuid4().hex[:8]}"
    created = Kube(cluster, name, tmp_path)
    created.run("create", "namespace", name)
    # Pods are refused until the controller-manager has given the namespace its `default` account.
    wait_for(
        "the default ServiceAccount",
        lambda: created.run("get", "serviceaccount", "default", check=False).returncode == 0,
    )
    try:
        yield created
    finally:
        created.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="session")
def release(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Kube:
    """The chart installed as `make up` does it (``helm upgrade --install``, every pod Ready,
    every Job complete): release ``tier0`` in namespace ``tier0``, shared by the session."""
    deploy.install(cluster, CHART)
    return Kube(cluster, deploy.NAMESPACE, tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="session")
def api(release: Kube) -> Iterator[str]:
    """The API Service port-forwarded to a free loopback port."""
    with port_forward(release, "service/tier0-api", 8000) as url:
        yield url


# What a failed test that used the release prints beside its traceback: the operator's view and
# the last log lines of the pods a failover involves (the node, and so these logs, may be gone
# by the time anyone looks).
CLUSTER_STATE = (
    ("the Tier0Region", ("get", "tier0region", "tier0", "-o", "yaml")),
    ("the operator's log", ("logs", "deployment/tier0-operator", "--tail=80")),
    ("region1's instance manager", ("logs", "tier0-postgres-region1-0", "--tail=40")),
    ("region2's instance manager", ("logs", "tier0-postgres-region2-0", "--tail=40")),
    ("the pods", ("get", "pods", "-o", "wide")),
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    release = getattr(item, "funcargs", {}).get("release")
    if report.when == "call" and report.failed and isinstance(release, Kube):
        for title, args in CLUSTER_STATE:
            try:
                text = release.run(*args, check=False).stdout
            except Exception as exc:  # the node itself may be what failed
                text = f"(could not read: {exc})"
            report.sections.append((f"cluster state: {title}", text[-8000:]))
    return report
