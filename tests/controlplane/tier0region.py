"""A Tier0Region on the real API server for the API's and the dashboard's failover tests: the CRD
from crds/, a resource with a status as the operator writes it, and the API's ServiceAccount
with only the permissions the chart grants it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tier0.stack.controlplane import ControlPlane

from .kube import Namespace, api_client, wait_for

GROUP, VERSION, PLURAL, NAME = "tier0.io", "v1alpha1", "tier0regions", "tier0"
CRD_NAME = f"{PLURAL}.{GROUP}"
CRD_FILE = Path(__file__).resolve().parents[2] / "crds" / "tier0region.yaml"
API_ACCOUNT = "tier0-api"
# What the API's failover endpoints need, and nothing more (the chart's Role for the API).
API_RULES = (
    client.V1PolicyRule(api_groups=[GROUP], resources=[PLURAL], verbs=["get", "patch"]),
    client.V1PolicyRule(api_groups=[""], resources=["events"], verbs=["list"]),
)


def install_crd(plane: ControlPlane) -> None:
    """Apply crds/tier0region.yaml with the pinned kubectl (idempotent: other suites apply it
    too) and wait until it is served."""
    env = {**os.environ, "KUBECONFIG": str(plane.kubeconfig)}
    kubectl = str(plane.binaries.kubectl)
    for argv in (
        [kubectl, "apply", "-f", str(CRD_FILE)],
        [kubectl, "wait", "--for=condition=Established", "--timeout=30s", f"crd/{CRD_NAME}"],
    ):
        subprocess.run(argv, check=True, env=env, timeout=60, capture_output=True)


def sample_status(*, active: str = "region1", epoch: int = 2) -> dict[str, Any]:
    """A status like the operator's after two switchovers, the last one into ``active``."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    other = "region2" if active == "region1" else "region1"
    return {
        "phase": "Ready",
        "activeRegion": active,
        "observedGeneration": 1,
        "epoch": epoch,
        "replicationLagBytes": 128,
        "primaryLsn": "0/3000148",
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "PrimaryWritable", "message":
             f"{active} accepts writes", "lastTransitionTime": now},
            {"type": "Replicating", "status": "True", "reason": "Streaming", "message":
             f"{other} streams from {active}", "lastTransitionTime": now},
        ],
        "lastFailover": {
            "from": other, "to": active, "reason": "planned", "startedAt": now,
            "totalSeconds": 1.42,
            "steps": {"precheck": 0.02, "fence": 0.11, "catchUp": 0.05, "promote": 0.61,
                      "sentinel": 0.38, "routing": 0.09, "validate": 0.16},
        },
    }  # fmt: skip


def create_region(ns: Namespace, *, status: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Tier0Region ``tier0`` in ``ns`` (two regions, region1 active), with ``status``."""
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Tier0Region",
        "metadata": {"name": NAME},
        "spec": {
            "activeRegion": "region1",
            "regions": [
                {"name": name, "postgres": {"host": "127.0.0.1", "port": port},
                 "redis": {"host": "127.0.0.1", "port": port + 1000}}
                for name, port in (("region1", 15432), ("region2", 15433))
            ],
        },
    }  # fmt: skip
    custom = client.CustomObjectsApi(ns.api)
    custom.create_namespaced_custom_object(GROUP, VERSION, ns.name, PLURAL, body)
    if status is not None:
        set_status(ns, status)
    return read_region(ns)


def set_status(ns: Namespace, status: dict[str, Any]) -> None:
    """Write ``status`` as the operator would (through the status subresource)."""
    client.CustomObjectsApi(ns.api).patch_namespaced_custom_object_status(
        GROUP, VERSION, ns.name, PLURAL, NAME, {"status": status}
    )


def read_region(ns: Namespace) -> dict[str, Any]:
    found: dict[str, Any] = client.CustomObjectsApi(ns.api).get_namespaced_custom_object(
        GROUP, VERSION, ns.name, PLURAL, NAME
    )
    return found


def record_event(ns: Namespace, region: dict[str, Any], reason: str, message: str) -> None:
    """An Event on the resource, like those the operator emits for each transition."""
    now = datetime.now(UTC)
    body = {
        "metadata": {"generateName": f"{NAME}.", "namespace": ns.name},
        "involvedObject": {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "Tier0Region", "name": NAME,
            "namespace": ns.name, "uid": region["metadata"]["uid"],
        },
        "reason": reason, "message": message, "type": "Normal", "count": 1,
        "firstTimestamp": now, "lastTimestamp": now,
        "source": {"component": "tier0-operator"},
    }  # fmt: skip
    client.CoreV1Api(ns.api).create_namespaced_event(ns.name, body)


def api_service_account_kubeconfig(ns: Namespace, path: Path) -> Path:
    """A kubeconfig for the API's ServiceAccount, bound to a Role of ``API_RULES`` only."""
    core = client.CoreV1Api(ns.api)
    rbac = client.RbacAuthorizationV1Api(ns.api)
    meta = client.V1ObjectMeta(name=API_ACCOUNT)
    core.create_namespaced_service_account(ns.name, client.V1ServiceAccount(metadata=meta))
    rbac.create_namespaced_role(ns.name, client.V1Role(metadata=meta, rules=list(API_RULES)))
    subject = client.RbacV1Subject(kind="ServiceAccount", name=API_ACCOUNT, namespace=ns.name)
    role_ref = client.V1RoleRef(
        api_group="rbac.authorization.k8s.io", kind="Role", name=API_ACCOUNT
    )
    rbac.create_namespaced_role_binding(
        ns.name, client.V1RoleBinding(metadata=meta, role_ref=role_ref, subjects=[subject])
    )
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)
    )
    issued = core.create_namespaced_service_account_token(API_ACCOUNT, ns.name, request)
    token = issued.status.token
    _wait_until_allowed(ns, token)
    ca = base64.b64encode(ns.plane.ca_cert.read_bytes()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "t", "cluster": {"server": ns.plane.server, "certificate-authority-data": ca}}
        ],
        "users": [{"name": API_ACCOUNT, "user": {"token": token}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": API_ACCOUNT}}],
        "current-context": "t",
    }
    path.write_text(json.dumps(config))
    return path


def _wait_until_allowed(ns: Namespace, token: str) -> None:
    # The RBAC authorizer learns of new bindings through an informer: a moment after creation.
    def allowed() -> bool:
        with api_client(ns.plane, token=token) as api:
            try:
                client.CoreV1Api(api).list_namespaced_event(ns.name, limit=1)
            except ApiException as exc:
                if exc.status == 403:
                    return False
                raise
        return True

    wait_for("the API's RoleBinding to take effect", allowed)
