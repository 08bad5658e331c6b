"""The node tests' view of the cluster: the pinned kubectl in a namespace of the test's own."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controlplane.kube import wait_for
from tier0.cluster.components import NodeBinaries
from tier0.cluster.node import Cluster

__all__ = ["CHART", "Kube", "Manifest", "pod", "port_forward", "unique", "wait_for"]

Manifest = dict[str, Any]
CHART = Path(__file__).resolve().parents[2] / "charts" / "tier0"


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

    def output(self, *args: str) -> str:
        """kubectl's standard output; asserts success (a ``failover_load.Kubectl``)."""
        return self.run(*args).stdout

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


@contextmanager
def port_forward(kube: Kube, target: str, port: int) -> Iterator[str]:
    """``kubectl port-forward`` of ``target`` to a free loopback port; yields its base URL."""
    forward = subprocess.Popen(
        kube.argv("port-forward", target, f":{port}", "--address=127.0.0.1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=kube.env(),
    )
    try:
        assert forward.stdout is not None
        line = forward.stdout.readline()
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert match, f"unexpected port-forward output: {line!r}"
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        forward.terminate()
        forward.communicate(timeout=10)
