"""Operator test fixtures: real stores per module (the control plane is in tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client
from operator_env import CRD_FILE
from operator_stores import LocalStores, start_stores, stop_stores

from controlplane.kube import Namespace, fresh_namespace
from tier0.stack.controlplane import ControlPlane

CRD_NAME = "tier0regions.tier0.io"


@pytest.fixture(scope="module")
def stores(
    crd_installed: None, module_namespace: Namespace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStores]:
    """A Tier0Region with its Secret, PostgreSQL region1 (primary) + region2 (replica) run by
    their instance managers, Redis + 3 Sentinels, for one module."""
    root: Path = tmp_path_factory.mktemp("stores")
    started = start_stores(root, module_namespace)
    try:
        yield started
    finally:
        stop_stores(started)


@pytest.fixture(scope="session")
def crd_installed(control_plane: ControlPlane, admin_api: client.ApiClient) -> None:
    """crds/tier0region.yaml applied with the pinned kubectl and Established."""
    kubectl = str(control_plane.binaries.kubectl)
    env = {**os.environ, "KUBECONFIG": str(control_plane.kubeconfig)}
    subprocess.run([kubectl, "apply", "-f", str(CRD_FILE)], check=True, env=env, timeout=60)
    subprocess.run(
        [kubectl, "wait", "--for=condition=Established", "--timeout=30s", f"crd/{CRD_NAME}"],
        check=True,
        env=env,
        timeout=60,
    )


@pytest.fixture(scope="module")
def module_namespace(
    control_plane: ControlPlane,
    admin_api: client.ApiClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Namespace]:
    """Like the control-plane suite's ``namespace``, but shared by one module's scenario."""
    workdir = tmp_path_factory.mktemp("op")
    with fresh_namespace(control_plane, admin_api, workdir, prefix="op") as created:
        yield created
