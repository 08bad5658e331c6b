"""CustomResourceDefinitions on the real API server: CRUD, watch and server-side validation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from .kube import Namespace, wait_for

pytestmark = pytest.mark.controlplane

GROUP, VERSION, PLURAL = "controlplane.tier0.io", "v1alpha1", "widgets"

WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 10},
                "maxSize": {"type": "integer"},
                "colour": {"type": "string", "enum": ["red", "green"]},
            },
            # A CEL rule: evaluated by the API server, so only a real one can prove it.
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.maxSize) || self.size <= self.maxSize",
                    "message": "size > maxSize",
                }
            ],
        },
        "status": {"type": "object", "properties": {"seen": {"type": "integer"}}},
    },
}


def widget_crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": WIDGET_SCHEMA},
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }


def as_dict(response: object) -> dict[str, Any]:
    """Custom-object calls return the decoded JSON, typed only as ``object``."""
    assert isinstance(response, dict)
    return response


@pytest.fixture(scope="module")
def widgets_crd(admin_api: client.ApiClient) -> Iterator[str]:
    """The Widget CRD, applied once and Established before any test uses it."""
    extensions = client.ApiextensionsV1Api(admin_api)
    name = widget_crd()["metadata"]["name"]
    # The client sends a plain dict as it is: the manifest stays readable as YAML would be.
    extensions.create_custom_resource_definition(widget_crd())  # type: ignore[arg-type]

    def established() -> bool:
        crd = extensions.read_custom_resource_definition(name)
        conditions = (crd.status and crd.status.conditions) or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    wait_for("the Widget CRD to be Established", established)
    yield name
    extensions.delete_custom_resource_definition(name)


@pytest.fixture
def widgets(namespace: Namespace, widgets_crd: str) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(namespace.api)


def test_create_patch_and_watch_a_custom_resource(
    namespace: Namespace, widgets: client.CustomObjectsApi
) -> None:
    ns, name = namespace.name, f"w-{uuid.uuid4().hex[:6]}"
    created = as_dict(
        widgets.create_namespaced_custom_object(
            GROUP, VERSION, ns, PLURAL, widget(name, size=2, colour="red")
        )
    )
    version = created["metadata"]["resourceVersion"]

    widgets.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name, {"spec": {"size": 3}})
    widgets.patch_namespaced_custom_object_status(
        GROUP, VERSION, ns, PLURAL, name, {"status": {"seen": 3}}
    )

    # Watching from the creation's resourceVersion replays both later writes, in order.
    stream = watch.Watch().stream(  # type: ignore[no-untyped-call]
        widgets.list_namespaced_custom_object,
        GROUP,
        VERSION,
        ns,
        PLURAL,
        resource_version=version,
        timeout_seconds=10,
    )
    events = []
    for event in stream:
        events.append(
            (event["type"], event["object"]["spec"]["size"], event["object"].get("status"))
        )
        if len(events) == 2:
            break
    assert events == [("MODIFIED", 3, None), ("MODIFIED", 3, {"seen": 3})]
    stored = as_dict(widgets.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name))
    assert stored["spec"] == {"size": 3, "colour": "red"}


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"size": 42}, "should be less than or equal to 10"),
        ({"size": 2, "colour": "blue"}, 'supported values: "red", "green"'),
        ({"colour": "red"}, "spec.size: Required value"),
        ({"size": 5, "maxSize": 3}, "size > maxSize"),
    ],
    ids=["maximum", "enum", "required", "cel-rule"],
)
def test_server_side_validation_rejects_invalid_widgets(
    namespace: Namespace, widgets: client.CustomObjectsApi, spec: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ApiException) as rejected:
        widgets.create_namespaced_custom_object(
            GROUP, VERSION, namespace.name, PLURAL, widget("invalid", **spec)
        )
    status = json.loads(str(rejected.value.body))
    assert (rejected.value.status, status["reason"]) == (422, "Invalid")
    assert complaint in status["message"]
    listed = as_dict(widgets.list_namespaced_custom_object(GROUP, VERSION, namespace.name, PLURAL))
    assert listed["items"] == []
