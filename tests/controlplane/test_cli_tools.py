"""The pinned kubectl and helm builds against the control plane, with the generated kubeconfig."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from kubernetes import client

from .kube import Namespace

pytestmark = pytest.mark.controlplane

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: greeting
data:
  message: hello
"""


def test_kubectl_apply_and_get(namespace: Namespace) -> None:
    manifest = namespace.workdir / "configmap.yaml"
    manifest.write_text(CONFIGMAP)
    applied = namespace.run("kubectl", "apply", "-f", str(manifest))
    assert "configmap/greeting created" in applied.stdout

    got = json.loads(namespace.run("kubectl", "get", "configmap", "greeting", "-o", "json").stdout)
    assert got["metadata"]["namespace"] == namespace.name
    assert got["data"] == {"message": "hello"}
    version = json.loads(namespace.run("kubectl", "version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == version["clientVersion"]["gitVersion"]


def write_tiny_chart(directory: Path) -> Path:
    chart = directory / "tiny"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: tiny\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("message: hello\n")
    template = """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-tiny
          labels:
            app.kubernetes.io/instance: {{ .Release.Name }}
        data:
          message: {{ .Values.message | quote }}
        """
    (chart / "templates" / "configmap.yaml").write_text(textwrap.dedent(template))
    return chart


def test_helm_template_and_install(namespace: Namespace) -> None:
    chart = write_tiny_chart(namespace.workdir)
    rendered = namespace.run("helm", "template", "demo", str(chart), "--set", "message=hi").stdout
    assert "name: demo-tiny" in rendered
    assert 'message: "hi"' in rendered

    namespace.run("helm", "install", "demo", str(chart), "--namespace", namespace.name, "--wait")
    stored = client.CoreV1Api(namespace.api).read_namespaced_config_map("demo-tiny", namespace.name)
    assert stored.data == {"message": "hello"}
    releases = json.loads(namespace.run("helm", "list", "-n", namespace.name, "-o", "json").stdout)
    assert [(r["name"], r["status"]) for r in releases] == [("demo", "deployed")]
