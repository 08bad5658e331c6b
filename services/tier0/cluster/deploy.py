"""``make up``: the chart installed on the node, waited for, and port-forwarded to 127.0.0.1.

The release is installed with the pinned helm from the repository's ``charts/tier0`` and the
local-node values (our offline image, never pulled). The dashboard, the API and Prometheus are
port-forwarded by detached daemons that restart ``kubectl port-forward`` whenever it ends (it
ends when the pod behind it goes, as in a failover), so the printed URLs keep working.
"""

from __future__ import annotations

import functools
import json
import os
import socket
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


FORWARDS = (
    Forward("dashboard", f"{RELEASE}-dashboard", 8080, 8080, "/healthz"),
    Forward("api", f"{RELEASE}-api", 8000, 8000, "/health"),
    Forward("prometheus", f"{RELEASE}-prometheus", 9090, 9090, "/-/ready"),
)

# The credentials Secret's keys, by the scope they grant (docs/dashboard.md).
API_KEYS = {"write": "api-key", "operate": "operate-api-key"}


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


# A helm run killed part-way leaves its release in one of these; every later upgrade then
# fails with "another operation (install/upgrade/rollback) is in progress".
STUCK_STATES = {"pending-install", "pending-upgrade", "pending-rollback"}


def release_status(cluster: Cluster) -> str | None:
    """The release's helm status (``deployed``, ``failed``, ``pending-upgrade``...), or None."""
    helm = str(gotools.HELM.path("helm"))
    proc = subprocess.run(
        [helm, "status", RELEASE, f"--namespace={NAMESPACE}", "-o", "json"],
        capture_output=True, text=True, env=helm_env(cluster),
    )  # fmt: skip
    if proc.returncode != 0:
        return None
    status: str = json.loads(proc.stdout)["info"]["status"]
    return status


def _unstick(cluster: Cluster) -> None:
    """Roll an interrupted upgrade back to the last good revision (uninstall an install)."""
    status = release_status(cluster)
    if status not in STUCK_STATES:
        return
    helm = str(gotools.HELM.path("helm"))
    verb = ["uninstall", RELEASE] if status == "pending-install" else ["rollback", RELEASE]
    subprocess.run(
        [helm, *verb, f"--namespace={NAMESPACE}", "--wait", f"--timeout={INSTALL_TIMEOUT}"],
        capture_output=True, text=True, env=helm_env(cluster), check=True,
    )  # fmt: skip


def install(cluster: Cluster, chart: Path) -> None:
    _unstick(cluster)
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


def local_port_free(port: int) -> bool:
    """True when nothing listens on ``127.0.0.1:port`` (connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def start_forwards(cluster: Cluster) -> list[Forward]:
    """Each forward started (or kept, if running) and answering its health path.

    A local port something else listens on is refused before any forward starts: ``kubectl
    port-forward`` would only retry forever, and that other program might answer the health
    check.
    """
    daemons = {forward: _forward_daemon(cluster, forward) for forward in FORWARDS}
    to_start = [forward for forward, daemon in daemons.items() if not daemon.running()]
    taken = [forward for forward in to_start if not local_port_free(forward.local_port)]
    if taken:
        raise StartupError(
            "; ".join(
                f"{LOOPBACK}:{f.local_port} is taken, so service/{f.service} cannot be forwarded"
                f" there (`ss -ltnp 'sport = :{f.local_port}'` names what listens on it)"
                for f in taken
            )
            + "; stop it and run make up again"
        )
    for forward in to_start:
        daemons[forward].start()
    for forward, daemon in daemons.items():
        check = functools.partial(http_ok, forward.url + forward.health)
        daemon.wait_ready(check, timeout=60, what=f"{forward.url}{forward.health}")
    return list(FORWARDS)


def stop_forwards(cluster: Cluster) -> None:
    for forward in FORWARDS:
        _forward_daemon(cluster, forward).stop()


def api_key_command(scope: str) -> str:
    """How a user reads the chart's generated key of ``scope`` (printed, never stored
    elsewhere)."""
    key = API_KEYS[scope]
    return (
        f"kubectl -n {NAMESPACE} get secret {RELEASE}-credentials "
        f"-o jsonpath='{{.data.{key}}}' | base64 -d"
    )
