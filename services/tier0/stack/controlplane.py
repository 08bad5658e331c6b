"""A real Kubernetes control plane as local processes: etcd, kube-apiserver, controller-manager.

The binaries are the pinned builds from ``tier0 setup`` (never whatever kubectl is on PATH).
Everything lives in one temp dir: the PKI, etcd's data, each server's log and the kubeconfigs.
There is no kubelet and no scheduler, so Pods are created by the controllers but stay Pending.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from tier0.setup import gotools
from tier0.stack.base import (
    LOOPBACK,
    ServerProcess,
    StartupError,
    free_port,
    log_tail,
    start_on_free_ports,
)
from tier0.stack.kubepki import CertificateAuthority, KeyPair, service_account_key

log = logging.getLogger(__name__)

SERVICE_CIDR = "10.0.0.0/24"
# The first address of SERVICE_CIDR: the in-cluster ``kubernetes`` Service.
SERVICE_IP = "10.0.0.1"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVING_HOSTS = (
    LOOPBACK,
    "localhost",
    SERVICE_IP,
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
ADMIN_USER = "tier0-admin"
FRONT_PROXY_USER = "front-proxy-client"
READY_TIMEOUT = 60.0


B = TypeVar("B")


def require_executables(found: B) -> B:
    """``found`` (a dataclass of paths) if every path is executable; else ``StartupError``
    naming the missing ones."""
    missing = [str(p) for p in vars(found).values() if not os.access(p, os.X_OK)]
    if missing:
        raise StartupError(f"not installed: {', '.join(missing)}; run `tier0 setup`")
    return found


@dataclass(frozen=True)
class Binaries:
    """Paths of the pinned builds the control plane and its clients use."""

    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kubectl: Path
    helm: Path

    @classmethod
    def cached(cls) -> Binaries:
        """The builds in Tier-0's cache; raises ``StartupError`` naming any that are missing."""
        k8s = gotools.KUBERNETES
        found = cls(
            etcd=gotools.ETCD.path("etcd"),
            kube_apiserver=k8s.path("kube-apiserver"),
            kube_controller_manager=k8s.path("kube-controller-manager"),
            kubectl=k8s.path("kubectl"),
            helm=gotools.HELM.path("helm"),
        )
        return require_executables(found)


@dataclass(frozen=True)
class Pki:
    """Where the control plane's certificates and keys were written."""

    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    sa_key: Path
    sa_pub: Path
    front_proxy_ca: Path
    front_proxy_cert: Path
    front_proxy_key: Path
    admin: KeyPair
    admin_cert: Path
    admin_key: Path
    controller_manager: KeyPair

    @classmethod
    def create(cls, directory: Path) -> Pki:
        directory.mkdir(parents=True, exist_ok=True)
        ca = CertificateAuthority.create()
        ca_cert, ca_key = ca.pair.write(directory, "ca")
        serving_cert, serving_key = ca.issue_server("kube-apiserver", SERVING_HOSTS).write(
            directory, "apiserver"
        )
        sa_key, sa_pub = service_account_key(directory)
        # A second CA, as kubeadm makes: the API server vouches for users it proxies to
        # aggregated API servers with this client certificate, and publishes the CA in
        # kube-system/extension-apiserver-authentication, which the controller-manager reads.
        front_proxy = CertificateAuthority.create("tier0-front-proxy-ca")
        front_proxy_ca, _ = front_proxy.pair.write(directory, "front-proxy-ca")
        front_proxy_cert, front_proxy_key = front_proxy.issue_client(FRONT_PROXY_USER).write(
            directory, "front-proxy-client"
        )
        # system:masters is bound to cluster-admin by the bootstrap RBAC policy.
        admin = ca.issue_client(ADMIN_USER, ("system:masters",))
        admin_cert, admin_key = admin.write(directory, "admin")
        return cls(
            ca_cert=ca_cert,
            ca_key=ca_key,
            serving_cert=serving_cert,
            serving_key=serving_key,
            sa_key=sa_key,
            sa_pub=sa_pub,
            front_proxy_ca=front_proxy_ca,
            front_proxy_cert=front_proxy_cert,
            front_proxy_key=front_proxy_key,
            admin=admin,
            admin_cert=admin_cert,
            admin_key=admin_key,
            # The bootstrap policy grants this user exactly what the controller-manager needs.
            controller_manager=ca.issue_client("system:kube-controller-manager"),
        )


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    ca_pem: bytes,
    user: str,
    client: KeyPair,
    namespace: str | None = None,
) -> Path:
    """A self-contained kubeconfig (credentials embedded). JSON is valid YAML for every client."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    context = {"cluster": "tier0", "user": user}
    if namespace is not None:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "tier0",
                "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(client.cert_pem),
                    "client-key-data": b64(client.key_pem),
                },
            }
        ],
        "contexts": [{"name": "tier0", "context": context}],
        "current-context": "tier0",
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


class ControlPlane:
    """Start with ``with ControlPlane() as plane:``; ``plane.kubeconfig`` is the admin's."""

    def __init__(self, *, keep: bool = False, binaries: Binaries | None = None) -> None:
        self.keep = keep
        # Resolved before the temp dir exists, so a missing build leaves nothing behind.
        self.binaries = binaries or Binaries.cached()
        self.root = Path(tempfile.mkdtemp(prefix="tier0-controlplane-"))
        self.startup_seconds = 0.0
        self.apiserver_port = 0
        self._servers: list[ServerProcess] = []
        self._pki: Pki | None = None

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.apiserver_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "admin.kubeconfig"

    @property
    def pki(self) -> Pki:
        if self._pki is None:
            raise RuntimeError("the control plane is not started")
        return self._pki

    @property
    def ca_cert(self) -> Path:
        return self.pki.ca_cert

    def admin_kubeconfig(self, path: Path, *, namespace: str | None = None) -> Path:
        """Write another admin kubeconfig, optionally defaulting to ``namespace``."""
        return write_kubeconfig(
            path,
            server=self.server,
            ca_pem=self.pki.ca_cert.read_bytes(),
            user=ADMIN_USER,
            client=self.pki.admin,
            namespace=namespace,
        )

    def pids(self) -> dict[str, int]:
        return {server.name: server.pid for server in self._servers if server.running()}

    def start(self) -> ControlPlane:
        """Start etcd, then kube-apiserver (until /readyz), then kube-controller-manager."""
        started = time.monotonic()
        binaries = self.binaries
        try:
            self._pki = Pki.create(self.root / "pki")
            etcd_url = self._start_etcd(binaries.etcd)
            self._start_apiserver(binaries.kube_apiserver, etcd_url)
            self.admin_kubeconfig(self.kubeconfig)
            self._start_controller_manager(binaries.kube_controller_manager)
        except BaseException:
            self.stop(keep=True)
            raise
        self.startup_seconds = time.monotonic() - started
        log.info(
            "control plane up in %.1f s at %s (%s)", self.startup_seconds, self.server, self.root
        )
        return self

    def stop(self, *, keep: bool | None = None) -> None:
        """Stop every server by its own PID, newest first; remove the temp dir unless kept."""
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()
        if self.keep if keep is None else keep:
            log.info("control plane files and logs kept in %s", self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Keep the logs when the block failed: they are what explains the failure.
        self.stop(keep=self.keep or exc_type is not None)

    def _launch(
        self, name: str, argv_for: Callable[[list[int]], list[str]], ports: int = 1
    ) -> ServerProcess:
        """Start ``argv_for(ports)`` on fresh ports, ready once the first accepts connections;
        new ports and a new argv when one of them turns out taken."""
        picked = [free_port() for _ in range(ports)]

        def build() -> ServerProcess:
            return ServerProcess(
                name=name, argv=argv_for(picked), port=picked[0], workdir=self.root
            )

        def repick() -> None:
            picked[:] = [free_port() for _ in range(ports)]

        server = start_on_free_ports(build, repick)
        self._servers.append(server)
        return server

    def _start_etcd(self, etcd: Path) -> str:
        server = self._launch("etcd", lambda ports: self._etcd_argv(etcd, *ports), ports=2)
        return f"http://{LOOPBACK}:{server.port}"

    def _etcd_argv(self, etcd: Path, client: int, peer: int) -> list[str]:
        client_url, peer_url = f"http://{LOOPBACK}:{client}", f"http://{LOOPBACK}:{peer}"
        return [
            str(etcd),
            "--name=tier0",
            f"--data-dir={self.root / 'etcd-data'}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=tier0={peer_url}",
            # Throwaway data: skipping fsync makes every API write several times faster.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ]

    def _start_apiserver(self, apiserver: Path, etcd_url: str) -> None:
        server = self._launch(
            "kube-apiserver", lambda ports: self._apiserver_argv(apiserver, etcd_url, ports[0])
        )
        self.apiserver_port = server.port
        # The port opens seconds before the post-start hooks (RBAC roles, CRD APIs) finish.
        self._wait_ok(server, "/readyz")

    def _apiserver_argv(self, apiserver: Path, etcd_url: str, port: int) -> list[str]:
        pki = self.pki
        return [
            str(apiserver),
            f"--etcd-servers={etcd_url}",
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            f"--secure-port={port}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            f"--requestheader-client-ca-file={pki.front_proxy_ca}",
            f"--requestheader-allowed-names={FRONT_PROXY_USER}",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki.front_proxy_cert}",
            f"--proxy-client-key-file={pki.front_proxy_key}",
            "--allow-privileged=true",
            # Endpoints may not hold loopback addresses, and nothing in this cluster can dial the
            # `kubernetes` Service anyway: don't let the reconciler log a rejection every 10 s.
            "--endpoint-reconciler-type=none",
            f"--cert-dir={self.root / 'apiserver-certs'}",
            "--profiling=false",
        ]

    def _start_controller_manager(self, controller_manager: Path) -> None:
        pki = self.pki
        kubeconfig = write_kubeconfig(
            self.root / "controller-manager.kubeconfig",
            server=self.server,
            ca_pem=pki.ca_cert.read_bytes(),
            user="system:kube-controller-manager",
            client=pki.controller_manager,
        )
        server = self._launch(
            "kube-controller-manager",
            lambda ports: self._controller_manager_argv(controller_manager, kubeconfig, ports[0]),
        )
        # The port opens before the controllers run; the first thing the serviceaccount
        # controller does is give `default` its account, which Pods need to be admitted.
        self._wait_ok(server, "/api/v1/namespaces/default/serviceaccounts/default")

    def _controller_manager_argv(
        self, controller_manager: Path, kubeconfig: Path, port: int
    ) -> list[str]:
        pki = self.pki
        return [
            str(controller_manager),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--bind-address={LOOPBACK}",
            f"--secure-port={port}",
            f"--cert-dir={self.root / 'controller-manager-certs'}",
            # Each controller acts as its own service account, so RBAC is exercised as in a
            # real cluster rather than through one all-powerful identity.
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki.sa_key}",
            f"--root-ca-file={pki.ca_cert}",
            f"--cluster-signing-cert-file={pki.ca_cert}",
            f"--cluster-signing-key-file={pki.ca_key}",
            "--leader-elect=false",
            "--cluster-name=tier0",
            # Its default is under /usr/libexec, which it would create on the host.
            f"--flex-volume-plugin-dir={self.root / 'flexvolume'}",
        ]

    def _ssl_context(self) -> ssl.SSLContext:
        """Verifies the server against our CA and presents the admin client certificate."""
        context = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        context.load_cert_chain(str(self.pki.admin_cert), str(self.pki.admin_key))
        return context

    def _wait_ok(self, server: ServerProcess, path: str) -> None:
        """Poll the API server's ``path`` as admin until it answers 200 while ``server`` runs."""
        context = self._ssl_context()
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if not server.running():
                break
            try:
                with urllib.request.urlopen(f"{self.server}{path}", context=context, timeout=5):
                    return
            except urllib.error.HTTPError as exc:
                with exc:  # an unclosed error response is a ResourceWarning
                    last = f"HTTP {exc.code}: {exc.read().decode(errors='replace')[-500:]}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise StartupError(
            f"{server.name} not ready: GET {path}: {last}; log {server.log_path}:\n"
            f"{log_tail(server.log_path)}"
        )
