"""``make up``: the chart installed on the node, waited for, and port-forwarded to 127.0.0.1.

The release is installed with the pinned helm from the repository's ``charts/tier0`` and the
local-node values (our offline image, never pulled). Port-forwards run as detached daemons that
restart ``kubectl port-forward`` whenever it ends (it ends when the pod behind it goes, as in a
failover), so the printed URLs keep working.
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tier0.cluster.components import NodeBinaries
from tier0.cluster.daemon import Daemon
from tier0.cluster.health import http_ok
from tier0.cluster.node import Cluster
from tier0.setup import gotools
from tier0.stack.base import LOOPBACK, StartupError

RELEASE = "tier0"
NAMESPACE = "tier0"
INSTALL_TIMEOUT = "20m"


@dataclass(frozen=True)
class Forward:
    """A Service port published on 127.0.0.1, and the path that says it works."""

    name: str
    service: str
    port: int
    local_port: int
    health: str

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.local_port}"


FORWARDS = (Forward("api", f"{RELEASE}-api", 8000, 8000, "/health"),)


def helm_env(cluster: Cluster) -> dict[str, str]:
    """The admin kubeconfig, and helm's caches kept inside the node's state directory."""
    home = cluster.paths.root / "helm"
    return {
        **os.environ,
        "KUBECONFIG": str(cluster.kubeconfig),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def install_args(cluster: Cluster, chart: Path) -> list[str]:
    """``helm upgrade --install`` of the release with the image this node imported."""
    tag = cluster.image("tier0").rsplit(":", 1)[1]
    return [
        str(gotools.HELM.path("helm")), "upgrade", "--install", RELEASE, str(chart),
        f"--namespace={NAMESPACE}", "--create-namespace",
        "-f", str(chart / "values-local.yaml"), "--set-string", f"image.tag={tag}",
        "--wait", "--wait-for-jobs", f"--timeout={INSTALL_TIMEOUT}",
    ]  # fmt: skip


def install(cluster: Cluster, chart: Path) -> None:
    proc = subprocess.run(
        install_args(cluster, chart), capture_output=True, text=True, env=helm_env(cluster)
    )
    if proc.returncode != 0:
        pods = cluster.kubectl("-n", NAMESPACE, "get", "pods", "-o", "wide")
        raise StartupError(f"helm install failed: {proc.stderr.strip()}\n{pods}")


def _forward_daemon(cluster: Cluster, forward: Forward) -> Daemon:
    kubectl = NodeBinaries.find().kubectl
    command = (
        f"while :; do {kubectl} --kubeconfig={cluster.kubeconfig} -n {NAMESPACE} port-forward"
        f" --address={LOOPBACK} service/{forward.service} {forward.local_port}:{forward.port};"
        " sleep 1; done"
    )
    return Daemon(
        name=f"port-forward-{forward.name}",
        argv=["sh", "-c", command],
        log_path=cluster.paths.log(f"port-forward-{forward.name}"),
        pid_file=cluster.paths.pid_file(f"port-forward-{forward.name}"),
        group=True,
    )


def start_forwards(cluster: Cluster) -> list[Forward]:
    """Each forward started (or kept, if running) and answering its health path."""
    for forward in FORWARDS:
        daemon = _forward_daemon(cluster, forward)
        if not daemon.running():
            daemon.start()
        check = functools.partial(http_ok, forward.url + forward.health)
        daemon.wait_ready(check, timeout=60, what=f"{forward.url}{forward.health}")
    return list(FORWARDS)


def stop_forwards(cluster: Cluster) -> None:
    for forward in FORWARDS:
        _forward_daemon(cluster, forward).stop()


def api_key_command() -> str:
    """How a user reads the API key the chart generated (printed, never stored elsewhere)."""
    return (
        f"kubectl -n {NAMESPACE} get secret {RELEASE}-credentials "
        "-o jsonpath='{.data.api-key}' | base64 -d"
    )
