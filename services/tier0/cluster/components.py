"""The node's processes, each a ``Daemon`` with the command line that this cluster needs.

Order matters and lives in ``node``: containerd and etcd first, then kube-apiserver, then the
controllers, scheduler, kubelet and kube-proxy. Every binary is a pinned build from
``tier0 setup`` (Kubernetes, etcd, crictl) or a Debian package (containerd, runc, CNI plugins).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tier0.cluster import layout
from tier0.cluster.certs import NodePki
from tier0.cluster.daemon import Daemon
from tier0.cluster.layout import ClusterPaths
from tier0.setup import gotools
from tier0.stack.base import LOOPBACK
from tier0.stack.controlplane import (
    FRONT_PROXY_USER,
    SERVICE_ACCOUNT_ISSUER,
    require_executables,
)


@dataclass(frozen=True)
class NodeBinaries:
    """Where every program of the node is; ``find`` names what is missing."""

    containerd: Path
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubelet: Path
    kube_proxy: Path
    kubectl: Path
    crictl: Path
    ctr: Path

    @classmethod
    def find(cls) -> NodeBinaries:
        k8s = gotools.KUBERNETES

        def debian(name: str) -> Path:
            return Path(shutil.which(name) or f"/usr/bin/{name}")

        found = cls(
            containerd=debian("containerd"),
            etcd=gotools.ETCD.path("etcd"),
            kube_apiserver=k8s.path("kube-apiserver"),
            kube_controller_manager=k8s.path("kube-controller-manager"),
            kube_scheduler=k8s.path("kube-scheduler"),
            kubelet=k8s.path("kubelet"),
            kube_proxy=k8s.path("kube-proxy"),
            kubectl=k8s.path("kubectl"),
            crictl=gotools.CRICTL.path("crictl"),
            ctr=debian("ctr"),
        )
        return require_executables(found)


@dataclass(frozen=True)
class Ports:
    """The loopback ports chosen at ``up`` (the kubelet's are fixed, see ``layout``)."""

    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int


def _daemon(paths: ClusterPaths, name: str, argv: list[str]) -> Daemon:
    return Daemon(name=name, argv=argv, log_path=paths.log(name), pid_file=paths.pid_file(name))


def containerd(paths: ClusterPaths, bins: NodeBinaries) -> Daemon:
    argv = [str(bins.containerd), "--config", str(paths.config / "containerd.toml")]
    return _daemon(paths, "containerd", [*argv, "--log-level", "warn"])


def etcd(paths: ClusterPaths, bins: NodeBinaries, ports: Ports) -> Daemon:
    client = f"http://{LOOPBACK}:{ports.etcd_client}"
    peer = f"http://{LOOPBACK}:{ports.etcd_peer}"
    argv = [
        str(bins.etcd),
        "--name=tier0-node",
        f"--data-dir={paths.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=tier0-node={peer}",
        # A disposable local cluster: skipping fsync makes every API write much faster.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]
    return _daemon(paths, "etcd", argv)


def kube_apiserver(paths: ClusterPaths, bins: NodeBinaries, pki: NodePki, ports: Ports) -> Daemon:
    argv = [
        str(bins.kube_apiserver),
        f"--etcd-servers=http://{LOOPBACK}:{ports.etcd_client}",
        # Pods reach it through the `kubernetes` Service at the node address, users on loopback.
        "--bind-address=0.0.0.0",
        f"--advertise-address={layout.NODE_IP}",
        f"--secure-port={ports.apiserver}",
        f"--tls-cert-file={pki.cert('apiserver')}",
        f"--tls-private-key-file={pki.key('apiserver')}",
        f"--client-ca-file={pki.cert('ca')}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={pki.sa_pub}",
        f"--service-account-signing-key-file={pki.sa_key}",
        f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        f"--kubelet-client-certificate={pki.cert('apiserver-kubelet-client')}",
        f"--kubelet-client-key={pki.key('apiserver-kubelet-client')}",
        f"--kubelet-certificate-authority={pki.cert('ca')}",
        "--kubelet-preferred-address-types=InternalIP",
        f"--requestheader-client-ca-file={pki.cert('front-proxy-ca')}",
        f"--requestheader-allowed-names={FRONT_PROXY_USER}",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={pki.cert('front-proxy-client')}",
        f"--proxy-client-key-file={pki.key('front-proxy-client')}",
        "--allow-privileged=true",
        f"--cert-dir={paths.root / 'apiserver-certs'}",
        "--profiling=false",
    ]
    return _daemon(paths, "kube-apiserver", argv)


def _controller_argv(pki: NodePki, name: str, port: int) -> list[str]:
    """Flags kube-controller-manager and kube-scheduler share: identity, serving, no election."""
    kubeconfig = pki.kubeconfig(name)
    return [
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        # One node, one copy of each: nothing to elect, and no Lease writes every 2 s.
        "--leader-elect=false",
    ]


def kube_controller_manager(
    paths: ClusterPaths, bins: NodeBinaries, pki: NodePki, ports: Ports
) -> Daemon:
    argv = [
        str(bins.kube_controller_manager),
        *_controller_argv(pki, "controller-manager", ports.controller_manager),
        f"--cert-dir={paths.root / 'controller-manager-certs'}",
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={pki.sa_key}",
        f"--root-ca-file={pki.cert('ca')}",
        f"--cluster-signing-cert-file={pki.cert('ca')}",
        f"--cluster-signing-key-file={pki.key('ca')}",
        "--cluster-name=tier0",
        "--allocate-node-cidrs=true",
        f"--cluster-cidr={layout.POD_CIDR}",
        "--node-cidr-mask-size=24",
        f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
        f"--flex-volume-plugin-dir={paths.root / 'flexvolume'}",
    ]
    return _daemon(paths, "kube-controller-manager", argv)


def kube_scheduler(paths: ClusterPaths, bins: NodeBinaries, pki: NodePki, ports: Ports) -> Daemon:
    argv = [str(bins.kube_scheduler), *_controller_argv(pki, "scheduler", ports.scheduler)]
    return _daemon(paths, "kube-scheduler", [*argv, f"--cert-dir={paths.root / 'scheduler-certs'}"])


def kubelet(paths: ClusterPaths, bins: NodeBinaries, pki: NodePki) -> Daemon:
    argv = [
        str(bins.kubelet),
        f"--config={paths.config / 'kubelet.yaml'}",
        f"--kubeconfig={pki.kubeconfig('kubelet')}",
        f"--root-dir={paths.kubelet_root}",
        f"--cert-dir={paths.kubelet_root / 'pki'}",
        f"--node-ip={layout.NODE_IP}",
        f"--hostname-override={layout.NODE_NAME}",
        "--v=1",
    ]
    return _daemon(paths, "kubelet", argv)


def kube_proxy(paths: ClusterPaths, bins: NodeBinaries) -> Daemon:
    argv = [str(bins.kube_proxy), f"--config={paths.config / 'kube-proxy.yaml'}", "--v=1"]
    return _daemon(paths, "kube-proxy", argv)
