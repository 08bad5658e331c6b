"""Small helpers shared by the control-plane tests: polling, clients and the pinned CLIs."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kubernetes import client

from tier0.cluster.health import wait_until
from tier0.stack.controlplane import ControlPlane

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll ``probe`` until it returns something truthy; controllers act asynchronously.
    A timeout is an AssertionError: the test failed (tests catch it to say what they saw)."""
    return wait_until(what, probe, timeout, every=0.2, error=AssertionError)


def api_client(plane: ControlPlane, *, token: str | None = None) -> client.ApiClient:
    """A client that verifies the server with the generated CA; admin unless ``token`` is given."""
    config = client.Configuration(host=plane.server)
    config.ssl_ca_cert = str(plane.ca_cert)
    if token is None:
        config.cert_file, config.key_file = str(plane.pki.admin_cert), str(plane.pki.admin_key)
    else:
        config.api_key = {"authorization": f"Bearer {token}"}
    return client.ApiClient(config)


@dataclass(frozen=True)
class Namespace:
    """A fresh namespace and an admin kubeconfig whose context defaults to it."""

    name: str
    kubeconfig: Path
    plane: ControlPlane
    api: client.ApiClient
    workdir: Path

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the pinned ``kubectl`` or ``helm`` build against this namespace; check the result."""
        binary = {"kubectl": self.plane.binaries.kubectl, "helm": self.plane.binaries.helm}[tool]
        # Keep the CLIs' caches and config out of $HOME, and make sure no ambient KUBECONFIG wins.
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "KUBECACHEDIR": str(self.workdir / "kube-cache"),
            "HELM_CACHE_HOME": str(self.workdir / "helm-cache"),
            "HELM_CONFIG_HOME": str(self.workdir / "helm-config"),
            "HELM_DATA_HOME": str(self.workdir / "helm-data"),
        }
        argv = [str(binary), *args]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr}"
        return proc


@contextmanager
def fresh_namespace(
    plane: ControlPlane, api: client.ApiClient, workdir: Path, prefix: str = "t"
) -> Iterator[Namespace]:
    """Create a uniquely named namespace (deleted on exit) with a kubeconfig defaulting to it."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    kubeconfig = plane.admin_kubeconfig(workdir / "kubeconfig", namespace=name)
    try:
        yield Namespace(name, kubeconfig, plane, api, workdir)
    finally:
        # The namespace controller (in kube-controller-manager) finishes the deletion on its own.
        core.delete_namespace(name)
