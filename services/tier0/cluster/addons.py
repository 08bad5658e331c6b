"""The add-ons kind runs in every cluster, as pods here too: CoreDNS and a dynamic StorageClass.

CoreDNS answers for the cluster domain (and reverse lookups) only: with no ``forward`` plugin
there is no upstream, so no name lookup ever leaves this machine. The default StorageClass is
served by rancher's local-path provisioner, whose helper pods use the tier0 image for ``sh``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tier0.cluster import layout

Manifest = dict[str, Any]

COREDNS_NAMESPACE = "kube-system"
LOCAL_PATH_NAMESPACE = "local-path-storage"
STORAGE_CLASS = "standard"

# Two server blocks: the cluster's zones, and everything else answered NXDOMAIN at once (with no
# block for "." a client would get SERVFAIL, which resolvers report as a temporary failure).
COREFILE = f"""{layout.CLUSTER_DOMAIN}:53 in-addr.arpa:53 ip6.arpa:53 {{
    errors
    health {{
        lameduck 5s
    }}
    ready
    kubernetes {layout.CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        pods insecure
        ttl 30
    }}
    prometheus :9153
    cache 30
    loop
    reload
}}
.:53 {{
    errors
    template ANY ANY {{
        rcode NXDOMAIN
    }}
}}
"""


def _meta(name: str, namespace: str | None = None, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    return meta


def _account(name: str, namespace: str, rules: list[Manifest]) -> list[Manifest]:
    """A ServiceAccount with a ClusterRole of exactly ``rules``, bound to it."""
    rbac = "rbac.authorization.k8s.io/v1"
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace)},
        {"apiVersion": rbac, "kind": "ClusterRole", "metadata": _meta(name), "rules": rules},
        {
            "apiVersion": rbac,
            "kind": "ClusterRoleBinding",
            "metadata": _meta(name),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    ]


def _deployment(name: str, namespace: str, pod: Manifest, **labels: str) -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace, **labels),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def _restricted(*, add: tuple[str, ...] = ()) -> Manifest:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"], "add": list(add)},
    }


def coredns(image: str) -> list[Manifest]:
    labels = {"k8s-app": "kube-dns"}
    probe_port = {"health": 8080, "ready": 8181}
    container = {
        "name": "coredns",
        "image": image,
        "imagePullPolicy": "Never",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
        ],
        "livenessProbe": {"httpGet": {"path": "/health", "port": probe_port["health"]}},
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": probe_port["ready"]},
            "periodSeconds": 2,
        },
        "resources": {"requests": {"cpu": "50m", "memory": "40Mi"}, "limits": {"memory": "170Mi"}},
        "securityContext": _restricted(add=("NET_BIND_SERVICE",)),
        "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
    }
    pod = {
        "serviceAccountName": "coredns",
        "priorityClassName": "system-cluster-critical",
        # CoreDNS must not resolve through itself.
        "dnsPolicy": "Default",
        "containers": [container],
        "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
    }
    rules = [
        {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
         "verbs": ["list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
         "verbs": ["list", "watch"]},
    ]  # fmt: skip
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta("kube-dns", COREDNS_NAMESPACE, **labels),
        "spec": {
            "selector": labels,
            "clusterIP": layout.DNS_SERVICE_IP,
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                {"name": "metrics", "port": 9153, "protocol": "TCP"},
            ],
        },
    }
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta("coredns", COREDNS_NAMESPACE),
        "data": {"Corefile": COREFILE},
    }
    return [
        *_account("coredns", COREDNS_NAMESPACE, rules),
        config,
        _deployment("coredns", COREDNS_NAMESPACE, pod, **labels),
        service,
    ]


def _local_path_config(helper_image: str, volumes: Path) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta("local-path-config", LOCAL_PATH_NAMESPACE),
        "data": {
            "config.json": (
                '{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", '
                f'"paths": ["{volumes}"]}}]}}'
            ),
            "setup": '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
            "teardown": '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
            "helperPod.yaml": (
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: helper-pod\nspec:\n"
                "  containers:\n  - name: helper-pod\n"
                f"    image: {helper_image}\n    imagePullPolicy: Never\n"
            ),
        },
    }


def local_path_provisioner(image: str, helper_image: str, volumes: Path) -> list[Manifest]:
    """The provisioner, its RBAC and config, and the default StorageClass (volumes under
    ``volumes`` on the node)."""
    labels = {"app": "local-path-provisioner"}
    name = "local-path-provisioner"
    rules = [
        {"apiGroups": [""], "resources": ["nodes", "persistentvolumeclaims", "configmaps"],
         "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["endpoints", "persistentvolumes", "pods"],
         "verbs": ["*"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"],
         "verbs": ["get", "list", "watch"]},
    ]  # fmt: skip
    container = {
        "name": name,
        "image": image,
        "imagePullPolicy": "Never",
        "command": [
            "local-path-provisioner", "--debug", "start",
            "--config", "/etc/config/config.json", "--helper-image", helper_image,
            "--service-account-name", name,
        ],
        "env": [
            {"name": "POD_NAMESPACE",
             "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "CONFIG_MOUNT_PATH", "value": "/etc/config/"},
        ],
        "securityContext": _restricted(),
        "volumeMounts": [{"name": "config", "mountPath": "/etc/config/"}],
    }  # fmt: skip
    pod = {
        "serviceAccountName": name,
        "containers": [container],
        "volumes": [{"name": "config", "configMap": {"name": "local-path-config"}}],
    }
    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "rancher.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer",
        "reclaimPolicy": "Delete",
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(LOCAL_PATH_NAMESPACE)},
        *_account(name, LOCAL_PATH_NAMESPACE, rules),
        _local_path_config(helper_image, volumes),
        _deployment(name, LOCAL_PATH_NAMESPACE, pod, **labels),
        storage_class,
    ]
