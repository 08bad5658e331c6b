"""kube-controller-manager acts on the objects: a Deployment gets a ReplicaSet and Pods."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from .kube import Namespace, wait_for

pytestmark = pytest.mark.controlplane


def deployment(name: str, replicas: int) -> client.V1Deployment:
    labels = {"app.kubernetes.io/name": name}
    # Never pulled: no kubelet runs here, so no image is ever fetched.
    container = client.V1Container(name="app", image="registry.invalid/tier0/none:0")
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels), spec=client.V1PodSpec(containers=[container])
    )
    spec = client.V1DeploymentSpec(
        replicas=replicas, selector=client.V1LabelSelector(match_labels=labels), template=template
    )
    return client.V1Deployment(metadata=client.V1ObjectMeta(name=name), spec=spec)


def replica_sets(apps: client.AppsV1Api, namespace: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = apps.list_namespaced_replica_set(namespace).to_dict(True)[
        "items"
    ]
    return listed


def pods(core: client.CoreV1Api, namespace: str, count: int) -> list[dict[str, Any]] | None:
    listed: list[dict[str, Any]] = core.list_namespaced_pod(namespace).to_dict(True)["items"]
    return listed if len(listed) == count else None


def test_deployment_gets_a_replicaset_and_pending_pods(namespace: Namespace) -> None:
    """The deployment and replicaset controllers create the ReplicaSet and its Pods.

    There is no kubelet and no scheduler in this control plane, so the Pods stay Pending with no
    node: the test proves the controllers and admission, not that containers run.
    """
    apps, core, ns = (
        client.AppsV1Api(namespace.api),
        client.CoreV1Api(namespace.api),
        namespace.name,
    )
    created = apps.create_namespaced_deployment(ns, deployment("web", replicas=2)).to_dict(True)

    [replica_set] = wait_for("the Deployment's ReplicaSet", lambda: replica_sets(apps, ns))
    owners = replica_set["metadata"]["ownerReferences"]
    assert [(o["kind"], o["uid"]) for o in owners] == [("Deployment", created["metadata"]["uid"])]

    made = wait_for("two Pods from the ReplicaSet", lambda: pods(core, ns, 2))
    assert {p["metadata"]["ownerReferences"][0]["name"] for p in made} == {
        replica_set["metadata"]["name"]
    }
    assert {p["status"]["phase"] for p in made} == {"Pending"}
    assert all(p["spec"].get("nodeName") is None for p in made)
    # ServiceAccount admission gave them the account the serviceaccount controller created.
    assert all(p["spec"]["serviceAccountName"] == "default" for p in made)
