"""The node tests' view of the cluster: the pinned kubectl in a namespace of the test's own."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tier0.cluster.components import NodeBinaries
from tier0.cluster.node import Cluster

T = TypeVar("T")
Manifest = dict[str, Any]


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Poll ``probe`` until it returns something truthy (the kubelet acts asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass(frozen=True)
class Kube:
    """kubectl as admin, defaulting to ``namespace``; its caches live in ``workdir``."""

    cluster: Cluster
    namespace: str
    workdir: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KUBECONFIG": str(self.cluster.kubeconfig),
            "KUBECACHEDIR": str(self.workdir / "kube-cache"),
        }

    def argv(self, *args: str) -> list[str]:
        kubectl = str(NodeBinaries.find().kubectl)
        return [kubectl, f"--namespace={self.namespace}", *args]

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self.argv(*args), input=input, capture_output=True, text=True, env=self.env(),
            timeout=timeout, check=False,
        )  # fmt: skip
        if check:
            assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
        return proc

    def apply(self, *manifests: Manifest) -> None:
        listing = {"apiVersion": "v1", "kind": "List", "items": list(manifests)}
        self.run("apply", "-f", "-", input=json.dumps(listing))

    def get(self, kind: str, name: str) -> Manifest:
        result: Manifest = json.loads(self.run("get", kind, name, "-o", "json").stdout)
        return result

    def wait(self, condition: str, target: str, timeout: int = 90) -> None:
        self.run(
            "wait", f"--for={condition}", target, f"--timeout={timeout}s", timeout=timeout + 10
        )

    def exec(self, pod: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("exec", pod, "--", *command, check=check)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def pod(name: str, image: str, command: list[str], **spec: Any) -> Manifest:
    """A Pod of one container of ``image`` (imported, never pulled) running ``command``."""
    container: Manifest = {
        "name": "main",
        "image": image,
        "imagePullPolicy": "Never",
        "command": command,
        **spec.pop("container", {}),
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": spec.pop("labels", {"app": name})},
        "spec": {"containers": [container], "terminationGracePeriodSeconds": 1, **spec},
    }
