"""One real control plane per test session; every test gets a fresh namespace in it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tier0.stack.controlplane import ControlPlane

from .kube import Namespace, api_client

startup_seconds = pytest.StashKey[float]()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if startup_seconds in config.stash:
        seconds = config.stash[startup_seconds]
        terminalreporter.write_line(f"control plane started in {seconds:.1f} s")


@pytest.fixture(scope="session")
def control_plane(request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """etcd + kube-apiserver + kube-controller-manager, stopped by PID when the session ends."""
    plane = ControlPlane().start()
    request.config.stash[startup_seconds] = plane.startup_seconds
    yield plane
    # Keep certificates, etcd data and the servers' logs when anything failed: they explain it.
    failed = request.session.testsfailed > 0
    plane.stop(keep=failed)
    if failed:
        print(f"\ncontrol-plane logs kept in {plane.root}")


@pytest.fixture(scope="session")
def admin_api(control_plane: ControlPlane) -> Iterator[client.ApiClient]:
    with api_client(control_plane) as api:
        yield api


@pytest.fixture
def namespace(
    control_plane: ControlPlane, admin_api: client.ApiClient, tmp_path: Path
) -> Iterator[Namespace]:
    """A fresh namespace and a kubeconfig path whose context defaults to it."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(admin_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    kubeconfig = control_plane.admin_kubeconfig(tmp_path / "kubeconfig", namespace=name)
    yield Namespace(name, kubeconfig, control_plane, admin_api, tmp_path)
    # The namespace controller (in kube-controller-manager) finishes the deletion on its own.
    core.delete_namespace(name)
