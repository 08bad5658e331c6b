"""Node benchmark: warm ``cluster up`` to a Ready node with CoreDNS and storage Ready, and pod
start latency with the image present.

Run as root from the repository root with ``.venv/bin/python -m benchmarks.node`` (or ``make
bench BENCH=node``). It takes a running node down first (a warm start means binaries and images
are cached, not that the node is up). Baselines measured in the same run:
- for ``up``: the kubelet-less control plane alone (etcd + kube-apiserver + controller-manager
  from ``tier0.stack.controlplane``), the part of ``up`` no node can skip;
- for pod start: the same image started directly in containerd (``ctr run``, no kubelet, no
  API server, no CNI), the runtime's floor.
Pod start latency is from ``kubectl apply`` of a Pod until its Ready condition, one at a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import uuid

from rich.console import Console
from rich.table import Table

from tier0.cluster.components import NodeBinaries
from tier0.cluster.node import Cluster
from tier0.stack.controlplane import ControlPlane

console = Console(highlight=False)


def measure_up(cluster: Cluster) -> float:
    cluster.down()
    started = time.monotonic()
    cluster.up()
    return time.monotonic() - started


def measure_control_plane() -> float:
    plane = ControlPlane()
    started = time.monotonic()
    plane.start()
    seconds = time.monotonic() - started
    plane.stop()
    return seconds


def _kubectl(cluster: Cluster, *args: str, stdin: str | None = None) -> str:
    argv = [str(NodeBinaries.find().kubectl), f"--kubeconfig={cluster.kubeconfig}", *args]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, check=True).stdout


def pod_start_seconds(cluster: Cluster, image: str, namespace: str) -> float:
    name = f"p-{uuid.uuid4().hex[:8]}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {"name": "main", "image": image, "imagePullPolicy": "Never",
                 "command": ["sleep", "infinity"]}
            ],
        },
    }  # fmt: skip
    started = time.monotonic()
    _kubectl(cluster, "apply", "-f", "-", stdin=json.dumps(manifest))
    _kubectl(cluster, "-n", namespace, "wait", "--for=condition=Ready", f"pod/{name}",
             "--timeout=120s")  # fmt: skip
    seconds = time.monotonic() - started
    _kubectl(cluster, "-n", namespace, "delete", "pod", name, "--wait=false")
    return seconds


def wait_default_account(cluster: Cluster, namespace: str) -> None:
    """Pods are refused until the namespace has its ``default`` ServiceAccount."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            _kubectl(cluster, "-n", namespace, "get", "serviceaccount", "default")
            return
        except subprocess.CalledProcessError:
            time.sleep(0.2)
    raise RuntimeError(f"namespace {namespace} got no default ServiceAccount")


def ctr_run_seconds(cluster: Cluster, image: str) -> float:
    bins = NodeBinaries.find()
    name = f"bench-{uuid.uuid4().hex[:8]}"
    argv = [str(bins.ctr), "--address", str(cluster.paths.containerd_socket), "-n", "k8s.io",
            "run", "--rm", image, name, "true"]  # fmt: skip
    started = time.monotonic()
    subprocess.run(argv, capture_output=True, check=True)
    return time.monotonic() - started


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=20, help="pods started one after another")
    args = parser.parse_args()

    cluster = Cluster(progress=lambda step, s: console.print(f"  {step}: {s:.1f} s"))
    console.print("control plane alone (baseline) ...")
    plane = measure_control_plane()
    console.print("warm cluster up (after down) ...")
    up = measure_up(cluster)
    image = cluster.image("tier0")
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    _kubectl(cluster, "create", "namespace", namespace)
    wait_default_account(cluster, namespace)
    pods = [pod_start_seconds(cluster, image, namespace) for _ in range(args.pods)]
    runs = [ctr_run_seconds(cluster, image) for _ in range(args.pods)]
    _kubectl(cluster, "delete", "namespace", namespace, "--wait=false")

    table = Table(title="node benchmark")
    for column in ("figure", "value", "baseline", "ratio"):
        table.add_column(column)
    table.add_row("cluster up -> node + CoreDNS + storage Ready", f"{up:.1f} s",
                  f"control plane alone {plane:.1f} s", f"{up / plane:.2f}x")  # fmt: skip
    for share in (0.5, 0.95):
        pod, run = percentile(pods, share), percentile(runs, share)
        table.add_row(f"pod start p{share * 100:.0f} (apply -> Ready)", f"{pod:.2f} s",
                      f"ctr run {run:.2f} s", f"{pod / run:.2f}x")  # fmt: skip
    table.add_row("pod start mean", f"{statistics.mean(pods):.2f} s",
                  f"ctr run {statistics.mean(runs):.2f} s", "")  # fmt: skip
    console.print(table)
    for step, seconds in cluster.timings.items():
        console.print(f"  up step {step}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
