"""Pods really run on the node: the imported image, logs, exec, probes, volumes, RBAC."""

from __future__ import annotations

import ipaddress
import json
import secrets

import pytest

from node.kube import Kube, pod, unique, wait_for
from tier0.cluster import layout

pytestmark = pytest.mark.node

SLEEP = ["sleep", "infinity"]


def test_kubectl_run_of_the_project_image_prints_its_logs(kube: Kube, tier0_image: str) -> None:
    kube.run(
        "run", "hello", f"--image={tier0_image}", "--image-pull-policy=Never", "--restart=Never",
        "--command", "--", "sh", "-c", "echo hello-from-the-node; tier0 --help",
    )  # fmt: skip
    kube.wait("jsonpath={.status.phase}=Succeeded", "pod/hello")
    logs = kube.run("logs", "hello").stdout
    assert "hello-from-the-node" in logs
    assert "Usage: tier0" in logs  # the CLI's own help, from the image's virtualenv
    address = ipaddress.ip_address(kube.get("pod", "hello")["status"]["podIP"])
    assert address in ipaddress.ip_network(layout.NODE_POD_CIDR)


def test_exec_runs_a_command_inside_the_container(kube: Kube, tier0_image: str) -> None:
    kube.apply(pod("shell", tier0_image, SLEEP))
    kube.wait("condition=Ready", "pod/shell")
    release = kube.exec("shell", "cat", "/etc/os-release").stdout
    assert "bookworm" in release
    assert kube.exec("shell", "sh", "-c", "exit 3", check=False).returncode == 3


def test_a_failing_liveness_probe_restarts_the_container(kube: Kube, tier0_image: str) -> None:
    probe = {
        "exec": {"command": ["cat", "/tmp/healthy"]},
        "periodSeconds": 1,
        "failureThreshold": 1,
    }
    command = ["sh", "-c", "touch /tmp/healthy; exec sleep infinity"]
    kube.apply(pod("probed", tier0_image, command, container={"livenessProbe": probe}))
    kube.wait("condition=Ready", "pod/probed")
    assert _restarts(kube, "probed") == 0
    kube.exec("probed", "rm", "/tmp/healthy")
    wait_for("a restart by the liveness probe", lambda: _restarts(kube, "probed") >= 1)
    events = kube.run("get", "events", "--field-selector=involvedObject.name=probed").stdout
    assert "Liveness probe failed" in events
    # The restarted container made the file again, so it stays up.
    kube.wait("condition=Ready", "pod/probed")


def _restarts(kube: Kube, name: str) -> int:
    statuses = kube.get("pod", name)["status"].get("containerStatuses", [])
    return int(statuses[0]["restartCount"]) if statuses else 0


def test_a_statefulset_volume_keeps_its_data_across_pod_deletion(
    kube: Kube, tier0_image: str
) -> None:
    token = secrets.token_hex(8)
    script = f"test -f /data/token || echo {token} > /data/token; exec sleep infinity"
    template = pod("data", tier0_image, ["sh", "-c", script])
    template["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "data"},
        "spec": {
            "serviceName": "data",
            "replicas": 1,
            "selector": {"matchLabels": {"app": "data"}},
            "template": {"metadata": template["metadata"], "spec": template["spec"]},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "64Mi"}},
                    },
                }
            ],
        },
    }
    kube.apply(statefulset)
    kube.wait("condition=Ready", "pod/data-0", timeout=120)
    claim = kube.get("pvc", "data-data-0")
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["storageClassName"] == "standard"  # the default class, not named here
    first_uid = kube.get("pod", "data-0")["metadata"]["uid"]
    assert kube.exec("data-0", "cat", "/data/token").stdout.strip() == token

    kube.run("delete", "pod", "data-0", "--wait=true")
    wait_for(
        "the StatefulSet to recreate its pod",
        lambda: (
            kube.run("get", "pod", "data-0", "-o", "json", check=False).returncode == 0
            and json.loads(kube.run("get", "pod", "data-0", "-o", "json").stdout)["metadata"]["uid"]
            != first_uid
        ),
    )
    kube.wait("condition=Ready", "pod/data-0", timeout=120)
    assert kube.exec("data-0", "cat", "/data/token").stdout.strip() == token


def test_a_service_account_token_is_denied_without_a_role_and_allowed_with_one(
    kube: Kube, tier0_image: str
) -> None:
    account = unique("reader")
    kube.run("create", "serviceaccount", account)
    kube.apply(pod("client", tier0_image, SLEEP, serviceAccountName=account))
    kube.wait("condition=Ready", "pod/client")
    assert _list_pods_from_inside(kube) == 403
    kube.run("create", "role", "pod-reader", "--verb=list", "--resource=pods")
    kube.run(
        "create", "rolebinding", "pod-reader", "--role=pod-reader",
        f"--serviceaccount={kube.namespace}:{account}",
    )  # fmt: skip
    wait_for("RBAC to allow the account", lambda: _list_pods_from_inside(kube) == 200)


# Run inside the pod with Debian's python3: the API through the `kubernetes` Service, with the
# pod's projected token and the cluster CA, exactly as an in-cluster client does.
IN_CLUSTER_LIST = """
import ssl, sys, urllib.error, urllib.request
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
token = open(sa + "/token").read()
namespace = open(sa + "/namespace").read()
url = f"https://kubernetes.default.svc/api/v1/namespaces/{namespace}/pods"
request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
context = ssl.create_default_context(cafile=sa + "/ca.crt")
try:
    print(urllib.request.urlopen(request, context=context, timeout=10).status)
except urllib.error.HTTPError as exc:
    print(exc.code)
"""


def _list_pods_from_inside(kube: Kube) -> int:
    return int(kube.exec("client", "python3", "-c", IN_CLUSTER_LIST).stdout.strip())
