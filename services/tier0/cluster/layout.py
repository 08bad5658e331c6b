"""Where the single-node cluster lives: its addresses, names and directories.

The cluster uses kind's address ranges. Every address stays on this machine: the node's own
address is the gateway of a bridge we create (no traffic leaves through it), the Service range
is routed onto that bridge, and forwarded pod traffic may reach only pods.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tier0.paths import cache_dir

NODE_NAME = "tier0-node"
CLUSTER_DOMAIN = "cluster.local"

POD_CIDR = "10.244.0.0/16"
# The node's share of POD_CIDR; its first address is the bridge's, and the node's InternalIP.
NODE_POD_CIDR = "10.244.0.0/24"
NODE_IP = "10.244.0.1"
BRIDGE = "tier0br0"
CNI_NETWORK = "tier0"

SERVICE_CIDR = "10.96.0.0/12"
# The first Service address is the API server's (`kubernetes.default`), the tenth CoreDNS's.
API_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"

# Fixed node ports, as on any kubelet (kube-proxy's are kept on loopback).
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 10248
PROXY_HEALTHZ_PORT = 10256
PROXY_METRICS_PORT = 10249

# Our iptables chains; kube-proxy's own are removed with `kube-proxy --cleanup`.
CHAIN_PREFIX = "TIER0-"
FORWARD_CHAIN = "TIER0-FORWARD"
SERVICES_CHAIN = "TIER0-SERVICES"


def state_dir() -> Path:
    """The cluster's runtime state: ``$TIER0_CLUSTER_DIR`` or ``~/.local/state/tier0/cluster``."""
    explicit = os.environ.get("TIER0_CLUSTER_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tier0" / "cluster"


@dataclass(frozen=True)
class ClusterPaths:
    """Every path the cluster writes; all but the image store are removed by ``down``."""

    root: Path

    @classmethod
    def default(cls) -> ClusterPaths:
        return cls(state_dir())

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "kubelet"

    @property
    def pod_logs(self) -> Path:
        return self.root / "pod-logs"

    @property
    def cni_config(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def cni_state(self) -> Path:
        return self.root / "cni" / "ipam"

    @property
    def volumes(self) -> Path:
        """Where the local-path provisioner creates PersistentVolumes (a hostPath)."""
        return self.root / "volumes"

    @property
    def containerd_state(self) -> Path:
        return self.root / "containerd-state"

    @property
    def containerd_socket(self) -> Path:
        return self.run / "containerd.sock"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.root / "admin.kubeconfig"

    @property
    def containerd_root(self) -> Path:
        """containerd's content and snapshots: kept across ``down``, so images stay imported."""
        return cache_dir() / "containerd"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.run / f"{component}.pid"
