"""``tier0 operator --health-port``: kopf's liveness endpoint, for the Deployment's probe."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tier0.stack.base import LOOPBACK, free_port

from .kube import Namespace, wait_for
from .tier0region import install_crd

pytestmark = pytest.mark.controlplane

TIER0 = Path(sys.executable).parent / "tier0"


def _get(url: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None


def test_the_operator_answers_its_liveness_probe(namespace: Namespace) -> None:
    install_crd(namespace.plane)
    health, metrics = free_port(), free_port()
    env = {**os.environ, "KUBECONFIG": str(namespace.kubeconfig)}
    argv = [str(TIER0), "operator", "--namespace", namespace.name,
            "--health-port", str(health), "--metrics-port", str(metrics)]  # fmt: skip
    log = (namespace.workdir / "operator.log").open("wb")
    operator = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        status, body = wait_for(
            "the operator's /healthz", lambda: _get(f"http://{LOOPBACK}:{health}/healthz"), 60
        )
        assert status == 200
        assert body.startswith("{")  # kopf's probe results, as JSON
        scraped = _get(f"http://{LOOPBACK}:{metrics}/metrics")
        assert scraped is not None
        assert "tier0_uptime_seconds " in scraped[1]
    finally:
        operator.terminate()
        operator.wait(timeout=30)
        log.close()
    # Gone with the process: a probe would now fail and the kubelet restart the pod.
    assert _get(f"http://{LOOPBACK}:{health}/healthz") is None
