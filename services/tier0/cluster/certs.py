"""Every certificate of the node cluster, made at ``up`` and written under the state directory.

One CA signs the serving certificates (API server, kubelet) and every client identity, as
kubeadm does; the identities are the ones Kubernetes' bootstrap RBAC policy already grants
(``system:kube-scheduler``, ``system:kube-proxy``, ``system:node:<name>`` in ``system:nodes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tier0.cluster import layout
from tier0.stack.base import LOOPBACK
from tier0.stack.controlplane import ADMIN_USER, FRONT_PROXY_USER, write_kubeconfig
from tier0.stack.kubepki import CertificateAuthority, KeyPair, service_account_key

API_SERVING_HOSTS = (
    LOOPBACK,
    "localhost",
    layout.NODE_IP,
    layout.API_SERVICE_IP,
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    f"kubernetes.default.svc.{layout.CLUSTER_DOMAIN}",
)

# name -> (user, groups): each gets a client certificate and a kubeconfig.
CLIENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": (ADMIN_USER, ("system:masters",)),
    "controller-manager": ("system:kube-controller-manager", ()),
    "scheduler": ("system:kube-scheduler", ()),
    "kube-proxy": ("system:kube-proxy", ()),
    "kubelet": (f"system:node:{layout.NODE_NAME}", ("system:nodes",)),
}


@dataclass(frozen=True)
class NodePki:
    """Paths of the files ``create`` wrote (the directory layout is fixed)."""

    directory: Path

    def cert(self, name: str) -> Path:
        return self.directory / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    def kubeconfig(self, name: str) -> Path:
        return self.directory / f"{name}.kubeconfig"

    @property
    def sa_key(self) -> Path:
        return self.directory / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.directory / "sa.pub"

    @classmethod
    def create(cls, directory: Path, *, apiserver_url: str) -> NodePki:
        """Write the CA, serving and client certificates and a kubeconfig per client."""
        directory.mkdir(parents=True, exist_ok=True)
        pki = cls(directory)
        ca = CertificateAuthority.create("tier0-node-ca")
        ca.pair.write(directory, "ca")
        ca.issue_server("kube-apiserver", API_SERVING_HOSTS).write(directory, "apiserver")
        ca.issue_server(
            layout.NODE_NAME, (layout.NODE_NAME, layout.NODE_IP, LOOPBACK, "localhost")
        ).write(directory, "kubelet-serving")
        # The API server's identity towards kubelets (logs, exec, port-forward).
        ca.issue_client("kube-apiserver-kubelet-client", ("system:masters",)).write(
            directory, "apiserver-kubelet-client"
        )
        service_account_key(directory)
        front_proxy = CertificateAuthority.create("tier0-node-front-proxy-ca")
        front_proxy.pair.write(directory, "front-proxy-ca")
        front_proxy.issue_client(FRONT_PROXY_USER).write(directory, "front-proxy-client")
        ca_pem = ca.pair.cert_pem
        for name, (user, groups) in CLIENTS.items():
            pair: KeyPair = ca.issue_client(user, groups)
            pair.write(directory, name)
            write_kubeconfig(
                pki.kubeconfig(name), server=apiserver_url, ca_pem=ca_pem, user=user, client=pair
            )
        return pki
