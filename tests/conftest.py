"""Session-wide fixtures: the real data stores and the real control plane, started once each."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from controlplane.kube import Namespace, api_client, fresh_namespace
from tier0.rag.embeddings import LocalOnnxEmbedder
from tier0.stack.controlplane import ControlPlane
from tier0.stack.harness import Harness

# The browser tests' Playwright fixtures (tests/browser and tests/node use them).
pytest_plugins = ["browser.dashboard_page"]

STARTUP_KEY = pytest.StashKey[float]()
CONTROL_PLANE_STARTUP_KEY = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """All stores as local processes; their logs are kept when any test failed."""
    harness = Harness()
    with harness:
        request.config.stash[STARTUP_KEY] = harness.startup_seconds
        yield harness
        harness.keep = request.session.testsfailed > 0


@pytest.fixture(scope="session")
def control_plane(request: pytest.FixtureRequest) -> Iterator[ControlPlane]:
    """etcd + kube-apiserver + kube-controller-manager, stopped by PID when the session ends."""
    plane = ControlPlane().start()
    request.config.stash[CONTROL_PLANE_STARTUP_KEY] = plane.startup_seconds
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
    with fresh_namespace(control_plane, admin_api, tmp_path) as created:
        yield created


@pytest.fixture(scope="session")
def local_embedder() -> LocalOnnxEmbedder:
    """The local ONNX embedding model, loaded once for the unit and component suites."""
    return LocalOnnxEmbedder()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print start-up times (budgets we watch, not assertions)."""
    seconds = config.stash.get(STARTUP_KEY, None)
    if seconds is not None:
        terminalreporter.write_line(f"tier0 stack (all data stores) up in {seconds:.1f} s")
    seconds = config.stash.get(CONTROL_PLANE_STARTUP_KEY, None)
    if seconds is not None:
        terminalreporter.write_line(f"control plane started in {seconds:.1f} s")


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger("tier0").setLevel(logging.INFO)
