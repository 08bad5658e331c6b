"""Run the pinned helm against charts/tier0 with a private home, and parse what it renders."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no stubs installed

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "tier0"
RELEASE = "tier0"
NAMESPACE = "tier0"
STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/version",
)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob")

Manifest = dict[str, Any]
# libyaml's loader when PyYAML was built with it: the full render parses several times faster.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class HelmError(AssertionError):
    """helm exited non-zero; the message carries its stderr."""


@dataclass(frozen=True)
class Helm:
    """The pinned helm binary with HELM_*_HOME under a temporary directory (no user config)."""

    binary: Path
    home: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        env.pop("KUBECONFIG", None)  # template and lint never need a cluster
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, env=env, check=False
        )

    def template(self, *args: str, release: str = RELEASE, namespace: str = NAMESPACE) -> Render:
        """Render the chart; raises HelmError with helm's message when it refuses."""
        proc = self.run("template", release, str(CHART), "--namespace", namespace, *args)
        if proc.returncode != 0:
            raise HelmError(proc.stderr.strip())
        docs = [doc for doc in yaml.load_all(proc.stdout, Loader=LOADER) if doc]
        return Render(release, namespace, docs)

    def refusal(self, *args: str) -> str:
        """helm's error for values it must refuse (fails the test if it renders)."""
        proc = self.run("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args)
        assert proc.returncode != 0, f"helm rendered {args} instead of refusing it"
        return proc.stderr


@dataclass(frozen=True)
class Render:
    """The objects of one `helm template`."""

    release: str
    namespace: str
    objects: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def named(self, kind: str, name: str) -> Manifest:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
        return found[0]

    def names(self, kind: str) -> set[str]:
        return {o["metadata"]["name"] for o in self.of_kind(kind)}

    def component(self, kind: str, component: str) -> list[Manifest]:
        return [
            o
            for o in self.of_kind(kind)
            if o["metadata"]["labels"]["app.kubernetes.io/component"] == component
        ]

    def workloads(self) -> Iterator[tuple[Manifest, Manifest]]:
        """(object, pod spec) of every Deployment, StatefulSet, Job, CronJob and test Pod."""
        for obj in self.objects:
            if obj["kind"] == "Pod":
                yield obj, obj["spec"]
            elif obj["kind"] == "CronJob":
                yield obj, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            elif obj["kind"] in WORKLOAD_KINDS:
                yield obj, obj["spec"]["template"]["spec"]

    def secret_data(self, name: str) -> dict[str, str]:
        data: Mapping[str, str] = self.named("Secret", name)["data"]
        return {key: base64.b64decode(value).decode() for key, value in data.items()}


def env_of(container: Manifest) -> dict[str, Manifest]:
    """A container's environment entries by name."""
    return {entry["name"]: entry for entry in container.get("env", [])}


def label_keys(obj: Any) -> Iterator[str]:
    """Every key of every labels/matchLabels/selector map anywhere in an object."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("labels", "matchLabels", "selector") and isinstance(value, dict):
                yield from (k for k in value if isinstance(k, str))
            yield from label_keys(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from label_keys(item)
