"""A Tier0Region on the real API server, the real stores behind it, and `tier0 operator` as a
separate process (so tests can kill -9 it and start another)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client
from operator_stores import GROUP, NAME, PLURAL, VERSION, LocalStores
from prometheus_client.parser import text_string_to_metric_families

from controlplane.kube import Namespace
from tier0.cluster.health import wait_until
from tier0.stack.base import free_port

CRD_FILE = Path(__file__).resolve().parents[2] / "crds" / "tier0region.yaml"
TIER0 = Path(sys.executable).parent / "tier0"
T = TypeVar("T")
# Short, so a test sees a standby operator take over within seconds.
LEADER_LEASE_SECONDS = 4


def until(what: str, check: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Poll ``check`` until it returns something truthy; that value."""
    return wait_until(what, check, timeout, every=0.1, error=AssertionError)


@dataclass
class OperatorEnv:
    ns: Namespace
    stores: LocalStores
    operator: subprocess.Popen[bytes] | None = None
    runs: int = 0
    metrics_port: int = field(default_factory=free_port)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.ns.api)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.ns.api)

    def resource(self) -> dict[str, Any]:
        found: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.ns.name, PLURAL, NAME
        )
        return found

    def status(self) -> dict[str, Any]:
        return dict(self.resource().get("status") or {})

    def wait_status(
        self, what: str, check: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = self.status()
            if check(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; status: {status}\n{self.log_tail()}")

    def wait_ready(self, region: str, timeout: float = 30.0) -> dict[str, Any]:
        def ready(s: dict[str, Any]) -> bool:
            conditions = {c["type"]: c["status"] for c in s.get("conditions", [])}
            return (
                s.get("phase") == "Ready"
                and s.get("activeRegion") == region
                and not s.get("failover")
                and conditions.get("Ready") == "True"
                and conditions.get("Replicating") == "True"
            )

        return self.wait_status(f"Ready on {region}", ready, timeout)

    def start_operator(self) -> None:
        self.operator = self.spawn_operator(metrics_port=self.metrics_port)

    def spawn_operator(self, metrics_port: int | None = None) -> subprocess.Popen[bytes]:
        """Another ``tier0 operator`` process (they elect a leader through a Lease)."""
        self.runs += 1
        argv = [str(TIER0), "operator", "--namespace", self.ns.name]
        argv += ["--leader-lease-seconds", str(LEADER_LEASE_SECONDS)]
        if metrics_port is not None:
            argv += ["--metrics-port", str(metrics_port)]
        env = {**os.environ, "KUBECONFIG": str(self.ns.kubeconfig)}
        # The child keeps its own copy of the descriptor; ours closes at once.
        with (self.ns.workdir / f"operator-{self.runs}.log").open("wb") as log:
            return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)

    def kill_operator(self, sig: int = signal.SIGKILL) -> None:
        if self.operator is not None and self.operator.poll() is None:
            self.operator.send_signal(sig)
            self.operator.wait(timeout=15)
        self.operator = None

    def log_tail(self, lines: int = 40) -> str:
        path = self.ns.workdir / f"operator-{self.runs}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def patch_active(self, region: str) -> None:
        self.patch_spec({"activeRegion": region})

    def patch_spec(self, spec: dict[str, Any]) -> None:
        patch = json.dumps({"spec": spec})
        self.ns.run("kubectl", "patch", "t0r", NAME, "--type=merge", "-p", patch)

    def annotate(self, key: str, value: str | None) -> None:
        """Set (or with None remove) an annotation on the Tier0Region."""
        change = f"{key}=" + value if value is not None else f"{key}-"
        self.ns.run("kubectl", "annotate", "--overwrite", "t0r", NAME, change)

    def events(self, reason: str) -> list[client.CoreV1Event]:
        """Events about the Tier0Region with this reason, oldest first."""
        found = self.core.list_namespaced_event(
            self.ns.name, field_selector=f"involvedObject.name={NAME},reason={reason}"
        ).items
        return sorted(found, key=lambda e: e.metadata.creation_timestamp)

    def metrics(self) -> dict[str, float]:
        """The operator's /metrics, one entry per sample: ``name{label="value",...}``."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
        return samples

    def role_of(self, kind: str, name: str) -> str | None:
        read = self.core.read_namespaced_pod if kind == "pod" else self.core.read_namespaced_service
        labels = read(name, self.ns.name).metadata.labels or {}
        return labels.get("tier0.io/role")
